import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, hop, readRecord } from '../helpers/kit';

/**
 * Engine rule 2: the new input is AT's `text` minus the text already seen, not `split('*')`, so a
 * `*` typed inside one answer stays in that answer; a first hop with text (an operator's
 * dial-through) is those inputs in order.
 */
describe('engine rule 2: the new input is the text after the text already seen', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const ASK_REF = 'Enter the 13-digit application number:\n0 Back\n00 Home';
  /** Collected: a status that no longer changes, so its answer ends the session. */
  const HUSSEIN_PASSPORT = '1026091006001';

  test('a reference typed as 1026100*200488 is one answer: one refusal, one try used', async () => {
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    // Split on '*', it would be two all-digit answers (two "13 digits" refusals, two tries).
    // As one answer it holds a '*': "digits only", and one try is used.
    expect(await phone.reply('1026100*200488')).toBe(`CON Use digits only.\n${ASK_REF}`);
    const record = await readRecord(t, phone.sessionId);
    expect((record?.state.snapshot as { context: { tries: number } }).context.tries).toBe(1);
    // The third wrong try ends it, so exactly one had been used by the starred answer.
    expect(await phone.reply('12*34')).toBe(`CON Use digits only.\n${ASK_REF}`);
    expect(await phone.reply('1*2*3')).toBe('END That number is still not valid. Check it on your receipt and dial again.');
  });

  test('an ID number typed with a * in it reaches the lookup whole', async () => {
    const phone = new UssdPhone(t.app, '+254700000501');
    await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    await phone.reply(HUSSEIN_PASSPORT);
    // "2988*7766" is one answer; ID numbers are compared as digits, so it is Hussein's.
    // Had it been split, "2988" would have been the answer: "no application with those details".
    expect(await phone.reply('2988*7766')).toBe('END Passport 1026091006001\nCollected');
  });

  test('dial-through: a first hop of 1*2 lands on the application number prompt, and the session goes on', async () => {
    const sessionId = `ATUid_${randomBytes(8).toString('hex')}`;
    const first = await hop(t.app, sessionId, DEMO.wanjiku.phone, '1*2');
    expect(first).toMatchObject({ status: 200, body: `CON ${ASK_REF}` });
    const second = await hop(t.app, sessionId, DEMO.wanjiku.phone, `1*2*${DEMO.wanjiku.passport}`);
    expect(second.body).toMatch(/^(CON|END) Passport 1026100200488\nREADY for collection\nCollect at Huduma Centre GPO\./);
  });

  test('dial-through from a phone with no saved language: the inputs answer the language screen first', async () => {
    const phone = new UssdPhone(t.app, '+254700000502');
    expect(await phone.dial('2', '1')).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
    expect(await t.rt.services.preferences.language(phone.phoneNumber)).toBe('sw');
    expect(await phone.reply('2')).toBe('CON Weka nambari ya ombi yenye tarakimu 13:\n0 Rudi\n00 Mwanzo');
  });

  test('a dial-through that ends on a result ends the session', async () => {
    const phone = new UssdPhone(t.app, DEMO.amina.phone);
    await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
    expect(await phone.dial('1', '1', '1')).toBe("END Birth cert. 3026110400779\nRejected\nA copy of a parent's ID is missing.");
  });

  test('a wrong choice in a dial-through shows that screen with the reason', async () => {
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    expect(await phone.dial('1', '7')).toBe('CON Invalid choice. Try again.\nApplication status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
    expect(await phone.reply('00')).toMatch(/^CON Simu e-Citizen\n/);
  });

  test('an empty answer is an answer (a wrong one), not a retry', async () => {
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    await phone.dial();
    await phone.reply('1');
    expect(await phone.reply('')).toBe('CON Invalid choice. Try again.\nApplication status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(3);
    expect(await phone.reply('00')).toMatch(/^CON Simu e-Citizen\n/);
  });
});
