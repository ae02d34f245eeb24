import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { addStaff, GPO } from '../staff/helpers';

/**
 * Issue 10, finding 12: with `trust proxy: true` any client named its own address in
 * X-Forwarded-For, and that address went into the audit log and the per-IP limits. Now only the
 * hops in TRUST_PROXY are believed, and AT_CALLBACK_ALLOW judges the same address. supertest
 * connects from loopback: with no trusted proxy the client is 127.0.0.1 whatever the header says.
 */
const AT_RANGE = '196.201.214.0/24';
const AT_ADDRESS = '196.201.214.10';
const SPOOFED = '203.0.113.66';

const hop = (t: TestApp, forwardedFor?: string) => {
  const r = request(t.app).post(`/ussd?token=${TEST_WEBHOOK_SECRET}`).type('form');
  if (forwardedFor !== undefined) r.set('X-Forwarded-For', forwardedFor);
  return r.send({ sessionId: `ATUid_${randomBytes(6).toString('hex')}`, serviceCode: '*384*2222#', phoneNumber: '+254712345678', networkCode: '63902', text: '' });
};

/** A failed staff login with the given X-Forwarded-For; returns the address the audit log recorded for it. */
async function auditedLoginIp(t: TestApp, username: string, forwardedFor: string): Promise<string | undefined> {
  const agent = request.agent(t.app);
  const page = await agent.get('/staff/login').set('X-Forwarded-For', forwardedFor);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const res = await agent.post('/staff/login').set('X-Forwarded-For', forwardedFor).type('form').send({ _csrf: csrf, username, password: 'not-the-password-at-all' });
  expect(res.status).toBe(401);
  const row = await t.rt.db('audit_log').where({ action: 'staff_login' }).whereRaw("detail->>'ip' is not null").orderBy('id', 'desc').first('detail');
  const detail = typeof row?.detail === 'string' ? (JSON.parse(row.detail) as { ip?: string }) : (row?.detail as { ip?: string } | undefined);
  return detail?.ip;
}

describe('TRUST_PROXY unset: X-Forwarded-For is not believed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AT_CALLBACK_ALLOW: AT_RANGE });
    await addStaff(t, 'proxy.none', 'agent', GPO);
  });
  afterAll(async () => t.close());

  test('a callback claiming to come from AT\'s range is still judged by its real source: 403', async () => {
    for (const claimed of [AT_ADDRESS, `${SPOOFED}, ${AT_ADDRESS}`, `${AT_ADDRESS}, ${AT_ADDRESS}`]) {
      const res = await hop(t, claimed);
      expect(res.status).toBe(403);
      expect(res.text).toBe('forbidden');
    }
  });

  test('the audit log records the real client, not the address the client wrote in the header', async () => {
    const ip = await auditedLoginIp(t, 'proxy.none', SPOOFED);
    expect(ip).not.toBe(SPOOFED);
    expect(ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });
});

describe('TRUST_PROXY=1: exactly one proxy hop is believed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AT_CALLBACK_ALLOW: AT_RANGE, TRUST_PROXY: '1' });
    await addStaff(t, 'proxy.one', 'agent', GPO);
  });
  afterAll(async () => t.close());

  test('the address our proxy saw (the last one) is the client; entries before it are whatever the client wrote', async () => {
    expect((await hop(t, AT_ADDRESS)).status).toBe(200);
    // The client put AT's address first itself; our proxy appended the real source.
    expect((await hop(t, `${AT_ADDRESS}, ${SPOOFED}`)).status).toBe(403);
    // Whatever the client prepends, the address our proxy appended decides.
    expect((await hop(t, `${SPOOFED}, ${AT_ADDRESS}`)).status).toBe(200);
    // No header: the proxy itself (loopback here) is the client.
    expect((await hop(t)).status).toBe(403);
  });

  test('the audit log records the address the proxy saw', async () => {
    expect(await auditedLoginIp(t, 'proxy.one', `198.51.100.7, ${SPOOFED}`)).toBe(SPOOFED);
  });
});

describe('TRUST_PROXY as proxy addresses: hops are believed only from those addresses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AT_CALLBACK_ALLOW: AT_RANGE, TRUST_PROXY: '127.0.0.1/32, 10.0.0.0/8' });
  });
  afterAll(async () => t.close());

  test('through our proxies the original client counts; an untrusted hop in between is the client', async () => {
    expect((await hop(t, AT_ADDRESS)).status).toBe(200);
    expect((await hop(t, `${AT_ADDRESS}, 10.1.2.3`)).status).toBe(200);
    // 192.0.2.9 is no proxy of ours: the AT address before it was written by 192.0.2.9, not seen.
    expect((await hop(t, `${AT_ADDRESS}, 192.0.2.9`)).status).toBe(403);
  });
});
