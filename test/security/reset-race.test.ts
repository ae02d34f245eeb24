import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO } from '../helpers/kit';
import { MAX_FAILED_PER_DAY } from '../../src/services/reset';

/**
 * Issue 10 #3: 20 phones guess Otieno's year of birth at the same moment. The failure limit is
 * consumed before anything is checked, so at most MAX_FAILED_PER_DAY guesses are evaluated however
 * many race, and once it is spent the phone with the right year hears exactly what the others hear.
 */
const OTIENO = { id: DEMO.otieno.id, year: '1985' };
const MISMATCH = /^CON The details do not match our records\. Try again\.\nReset login code\nEnter your ID number:/;
const WRONG_PHONE = /^CON This is not the phone registered on your account/;
const LOCKED = 'END Too many attempts. Try again tomorrow or visit a Huduma Centre with your ID card.';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** Phones that are not Otieno's, each with English saved (so the dial opens on the main menu). */
async function phones(n: number, from: number): Promise<UssdPhone[]> {
  const list = Array.from({ length: n }, (_, i) => new UssdPhone(t.app, `+2547009${String(from + i).padStart(5, '0')}`));
  for (const p of list) await t.rt.services.preferences.setLanguage(p.phoneNumber, 'en');
  return list;
}

const evaluatedRows = async () =>
  (await t.rt.db('audit_log').where({ id_hash: t.rt.services.blind.idNumber(OTIENO.id), action: 'login_reset' })).filter((r) => r.outcome !== 'locked');

test('20 concurrent guesses of a year of birth: at most the limit evaluated, and the right year is not singled out', async () => {
  const racers = await phones(20, 1);
  const RIGHT = 7; // the one phone that knows the year
  // Every phone walks to "Enter your year of birth" first, then all answer at once.
  await Promise.all(racers.map((p) => p.dial()));
  await Promise.all(racers.map((p) => p.reply('2')));
  const asked = await Promise.all(racers.map((p) => p.reply(OTIENO.id)));
  for (const a of asked) expect(a).toMatch(/^CON Enter your year of birth/);

  const answers = await Promise.all(racers.map((p, i) => p.reply(i === RIGHT ? OTIENO.year : String(1950 + i))));

  const evaluated = answers.filter((a) => MISMATCH.test(a) || WRONG_PHONE.test(a));
  const locked = answers.filter((a) => a === LOCKED);
  expect(evaluated.length + locked.length).toBe(20);
  expect(evaluated.length).toBeLessThanOrEqual(MAX_FAILED_PER_DAY);
  expect((await evaluatedRows()).length).toBe(evaluated.length);
  // Unless its guess happened to be among the few evaluated, the right year got the same refusal.
  if (!WRONG_PHONE.test(answers[RIGHT] as string)) expect(answers[RIGHT]).toBe(LOCKED);

  // With the limit spent, the right year from yet another phone gets what a wrong year gets.
  const [right, wrong] = await phones(2, 100);
  const ends: string[] = [];
  for (const [p, year] of [[right, OTIENO.year], [wrong, '1970']] as const) {
    await p!.dial();
    await p!.reply('2');
    const atId = await p!.reply(OTIENO.id);
    ends.push(atId.startsWith('END') ? atId : await p!.reply(year));
  }
  expect(ends[0]).toBe(LOCKED);
  expect(ends[1]).toBe(LOCKED);
  expect((await evaluatedRows()).length).toBe(evaluated.length);
});

test('the right ID and year from unregistered phones count as failures: the fourth phone is locked out', async () => {
  const kiprono = { id: DEMO.kiprono.id, year: '1995' };
  const four = await phones(4, 200);
  const answers: string[] = [];
  for (const p of four) {
    await p.dial();
    await p.reply('2');
    const atId = await p.reply(kiprono.id);
    answers.push(atId.startsWith('END') ? atId : await p.reply(kiprono.year));
  }
  expect(answers.slice(0, 3).every((a) => WRONG_PHONE.test(a))).toBe(true);
  expect(answers[3]).toBe(LOCKED);
});
