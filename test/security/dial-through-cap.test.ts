import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { readRecord } from '../helpers/kit';
import { MAX_DIAL_THROUGH } from '../../src/engine/engine';

/**
 * Issue 10 ("also"): a first hop may carry inputs typed ahead (`*384*2222*1*2#`), but a 1,021-character
 * `text` of 511 inputs must not be run in one hop. At most MAX_DIAL_THROUGH inputs are taken; the
 * answer is the screen they lead to, and the session goes on normally from there.
 *
 * How many were applied is seen on the screen: wrong choices ("9") on the main menu leave it where
 * it is, and a final "1" opens Application status only if it was among the inputs taken.
 */
const MAIN = 'CON Invalid choice. Try again.\nSimu e-Citizen\n1. Application status';
const STATUS = 'CON Application status\n1. My applications\n2. Enter an application number';

let t: TestApp;
let n = 0;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function phone(): Promise<UssdPhone> {
  const p = new UssdPhone(t.app, `+25470055${String(++n).padStart(4, '0')}`);
  await t.rt.services.preferences.setLanguage(p.phoneNumber, 'en');
  return p;
}
const wrongThen1 = (wrong: number) => [...Array<string>(wrong).fill('9'), '1'];

test('511 inputs in one text: a clear answer from the first inputs only, and the session goes on', async () => {
  const p = await phone();
  const inputs = wrongThen1(510);
  expect(inputs.join('*').length).toBe(1021);
  const screen = await p.dial(...inputs);
  expect(screen.startsWith(MAIN)).toBe(true);
  const record = await readRecord(t, p.sessionId);
  expect(record).toMatchObject({ hops: 1, lastTextLen: 1021, state: { flow: 'main-menu' } });
  expect(await p.reply('1')).toMatch(new RegExp(`^${STATUS}`));
  expect((await readRecord(t, p.sessionId))?.hops).toBe(2);
});

test('exactly MAX_DIAL_THROUGH inputs are taken: the last one counts, one more does not', async () => {
  expect(await (await phone()).dial(...wrongThen1(MAX_DIAL_THROUGH - 1))).toMatch(new RegExp(`^${STATUS}`));
  expect((await (await phone()).dial(...wrongThen1(MAX_DIAL_THROUGH))).startsWith(MAIN)).toBe(true);
});

test('an ordinary dial-through still works', async () => {
  expect(await (await phone()).dial('1', '2')).toMatch(/^CON Enter the 13-digit application number:/);
});
