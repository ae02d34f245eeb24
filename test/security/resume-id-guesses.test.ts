import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO } from '../helpers/kit';
import { MAX_ID_FAILURES_PER_PHONE } from '../../src/services/applications';

/**
 * A session dropped on "My applications" asks the ID number again on Continue. Whoever holds the
 * phone could once test a guess of its owner's ID number on every redial, without end; those tries
 * now count against the phone's status-check limit (the same one as "enter the applicant's ID"),
 * and past it even the right ID number answers "too many tries".
 */
const OFFER = 'CON You did not finish last time.\n1. Continue where you left off\n2. Start again';
const REASK = 'CON Welcome back. For privacy, enter your ID number:\n0 Back\n00 Home';
const NOT_FOUND = 'END We found no application with those details. Check the numbers and try again.';
const LOCKED = 'END Too many tries. For privacy, try again tomorrow.';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** Opens "My applications", drops the session, redials, continues, and answers the ID prompt with `guess`. */
async function guessOnResume(phone: UssdPhone, guess: string): Promise<string> {
  // After a right guess the last session is left on the list: start again from the main menu.
  if ((await phone.dial()) === OFFER) await phone.reply('2');
  await phone.reply('1');
  expect(await phone.reply('1')).toMatch(/^CON Your applications:/);
  expect(await phone.dial()).toBe(OFFER);
  expect(await phone.reply('1')).toBe(REASK);
  return phone.reply(guess);
}

// Both tests use Hussein's phone, in this order: the right ID number first gives back every point
// it took, so the guesses that follow still get exactly MAX_ID_FAILURES_PER_PHONE tries.
let phone: UssdPhone;
beforeAll(async () => {
  await t.rt.services.preferences.setLanguage(DEMO.hussein.phone, 'en');
  phone = new UssdPhone(t.app, DEMO.hussein.phone);
});

test('the right ID number on Continue uses up no tries', async () => {
  for (let i = 0; i < MAX_ID_FAILURES_PER_PHONE + 1; i++) expect(await guessOnResume(phone, DEMO.hussein.id)).toMatch(/^CON Your applications:/);
});

test('redialling to guess the owner’s ID number on Continue is limited per phone; past the limit the right one is refused too', async () => {
  const wrong = ['11111111', '22222222', '33333333', '44444444', '55555555'];
  for (let i = 0; i < MAX_ID_FAILURES_PER_PHONE; i++) expect(await guessOnResume(phone, wrong[i % wrong.length] as string)).toBe(NOT_FOUND);
  expect(await guessOnResume(phone, DEMO.hussein.id)).toBe(LOCKED);
});
