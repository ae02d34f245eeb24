import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, readRecord } from '../helpers/kit';
import { dumpStore } from '../helpers/store';
import { Api, GPO, OTIENO, addStaff, tokenFor } from '../staff/helpers';

/**
 * Issue 10 #9: a one-time code shown on a USSD screen (a new login code, a login code whose SMS
 * failed, a Huduma Centre consent code) is never kept in clear in Redis: not in the session's
 * last reply, not in its flow snapshot. A retried hop still gets a correct, non-empty answer (the
 * same screen with the code masked), and nothing is done twice.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const MASK = '******';
const inClear = (code: string) => new RegExp(`(?<!\\d)${code}(?!\\d)`);
/** Every store key of this run (the test's own prefix) that holds the code's digits. */
const keysHolding = async (code: string) => (await dumpStore(t)).filter((e) => inClear(code).test(e.value)).map((e) => e.key);
const count = async (table: string, where: Record<string, unknown>) => Number((await t.rt.db(table).where(where).count({ n: '*' }).first())?.n);

async function resetCode(phone: UssdPhone, id: string, year: string): Promise<string> {
  if (/You did not finish/.test(await phone.dial())) await phone.reply('2');
  await phone.reply('2');
  await phone.reply(id);
  return phone.reply(year);
}

test('a new login code: shown once, not in Redis; a retry answers the same screen masked and issues nothing', async () => {
  const wanjiku = new UssdPhone(t.app, DEMO.wanjiku.phone);
  const screen = await resetCode(wanjiku, DEMO.wanjiku.id, '1990');
  const code = /code is (\d{6})/.exec(screen)?.[1] as string;
  expect(code).toMatch(/^\d{6}$/);
  expect(await keysHolding(code)).toEqual([]);

  const retried = await wanjiku.retry();
  expect(retried).toBe(screen.replace(code, MASK));
  expect(retried).toMatch(/^END Your new e-Citizen login code is \*{6}\. .*We also sent it by SMS/);
  const citizen = await t.rt.db('citizens').where({ phone: DEMO.wanjiku.phone }).first('id');
  expect(await count('login_codes', { citizen_id: citizen.id })).toBe(1);
  expect(await count('sms_outbound', { to_phone: DEMO.wanjiku.phone })).toBe(1);
});

test('a login code whose SMS failed, shown on the next dial: not in Redis, masked when the screen is shown again', async () => {
  const hussein = { phone: DEMO.hussein.phone, id: DEMO.hussein.id };
  await t.rt.services.preferences.setLanguage(hussein.phone, 'en');
  const code = /code is (\d{6})/.exec(await resetCode(new UssdPhone(t.app, hussein.phone), hussein.id, '1988'))?.[1] as string;
  const citizen = await t.rt.db('citizens').where({ phone: hussein.phone }).first('id');
  const lc = await t.rt.db('login_codes').where({ citizen_id: citizen.id }).orderBy('id', 'desc').first();
  await t.rt.db('sms_outbound').where({ id: lc.sms_id }).update({ status: 'failed' });

  const p = new UssdPhone(t.app, hussein.phone);
  const first = await p.dial();
  expect(first).toMatch(new RegExp(`^CON Your last login code could not be sent by SMS: ${code}\\.`));
  expect(await keysHolding(code)).toEqual([]);
  expect(JSON.stringify((await readRecord(t, p.sessionId))?.state)).not.toMatch(inClear(code));

  expect(await p.retry()).toBe(first.replace(code, MASK));
  // A wrong choice shows the screen again: from the session, without the code.
  expect(await p.reply('7')).toBe(`CON Invalid choice. Try again.\n${first.replace(code, MASK).replace(/^CON /, '')}`);
  expect(await p.reply('1')).toMatch(/^CON Simu e-Citizen\n1\. Application status/);
  expect(await keysHolding(code)).toEqual([]);
});

test('a staff consent code shown on the citizen’s screen: not in Redis; a retry is masked, and the code still works at the counter', async () => {
  const agent = new Api(t, await tokenFor(t, (await addStaff(t, 'redis.agent', 'agent', GPO)).id));
  const visit = (await agent.post('/citizens/lookup', { idNumber: OTIENO.id })).body.visit.id as number;
  expect((await agent.post(`/visits/${visit}/consent-code`)).status).toBe(202);

  const phone = new UssdPhone(t.app, OTIENO.phone);
  const screen = await phone.dial();
  const code = /nambari hii: (\d{6})\./.exec(screen)?.[1] as string;
  expect(code).toMatch(/^\d{6}$/);
  expect(await keysHolding(code)).toEqual([]);

  const retried = await phone.retry();
  expect(retried).toBe(screen.replace(code, MASK));
  expect(await phone.reply('1')).toMatch(/^CON Simu e-Citizen\n1\. Hali ya ombi/);
  expect(await keysHolding(code)).toEqual([]);

  const ok = await agent.post(`/visits/${visit}/consent`, { code });
  expect(ok.status).toBe(200);
});
