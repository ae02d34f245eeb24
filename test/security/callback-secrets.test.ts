import request from 'supertest';
import express from 'express';
import { PassThrough } from 'node:stream';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { startBanner } from '../../src/banner';
import { requireAllowedSource } from '../../src/http/at-callback';
import { createLogger } from '../../src/log';

/**
 * Issue 10, finding 5: whoever holds WEBHOOK_SECRET can post to AT's callbacks as any phone
 * number (and a citizen's phone is the possession factor of the login-code reset). The secret was
 * printed at every start in production; there was no second check on where a callback comes
 * from; and a secret could not be rotated without refusing AT's callbacks for a while.
 * (The production start itself is in production-startup.test.ts.)
 */
const PHONE = '+254712345678';
const uid = () => randomBytes(6).toString('hex');

/** Every AT callback route, with a body AT could send, and where its handler would leave a trace. */
const routes = [
  { path: '/ussd', form: () => ({ sessionId: `ATUid_${uid()}`, serviceCode: '*384*2222#', phoneNumber: PHONE, networkCode: '63902', text: '' }) },
  { path: '/ussd/events', form: () => ({ sessionId: `ATUid_${uid()}`, status: 'Success', hopsCount: '2' }) },
  { path: '/sms/inbound', form: () => ({ id: `ATXid_${uid()}`, from: PHONE, to: '22384', text: 'HELP' }) },
  { path: '/sms/delivery', form: () => ({ id: `ATXid_${uid()}`, status: 'Success', phoneNumber: PHONE }) },
] as const;

const post = (t: TestApp, path: string, token: string, form: Record<string, string>) =>
  request(t.app).post(`${path}?token=${encodeURIComponent(token)}`).type('form').send(form);

/** What the handler of each route stores: none of it may exist after a refused callback. */
async function traces(t: TestApp, form: Record<string, string>): Promise<number> {
  const [events, inbound, unmatched] = await Promise.all([
    t.rt.db('ussd_events').where({ session_id: form.sessionId ?? '' }).count<{ n: string }[]>({ n: '*' }),
    t.rt.db('sms_inbound').where({ at_id: form.id ?? '' }).count<{ n: string }[]>({ n: '*' }),
    t.rt.db('sms_delivery_unmatched').where({ at_message_id: form.id ?? '' }).count<{ n: string }[]>({ n: '*' }),
  ]);
  const storedSession = form.sessionId && (await t.rt.store.exists(`ussd:s:${form.sessionId}`)) ? 1 : 0;
  return Number(events[0]?.n) + Number(inbound[0]?.n) + Number(unmatched[0]?.n) + storedSession;
}

describe('the start-up banner', () => {
  const secret = randomBytes(32).toString('hex');
  const banner = (production: boolean) => startBanner({ production, port: 3000, webhookSecret: secret, sms: { atUrl: 'https://api.africastalking.com', workerOn: true } });

  test('in production it shows every callback path with the token elided, and never the secret', () => {
    const text = banner(true);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(0, 8));
    for (const path of ['/ussd', '/ussd/events', '/sms/delivery', '/sms/inbound']) expect(text).toContain(`${path}?token=…`);
  });

  test('outside production the dev banner still shows the URLs to paste, token included', () => {
    expect(banner(false)).toContain(`/ussd?token=${secret}`);
  });
});

