import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { startSmsHarness, type SmsHarness } from '../helpers/sms';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { DEMO, makeReference } from '../helpers/kit';
import { MAX_ID_FAILURES_PER_PHONE, MAX_ID_FAILURES_PER_REFERENCE } from '../../src/services/applications';

/**
 * Issue 10 #15: the applicant's ID number asked by a status check ("enter the applicant's ID" on
 * USSD, `STATUS <ref> <id>` by SMS) cannot be guessed without end. Failures are counted per
 * reference and per phone, before anything is looked up, in the service both channels call; past
 * the limit even the right ID number gets "too many tries", and an unknown reference still answers
 * exactly like a wrong ID number.
 */
const NOT_FOUND = 'END We found no application with those details. Check the numbers and try again.';
const LOCKED = 'END Too many tries. For privacy, try again tomorrow.';
const LOCKED_SW = 'END Majaribio mengi mno. Kwa usiri, jaribu tena kesho.';

let t: TestApp;
let n = 0;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** A phone that is not the applicant's, with a language saved (the dial opens on the main menu). */
async function stranger(lang: 'en' | 'sw' = 'en'): Promise<UssdPhone> {
  const p = new UssdPhone(t.app, `+25470077${String(++n).padStart(4, '0')}`);
  await t.rt.services.preferences.setLanguage(p.phoneNumber, lang);
  return p;
}

/** Status by number from `p`, then the ID number: the final answer. */
async function check(p: UssdPhone, reference: string, idNumber: string): Promise<string> {
  await p.dial();
  await p.reply('1');
  await p.reply('2');
  expect(await p.reply(reference)).toMatch(/^CON (For privacy, enter the applicant's ID number|Kwa usiri)/);
  return p.reply(idNumber);
}

describe('over USSD', () => {
  test('wrong ID numbers for one reference from several phones lock that reference, even for the right ID', async () => {
    const ref = DEMO.achieng.passport;
    for (let i = 0; i < MAX_ID_FAILURES_PER_REFERENCE; i++) expect(await check(await stranger(), ref, String(40000000 + i))).toBe(NOT_FOUND);
    expect(await check(await stranger(), ref, DEMO.achieng.id)).toBe(LOCKED);
    expect(await check(await stranger('sw'), ref, DEMO.achieng.id)).toBe(LOCKED_SW);
    // The applicant's own phone still sees it without an ID number.
    const own = new UssdPhone(t.app, DEMO.achieng.phone);
    await own.dial();
    await own.reply('1');
    await own.reply('2');
    expect(await own.reply(ref)).toMatch(/Passport 1026111105122/);
  });

  test('one phone guessing across references is locked, and an unknown reference counts like a wrong ID', async () => {
    const p = await stranger();
    const answers: string[] = [];
    for (let i = 0; i < MAX_ID_FAILURES_PER_PHONE; i++) answers.push(await check(p, makeReference('10', '261101', 8100 + i), '11111111'));
    expect(answers).toEqual(Array(MAX_ID_FAILURES_PER_PHONE).fill(NOT_FOUND));
    // A real reference with its right ID number: this phone has spent its tries.
    expect(await check(p, DEMO.wanjiku.passport, DEMO.wanjiku.id)).toBe(LOCKED);
    // And past the limit, known and unknown references still answer alike.
    expect(await check(p, makeReference('10', '261101', 8999), '11111111')).toBe(LOCKED);
  });

  test('guesses sent all at once: no more than the limit are evaluated', async () => {
    const ref = makeReference('20', '261120', 4242); // unknown: its counter starts at zero
    const phones = await Promise.all(Array.from({ length: 12 }, () => stranger()));
    await Promise.all(phones.map(async (p) => {
      await p.dial();
      await p.reply('1');
      await p.reply('2');
      await p.reply(ref);
    }));
    const answers = await Promise.all(phones.map((p, i) => p.reply(String(50000000 + i))));
    expect(answers.filter((a) => a === NOT_FOUND).length).toBe(MAX_ID_FAILURES_PER_REFERENCE);
    expect(answers.filter((a) => a === LOCKED).length).toBe(12 - MAX_ID_FAILURES_PER_REFERENCE);
  });

  test('a right ID number is no failure: it does not use up the tries', async () => {
    const p = await stranger();
    for (let i = 0; i < MAX_ID_FAILURES_PER_PHONE + 2; i++) expect(await check(p, DEMO.wanjiku.passport, DEMO.wanjiku.id)).toMatch(/Passport 1026100200488/);
  });
});

describe('over SMS', () => {
  let sms: SmsHarness;
  beforeAll(async () => {
    sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  });
  afterAll(async () => sms.close());

  async function send(from: string, text: string): Promise<string> {
    const seen = sms.fake.messagesTo(from).length;
    const res = await request(t.app)
      .post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`)
      .type('form')
      .send({ id: `ATXid_${randomBytes(8).toString('hex')}`, from, to: '22384', text, date: '2026-11-25 09:00:00', networkCode: '63902' });
    expect(res.status).toBe(200);
    await sms.drain();
    return sms.fake.messagesTo(from).slice(seen).map((m) => m.message).join('\n---\n');
  }

  test('STATUS <ref> <id>: per reference and per phone, with the same polite refusal', async () => {
    const ref = makeReference('40', '261103', 3131); // unknown reference
    const phones = Array.from({ length: MAX_ID_FAILURES_PER_REFERENCE + 1 }, (_, i) => `+25470066${String(i).padStart(4, '0')}`);
    for (const ph of phones) await t.rt.services.preferences.setLanguage(ph, 'en');
    for (const ph of phones.slice(0, -1)) expect(await send(ph, `STATUS ${ref} 22222222`)).toBe('We found no application with those details. Check the numbers and try again.');
    expect(await send(phones.at(-1) as string, `STATUS ${ref} 22222222`)).toBe('Too many tries. For privacy, try again tomorrow.');

    // One phone across references: the right ID number of a real one is refused after the limit.
    const one = '+254700669999';
    await t.rt.services.preferences.setLanguage(one, 'sw');
    for (let i = 0; i < MAX_ID_FAILURES_PER_PHONE; i++) expect(await send(one, `HALI ${makeReference('40', '261104', 10 + i)} 22222222`)).toBe('Hatukupata ombi lenye maelezo hayo. Angalia nambari kisha ujaribu tena.');
    expect(await send(one, `HALI ${DEMO.wanjiku.passport} ${DEMO.wanjiku.id}`)).toBe('Majaribio mengi mno. Kwa usiri, jaribu tena kesho.');
  });
});
