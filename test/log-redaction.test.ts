import { PassThrough } from 'node:stream';
import request from 'supertest';
import { Client } from 'pg';
import demo from '../seeds/data/demo.json';
import { createLogger, maskPhone, redact } from '../src/log';
import { createTestApp, type TestApp } from './helpers/test-app';
import { UssdPhone } from './helpers/phone';
import { DEMO, hop, phoneForms } from './helpers/kit';
import { TEST_WEBHOOK_SECRET } from './helpers/env';

/**
 * No ID number and no full phone number ever reaches a log line: unit tests of `redact()`, the
 * logger's handling of structured fields, and whole sessions (ID numbers typed, demo phones,
 * failures logged) whose every log line is then searched.
 */
describe('redact()', () => {
  test.each([
    ['a Kenyan phone in E.164', 'from +254712345678', 'from +2547****5678'],
    ['without the plus', 'msisdn=254712345678', 'msisdn=+2547****5678'],
    ['in national form', 'call 0712345678 now', 'call +2547****5678 now'],
    ['a 01 number', 'phone 0110123456', 'phone +2541****3456'],
    ['a number from abroad', 'from +255712345678', 'from +2557****5678'],
    ['an 8-digit ID number', 'id 23456789', 'id [id]'],
    ['a 7-digit ID number', 'id=7654321', 'id=[id]'],
    ['an ID number inside AT text, after a *', 'text 1*2*1026111105122*33445566', 'text 1*2*1026111105122*[id]'],
    ['an ID number quoted in JSON', '{"idNumber":"33445566"}', '{"idNumber":"[id]"}'],
    ['several in one line', '+254799000111 typed 33445566 and 12345678', '+2547****0111 typed [id] and [id]'],
  ])('%s', (_label, input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each([
    ['a 13-digit application reference', 'ref 1026100200488'],
    ['a session id whose hex holds a run of digits', 'ATUid_3f2a1234567b0c9d8e7f6a5b4c3d2e1f'],
    ['a session id ending in digits after letters', 'ATUid_ab12345678'],
    ['a session id whose hex holds what looks like a phone', 'ATUid_c0712345678d9e'],
    ['short numbers', 'hops 12, took 2000 ms, code *384*2222#'],
    ['a masked phone', '+2547****5678'],
  ])('leaves alone %s', (_label, input) => {
    expect(redact(input)).toBe(input);
  });

  test('maskPhone keeps the country prefix and the last four digits', () => {
    expect(maskPhone('+254712345678')).toBe('+2547****5678');
    expect(maskPhone('12')).toBe('****');
  });

  test('the logger redacts messages, nested fields, arrays, numbers and errors', () => {
    const sink = new PassThrough();
    const chunks: string[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c.toString()));
    const logger = createLogger('debug', sink);
    logger.info('hop from +254712345678 with 23456789', {
      phone: '0712345678',
      nested: { deeper: { id: '33445566', list: ['+254745678901', 29887766] } },
      idAsNumber: 12345678,
      error: new Error('no citizen with ID 30123456'),
      reference: '1026100200488',
      sessionId: 'ATUid_3f2a1234567b',
    });
    const out = chunks.join('');
    for (const secret of ['712345678', '23456789', '33445566', '745678901', '29887766', '12345678', '30123456']) expect(out).not.toContain(secret);
    expect(out).toContain('1026100200488');
    expect(out).toContain('ATUid_3f2a1234567b');
    expect(out).toContain('+2547****5678');
  });
});

describe('redaction keeps what is not secret (killed mutants of src/log.ts, see README "Mutation testing")', () => {
  const logLine = (message: string, meta: Record<string, unknown>): Record<string, unknown> => {
    const sink = new PassThrough();
    const chunks: string[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c.toString()));
    createLogger('debug', sink).info(message, meta);
    return JSON.parse(chunks.join('')) as Record<string, unknown>;
  };

  test('arrays keep their items (redacted), errors their name and message (redacted), small numbers stay numbers', () => {
    const line = logLine('x', { phones: ['+254712345678', 'ok'], error: new TypeError('no citizen with ID 30123456'), attempts: 3, idAsNumber: 23456789 });
    expect(line.phones).toEqual(['+2547****5678', 'ok']);
    expect(line.error).toEqual({ name: 'TypeError', message: 'no citizen with ID [id]' });
    expect(line.attempts).toBe(3);
    expect(line.idAsNumber).toBe('[id]');
    expect(line).not.toHaveProperty('stack');
  });

  test('a field nested deeper than redaction walks is dropped, never written as it is', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: { phone: '+254712345678', id: '30123456' } } } } } } } };
    const text = JSON.stringify(logLine('x', { deep }));
    expect(text).not.toContain('712345678');
    expect(text).not.toContain('30123456');
    expect(text).toContain('[too deep]');
  });

  test('an international number followed by a word is masked; a 9-digit one keeps its first and last four', () => {
    expect(redact('call +441234567890 now')).toBe('call +4412****7890 now');
    expect(maskPhone('+123456789')).toBe('+1234****6789');
  });
});