describe('AT_CALLBACK_ALLOW, a second check on every AT callback', () => {
  describe('a source outside the list (supertest connects from loopback; the list is AT\'s ranges)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ AT_CALLBACK_ALLOW: '196.201.214.0/24, 2c0f:fe38:2000::/36' });
    });
    afterAll(async () => t.close());

    test.each(routes)('POST $path with the right token is refused with 403, one line, nothing stored', async ({ path, form }) => {
      const body = form();
      const res = await post(t, path, TEST_WEBHOOK_SECRET, body);
      expect(res.status).toBe(403);
      expect(res.text).toBe('forbidden');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(await traces(t, body)).toBe(0);
    });

    test('refusals are logged as one warning a minute with the source and count, never a phone number or the token', async () => {
      await Promise.all(Array.from({ length: 5 }, () => post(t, '/sms/inbound', TEST_WEBHOOK_SECRET, routes[2].form())));
      const warnings = t.logs().split('\n').filter((l) => l.includes('AT callback refused'));
      // The four route refusals above and these five: one warning (the first), the rest counted for the next one.
      expect(warnings).toHaveLength(1);
      const w = JSON.parse(warnings[0] as string) as Record<string, unknown>;
      expect(w).toMatchObject({ level: 'warn', path: '/ussd', ip: expect.stringMatching(/127\.0\.0\.1|::1/) });
      const all = t.logs();
      expect(all).not.toContain(TEST_WEBHOOK_SECRET);
      expect(all).not.toContain('+2547****5678');
      expect(all).not.toContain(PHONE);
    });
  });

  test('after a minute the next refusal is logged again, with how many were refused meanwhile', async () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    let clock = 1_000_000;
    const app = express();
    app.post('/ussd', requireAllowedSource(['196.201.214.0/24'], createLogger('info', sink), () => clock), (_req, res) => void res.send('served'));
    for (let i = 0; i < 4; i++) expect((await request(app).post('/ussd')).status).toBe(403);
    clock += 59_000;
    await request(app).post('/ussd');
    expect(lines).toHaveLength(1);
    clock += 2_000;
    await request(app).post('/ussd');
    expect(lines.map((l) => (JSON.parse(l) as { refusedSinceLastWarning: number }).refusedSinceLastWarning)).toEqual([1, 5]);
  });

  describe('a source inside the list', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ AT_CALLBACK_ALLOW: '196.201.214.0/24, 127.0.0.0/8, ::1/128' });
    });
    afterAll(async () => t.close());

    test.each(routes)('POST $path is served with the right token, and still 401 with a wrong one', async ({ path, form }) => {
      const ok = await post(t, path, TEST_WEBHOOK_SECRET, form());
      expect(ok.status).toBe(200);
      const wrong = await post(t, path, 'not-the-secret-but-long-enough', form());
      expect(wrong.status).toBe(401);
      expect(wrong.text).toBe('unauthorized');
    });
  });

  describe('IPv6 sources (a server on ::1)', () => {
    const served: Array<{ t: TestApp; server: Server }> = [];
    afterAll(async () => {
      for (const s of served) {
        await new Promise((r) => s.server.close(r));
        await s.t.close();
      }
    });

    test.each([
      ['::1/128', 200],
      ['::1', 200],
      ['127.0.0.0/8, 2c0f:fe38:2000::/36', 403],
    ])('AT_CALLBACK_ALLOW=%s → %i for a callback from ::1', async (allow, status) => {
      const t = await createTestApp({ AT_CALLBACK_ALLOW: allow });
      const server = createServer(t.app);
      served.push({ t, server });
      await new Promise<void>((r) => server.listen(0, '::1', r));
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://[::1]:${port}/ussd?token=${TEST_WEBHOOK_SECRET}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(routes[0].form()).toString(),
      });
      expect(res.status).toBe(status);
    });
  });
});

describe('rotating the webhook secret: WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS', () => {
  const current = randomBytes(32).toString('hex');
  const previous = randomBytes(32).toString('hex');
  let during: TestApp;
  let after: TestApp;
  beforeAll(async () => {
    during = await createTestApp({ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: previous });
    after = await createTestApp({ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: '' });
  });
  afterAll(async () => Promise.all([during.close(), after.close()]));

  test.each(routes)('during the rotation POST $path takes both secrets, and refuses a third', async ({ path, form }) => {
    const [withCurrent, withPrevious, withOther, withBoth] = await Promise.all([
      post(during, path, current, form()),
      post(during, path, previous, form()),
      post(during, path, randomBytes(32).toString('hex'), form()),
      post(during, path, `${current}${previous}`, form()),
    ]);
    expect([withCurrent.status, withPrevious.status, withOther.status, withBoth.status]).toEqual([200, 200, 401, 401]);
  });

  test('once WEBHOOK_SECRET_PREVIOUS is emptied, the old secret is refused', async () => {
    expect((await post(after, '/ussd', previous, routes[0].form())).status).toBe(401);
    expect((await post(after, '/ussd', current, routes[0].form())).status).toBe(200);
  });
});
