import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, readRecord } from '../helpers/kit';

/**
 * Issue 10 #14: a USSD session belongs to the phone that dialled it. The same sessionId arriving
 * from another number neither continues that session nor gets its last reply: the other number
 * starts a conversation of its own, at the first screen.
 */
const MAIN_EN = 'CON Simu e-Citizen\n1. Application status\n2. Reset login code\n3. Book Huduma appointment\n4. My appointments\n5. Language';
const HERS = /^CON Your applications:\n1\. Passport/;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** Wanjiku's session on a personal screen: the list of her applications. */
async function wanjikuAtHerApplications(): Promise<UssdPhone> {
  const a = new UssdPhone(t.app, DEMO.wanjiku.phone);
  // An earlier test's session may be offered for continuing: start again.
  if (/You did not finish/.test(await a.dial())) await a.reply('2');
  await a.reply('1');
  expect(await a.reply('1')).toMatch(HERS);
  return a;
}

async function otherPhone(n: string): Promise<UssdPhone> {
  const b = new UssdPhone(t.app, n);
  await t.rt.services.preferences.setLanguage(n, 'en');
  return b;
}

test('the same sessionId and text from another phone does not get the last reply', async () => {
  const a = await wanjikuAtHerApplications();
  const b = await otherPhone('+254700000901');
  b.sessionId = a.sessionId;
  const seen = await b.post(a.text);
  expect(seen).not.toMatch(HERS);
  expect(seen).toBe(MAIN_EN);
  const record = await readRecord(t, a.sessionId);
  expect(record?.phoneHash).toBe(t.rt.services.blind.phone(b.phoneNumber));
  expect(record?.hops).toBe(1);
});

test('the same sessionId from another phone with the next input does not continue the session', async () => {
  const a = await wanjikuAtHerApplications();
  const b = await otherPhone('+254700000902');
  b.sessionId = a.sessionId;
  // "1" on A's list would open A's passport status.
  const seen = await b.post(`${a.text}*1`);
  expect(seen).toBe(MAIN_EN);
  // B goes on in a conversation of its own.
  expect(await b.post(`${a.text}*1*1`)).toMatch(/^CON Application status/);
});

test('the phone that dialled is not handed the other phone\'s state on a redial either', async () => {
  const a = await wanjikuAtHerApplications();
  const b = await otherPhone('+254700000903');
  b.sessionId = a.sessionId;
  await b.post(a.text);
  await b.post(`${a.text}*1`); // B's own Application status menu, now the record under A's sessionId
  const redial = new UssdPhone(t.app, DEMO.wanjiku.phone);
  // Wanjiku's own dropped session (her list) is still hers to continue, but not B's menu in its place.
  const first = await redial.dial();
  expect(first).not.toMatch(/You did not finish/);
  expect(first).toBe(MAIN_EN);
});
