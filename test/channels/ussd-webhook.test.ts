import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { TEST_WEBHOOK_SECRET, testStore } from '../helpers/env';
import { DEMO } from '../helpers/kit';

/**
 * The HTTP surface of AT's USSD callbacks: the shared secret, the form body and its limits, the
 * end-of-session notification, and the health endpoints. A malformed request gets a 4xx with one
 * line of reason (never a stack trace), and the server goes on serving.
 */
type Send = (t: TestApp) => request.Test;
interface Case {
  label: string;
  send: Send;
  status: number;
  body: RegExp;
}

const url = (token = TEST_WEBHOOK_SECRET) => `/ussd?token=${encodeURIComponent(token)}`;
const good = { sessionId: 'ATUid_webhook_case', serviceCode: '*384*2222#', phoneNumber: DEMO.wanjiku.phone, networkCode: '63902', text: '' };
const form = (fields: Record<string, string | undefined>): Send => (t) => request(t.app).post(url()).type('form').send(fields);
const without = (key: keyof typeof good) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));

const cases: Case[] = [
  { label: 'no token', send: (t) => request(t.app).post('/ussd').type('form').send(good), status: 401, body: /^unauthorized$/ },
  { label: 'a wrong token', send: (t) => request(t.app).post(url('not-the-secret')).type('form').send(good), status: 401, body: /^unauthorized$/ },
  { label: 'a wrong token of the right length', send: (t) => request(t.app).post(url('x'.repeat(TEST_WEBHOOK_SECRET.length))).type('form').send(good), status: 401, body: /^unauthorized$/ },
  { label: 'the token in two query parameters', send: (t) => request(t.app).post(`/ussd?token=${TEST_WEBHOOK_SECRET}&token=${TEST_WEBHOOK_SECRET}`).type('form').send(good), status: 401, body: /^unauthorized$/ },
  { label: 'a JSON body', send: (t) => request(t.app).post(url()).send(good), status: 400, body: /^expected application\/x-www-form-urlencoded$/ },
  { label: 'a text/plain body', send: (t) => request(t.app).post(url()).type('text').send('sessionId=a'), status: 400, body: /^expected application\/x-www-form-urlencoded$/ },
  { label: 'no body at all', send: (t) => request(t.app).post(url()), status: 400, body: /^expected application\/x-www-form-urlencoded$/ },
  { label: 'an empty form', send: form({}), status: 400, body: /^bad request: sessionId: / },
  { label: 'no sessionId', send: form(without('sessionId')), status: 400, body: /^bad request: sessionId: / },
  { label: 'an empty sessionId', send: form({ ...good, sessionId: '' }), status: 400, body: /^bad request: sessionId: / },
  { label: 'a sessionId over 128 characters', send: form({ ...good, sessionId: 'A'.repeat(129) }), status: 400, body: /^bad request: sessionId: / },
  { label: 'no phoneNumber', send: form(without('phoneNumber')), status: 400, body: /^bad request: phoneNumber: / },
  { label: 'a phone number without the country code', send: form({ ...good, phoneNumber: '0712345678' }), status: 400, body: /^bad request: phoneNumber: phoneNumber must be E\.164/ },
  { label: 'a phone number with letters', send: form({ ...good, phoneNumber: '+2547123abc78' }), status: 400, body: /^bad request: phoneNumber: / },
  { label: 'a phone number too long', send: form({ ...good, phoneNumber: `+${'7'.repeat(16)}` }), status: 400, body: /^bad request: phoneNumber: / },
  { label: 'no serviceCode', send: form(without('serviceCode')), status: 400, body: /^bad request: serviceCode: / },
  { label: 'a networkCode with letters', send: form({ ...good, networkCode: '639O2' }), status: 400, body: /^bad request: networkCode: / },
  { label: 'no text', send: form(without('text')), status: 400, body: /^bad request: text: / },
  { label: 'text over 1 KB', send: form({ ...good, text: '1'.repeat(1025) }), status: 400, body: /^bad request: text: text over 1 KB$/ },
  { label: 'text sent twice (an array)', send: (t) => request(t.app).post(url()).type('form').send('sessionId=a&serviceCode=x&phoneNumber=%2B254712345678&text=1&text=2'), status: 400, body: /^bad request: text: / },
  { label: 'a body over the 4 KB limit', send: form({ ...good, text: '', padding: 'x'.repeat(5000) }), status: 413, body: /^bad request: entity\.too\.large$/ },
  { label: 'more than 20 fields', send: form(Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${i}`, 'x']))), status: 413, body: /^bad request: parameters\.too\.many$/ },
  { label: 'a charset the parser does not know', send: (t) => request(t.app).post(url()).set('Content-Type', 'application/x-www-form-urlencoded; charset=klingon').send('sessionId=a'), status: 415, body: /^bad request: charset\.unsupported$/ },
  { label: 'a body claiming gzip that is not', send: (t) => request(t.app).post(url()).set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'gzip').send('sessionId=a'), status: 400, body: /^bad request: / },
];

describe('POST /ussd: validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  test.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const res = await c.send(t);
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(c.body);
    expectOneLineNoStack(res.text);
  });

  test('after all of that, the server still serves a citizen', async () => {
    for (const c of cases) await c.send(t);
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    expect(await phone.dial()).toMatch(/^CON Simu e-Citizen\n/);
  });

  test('text of exactly 1 KB is accepted', async () => {
    const res = await request(t.app).post(url()).type('form').send({ ...good, sessionId: 'ATUid_one_kb', text: '1'.repeat(1024) });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^(CON|END) /);
  });

  test('fuzz: random fields and bodies never get a 5xx or a stack trace', async () => {
    let seed = 20261125;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ['', '*', '#', '%', '%E0%A4%A', '&', '=', '+', '0', '1', '98', '00', '\u014C', '\u2019', '\u0000', '\n', ' ', 'a', '\uD83D\uDE00', '[]', '[0]=x'];
    const piece = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 150; i++) {
      const raw = rand() < 0.5;
      const res = raw
        ? await request(t.app).post(url()).set('Content-Type', 'application/x-www-form-urlencoded').send(`${piece(3)}sessionId=${piece(4)}&phoneNumber=${piece(3)}&text=${piece(8)}${piece(3)}`)
        : await request(t.app)
            .post(url())
            .type('form')
            .send({ sessionId: `fz${piece(5)}`, serviceCode: piece(2) || '*1#', phoneNumber: rand() < 0.5 ? DEMO.amina.phone : `+2547${piece(3)}`, networkCode: rand() < 0.8 ? '63902' : piece(2), text: piece(10) });
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) expect(res.text).toMatch(/^(CON|END) /);
      else expectOneLineNoStack(res.text);
    }
    expect((await request(t.app).get('/healthz')).status).toBe(200);
  });
});

describe('POST /ussd/events: the end-of-session notification', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  test('is recorded in ussd_events', async () => {
    const res = await request(t.app)
      .post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`)
      .type('form')
      .send({ sessionId: 'ATUid_evt_1', status: 'Success', durationInMillis: '8123', hopsCount: '4', networkCode: '63902', phoneNumber: DEMO.wanjiku.phone, date: '2026-11-25 10:00:00', cost: 'KES 0.00', input: '1*2*1026100200488', lastAppResponse: 'END ...', serviceCode: '*384*2222#' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('OK');
    const rows = await t.rt.db('ussd_events').where({ session_id: 'ATUid_evt_1' });
    expect(rows).toEqual([expect.objectContaining({ status: 'Success', duration_ms: 8123, hops: 4, network_code: '63902', error_message: null })]);
  });

  test('an Incomplete session keeps its resume pointer', async () => {
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    const res = await request(t.app).post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ sessionId: phone.sessionId, status: 'Incomplete', hopsCount: '3', errorMessage: 'session timed out' });
    expect(res.status).toBe(200);
    expect(await t.rt.db('ussd_events').where({ session_id: phone.sessionId }).first()).toMatchObject({ status: 'Incomplete', hops: 3, error_message: 'session timed out' });
    expect(await phone.dial()).toBe('CON You did not finish last time.\n1. Continue where you left off\n2. Start again');
  });

  test.each([
    ['no token', (t: TestApp) => request(t.app).post('/ussd/events').type('form').send({ sessionId: 'a', status: 'Success' }), 401],
    ['no status', (t: TestApp) => request(t.app).post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ sessionId: 'a' }), 400],
    ['a duration that is not a number', (t: TestApp) => request(t.app).post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ sessionId: 'a', status: 'Success', durationInMillis: 'soon' }), 400],
    ['JSON', (t: TestApp) => request(t.app).post(`/ussd/events?token=${TEST_WEBHOOK_SECRET}`).send({ sessionId: 'a', status: 'Success' }), 400],
  ] as const)('%s is refused in one line', async (_label, send, status) => {
    const res = await send(t);
    expect(res.status).toBe(status);
    expectOneLineNoStack(res.text);
  });
});

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  test('GET /healthz answers 200 while the process is up', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });

  test('GET /readyz answers 200 when Postgres and the store both answer, naming the store', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(testStore() === 'redis' ? { postgres: 'ok', redis: 'ok' } : { postgres: 'ok', store: 'ok' });
  });
});

function expectOneLineNoStack(text: string): void {
  expect(text).not.toContain('\n');
  expect(text).not.toMatch(/\bat .+:\d+:\d+|Error:|node_modules/);
  expect(text.length).toBeLessThan(200);
}