describe('whole sessions leave no ID number and no full phone number in the logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    // LOG_LEVEL debug (createTestApp's default): everything the app would ever write.
    t = await createTestApp({ USSD_HOP_DEADLINE_MS: '500' });
  });
  afterAll(async () => t.close());

  test('status sessions, a resume with re-verification, a reset, failures and bad requests', async () => {
    // Otieno asks about Wanjiku's passport with her ID number.
    const otieno = new UssdPhone(t.app, DEMO.otieno.phone);
    await otieno.dial();
    await otieno.reply('1');
    await otieno.reply('2');
    await otieno.reply(DEMO.wanjiku.passport);
    await otieno.reply(DEMO.wanjiku.id);

    // A stranger tries a wrong ID number, then the right one typed with a *.
    const stranger = new UssdPhone(t.app, DEMO.kiprono.phone);
    await t.rt.services.preferences.setLanguage(stranger.phoneNumber, 'en');
    for (const id of [DEMO.amina.id, '3344*5566']) {
      await stranger.dial();
      await stranger.reply('1');
      await stranger.reply('2');
      await stranger.reply(DEMO.achieng.passport);
      await stranger.reply(id);
    }

    // Hussein drops on his list and re-verifies with his ID number on the redial.
    const hussein = new UssdPhone(t.app, DEMO.hussein.phone);
    await hussein.dial();
    await hussein.reply('1');
    await hussein.reply('1');
    await hussein.dial();
    await hussein.reply('1');
    await hussein.reply(DEMO.hussein.id);
    await hussein.reply('00');

    // Wanjiku resets her login code: ID number and year of birth.
    const wanjiku = new UssdPhone(t.app, DEMO.wanjiku.phone);
    await wanjiku.dial();
    await wanjiku.reply('2');
    await wanjiku.reply(DEMO.wanjiku.id);
    await wanjiku.reply('1990');

    // A hop that fails (the lookup blocked past the deadline) after an ID number was typed: logged as an error.
    const locker = new Client({ connectionString: t.config.DATABASE_URL });
    await locker.connect();
    const mutua = new UssdPhone(t.app, DEMO.mutua.phone);
    try {
      await mutua.dial();
      await mutua.reply('1');
      await mutua.reply('2');
      await mutua.reply(DEMO.achieng.passport);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE applications IN ACCESS EXCLUSIVE MODE');
      expect(await mutua.reply(DEMO.achieng.id)).toMatch(/^END Sorry/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }

    // Text that does not extend the previous text (logged as a warning).
    const amina = new UssdPhone(t.app, DEMO.amina.phone);
    await amina.dial();
    await amina.reply('1');
    await amina.post(`9*${DEMO.amina.id}`);

    // Bad requests carrying phones and ID numbers, and an end-of-session notification.
    await request(t.app).post(`/ussd?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ sessionId: 's', serviceCode: '*384#', phoneNumber: DEMO.achieng.phone, text: `${DEMO.achieng.id}`.repeat(600) });
    await request(t.app).post(`/ussd?token=${TEST_WEBHOOK_SECRET}`).type('form').send(`sessionId=s&phoneNumber=${encodeURIComponent(DEMO.amina.phone)}&text=%E0%A4%A`);
    await request(t.app).post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ sessionId: mutua.sessionId, status: 'Incomplete', hopsCount: '5', durationInMillis: '23456789' });
    await hop(t.app, 'ATUid_direct', DEMO.achieng.phone, `1*2*${DEMO.achieng.passport}*${DEMO.achieng.id}`);

    // And anything the app's own logger is handed directly.
    t.rt.logger.debug('debugging a citizen', { phone: DEMO.wanjiku.phone, idNumber: DEMO.wanjiku.id });

    const logs = t.logs();
    expect(logs).toContain('ussd hop failed');
    expect(logs).toContain(mutua.sessionId); // the failure is logged with its session id, intact
    const secrets = [...demo.citizens.flatMap((c) => [c.id_number, ...phoneForms(c.phone)])];
    for (const s of secrets) expect({ secret: s, inLogs: logs.includes(s) }).toEqual({ secret: s, inLogs: false });
    expect(logs).not.toMatch(/(?<![\dA-Za-z])(?:\+?254|0)[17]\d{8}(?![\dA-Za-z])/);
  });
});
