import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { Console, GPO, addStaff, auditRows } from '../staff/helpers';
import { deleteKeys, dumpStore } from '../helpers/store';

/**
 * Issue 10, finding 7: anonymous requests grew storage without limit. Each refused-CSRF POST to
 * /staff/<anything> wrote an audit row with the whole path (the table can never be pruned), and
 * each anonymous GET /staff/login created a 30-minute session in the Redis the USSD sessions share.
 */
let t: TestApp;
const FLOOD = 40;
beforeAll(async () => {
  t = await createTestApp({ STAFF_CONSOLE_ANON_PER_IP_PER_MIN: String(2 * FLOOD + 10) });
  await addStaff(t, 'growth.agent', 'agent', GPO);
});
afterAll(async () => t.close());

const sessionKeys = async () => (await dumpStore(t)).filter((k) => k.key.startsWith(`${t.config.REDIS_PREFIX}staff:sess:`)).length;

test('a flood of anonymous refused POSTs and login-page GETs writes no audit row and no stored session; then the address is held back', async () => {
  const auditBefore = (await auditRows(t, {})).length;
  const longPath = `/staff/${'x'.repeat(8000)}`;
  for (let i = 0; i < FLOOD; i++) expect((await request(t.app).post(longPath).type('form').send({ a: 'b' })).status).toBe(403);
  for (let i = 0; i < FLOOD; i++) expect((await request(t.app).get('/staff/login')).status).toBe(200);
  expect((await auditRows(t, {})).length - auditBefore).toBe(0);
  expect(await sessionKeys()).toBe(0);

  // The per-address budget of anonymous console requests: the flood is then answered 429, cheaply.
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await request(t.app).get('/staff/login')).status);
  expect(statuses).toContain(429);
  expect(await sessionKeys()).toBe(0);
});

test('a signed-in member still gets a session, and a forged POST against them is audited with the path cut short', async () => {
  await deleteKeys(t, 'rl:staff-anon');
  const c = new Console(t);
  expect((await c.login('growth.agent')).status).toBe(303);
  expect(await sessionKeys()).toBe(1);
  expect((await c.post(`/staff/${'y'.repeat(5000)}`, { _csrf: null })).status).toBe(403);
  const rows = await auditRows(t, { action: 'csrf_refused' });
  expect(rows).toHaveLength(1);
  const detail = typeof rows[0]?.detail === 'string' ? JSON.parse(rows[0].detail) : rows[0]?.detail;
  expect(String(detail.path).length).toBeLessThanOrEqual(100);
});
