import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { MAX_FAILED_LOGINS, StaffService } from '../../src/services/staff';
import { Console, GPO, PASSWORD, addStaff, auditRows } from '../staff/helpers';
import { dumpStore } from '../helpers/store';

/**
 * Issue 10, finding 1 (lockout bypassed by a burst), finding 11 (usernames enumerable by when they
 * lock), and from "Also": a deactivated account confirming its password, a login POST without a
 * CSRF token replacing the session cookie, no HSTS / Permissions-Policy. All over HTTP.
 */
let t: TestApp;
const ids: Record<string, number> = {};
beforeAll(async () => {
  // Per-IP and global budgets high here: this file tests the per-account lock; the budgets have their own test.
  t = await createTestApp({ STAFF_LOGIN_PER_IP: '10000', STAFF_LOGIN_GLOBAL_PER_MIN: '10000' });
  for (const u of ['burst.agent', 'enum.known', 'gone.agent', 'admin.sec', 'csrf.agent']) ids[u] = (await addStaff(t, u, u.startsWith('admin') ? 'admin' : 'agent', GPO)).id;
});
afterAll(async () => t.close());

/** The login form's cookie and token, as a browser gets them from the login page. */
async function loginForm(): Promise<{ cookie: string; csrf: string }> {
  const page = await request(t.app).get('/staff/login');
  const cookie = (page.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
  return { cookie, csrf };
}

/** The error message of a page (the paragraph under "There is a problem"). */
const errorOf = (html: string): string => /<div class="error"[^>]*>[\s\S]*?<p>([\s\S]*?)<\/p>/.exec(html)?.[1]?.trim() ?? '';

test('39 wrong passwords and the right one at once: at most MAX_FAILED_LOGINS passwords are checked and the right one does not log in', async () => {
  const { cookie, csrf } = await loginForm();
  const passwords = [...Array.from({ length: 39 }, (_, i) => `wrong-guess-${i}`), PASSWORD];
  const answers = await Promise.all(
    passwords.map((password) => request(t.app).post('/staff/login').set('Cookie', cookie).type('form').send({ _csrf: csrf, username: 'burst.agent', password })),
  );
  const statuses = answers.map((r) => r.status);
  // Outcomes other than 'locked' are attempts whose password was verified (argon2).
  const outcomes = (await auditRows(t, { action: 'staff_login', staff_id: ids['burst.agent'] })).map((r) => String(r.outcome));
  const checked = outcomes.filter((o) => o !== 'locked').length;
  console.info(`login burst: ${checked} of 40 passwords checked; outcomes ${JSON.stringify(countBy(outcomes))}; answers ${JSON.stringify(countBy(statuses.map(String)))}`);
  expect(checked).toBeLessThanOrEqual(MAX_FAILED_LOGINS);
  expect(statuses).not.toContain(303);
  expect(statuses[39]).toBe(423);
  expect((await dumpStore(t)).filter((k) => k.key.startsWith(`${t.config.REDIS_PREFIX}staff:sess:`))).toEqual([]);
  // Locked now, even for the right password sent alone.
  expect((await new Console(t).login('burst.agent')).status).toBe(423);
});

test('a known and an unknown username get the same answers, attempt by attempt, and lock at the same attempt', async () => {
  const answersFor = async (username: string) => {
    const c = new Console(t);
    await c.get('/staff/login');
    const out: string[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS + 2; i++) {
      const r = await c.post('/staff/login', { username, password: `not-it-${i}-at-all` });
      out.push(`${r.status} ${errorOf(r.text)}`);
    }
    return out;
  };
  const known = await answersFor('enum.known');
  const unknown = await answersFor('enum.nobody');
  expect(known[0]).toBe('401 The username or password is wrong.');
  expect(known[MAX_FAILED_LOGINS - 1]).toMatch(/^423 Too many failed attempts/);
  expect(unknown).toEqual(known);
});

test('a deactivated account answers the right password exactly like a wrong one', async () => {
  const svc = new StaffService({ db: t.rt.db, store: t.rt.store, blind: t.rt.services.blind });
  const admin = (await svc.byId(ids['admin.sec'] as number))!;
  expect(await svc.update({ staffId: admin.id, username: admin.username, role: admin.role, centreCode: admin.centreCode, channel: 'staff' }, ids['gone.agent'] as number, 'deactivate')).toBe('ok');
  const c = new Console(t);
  await c.get('/staff/login');
  const right = await c.post('/staff/login', { username: 'gone.agent', password: PASSWORD });
  const wrong = await c.post('/staff/login', { username: 'gone.agent', password: 'surely-not-this-one' });
  expect(right.status).toBe(401);
  expect(`${right.status} ${errorOf(right.text)}`).toBe(`${wrong.status} ${errorOf(wrong.text)}`);
  expect(right.text).not.toMatch(/disabled/i);
});

test('a login POST without the CSRF token (a cross-site form) leaves the session cookie alone', async () => {
  const c = new Console(t);
  expect((await c.login('csrf.agent')).status).toBe(303);
  const forged = await c.agent.post('/staff/login').type('form').send({ username: 'csrf.agent', password: PASSWORD });
  expect(forged.status).toBe(403);
  expect(String(forged.headers['set-cookie'] ?? '')).not.toMatch(/simu_staff=/);
  expect((await c.get('/staff/find')).status).toBe(200);
});

test('the console sends HSTS and a Permissions-Policy', async () => {
  const page = await request(t.app).get('/staff/login');
  expect(page.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
  expect(page.headers['permissions-policy']).toMatch(/camera=\(\)/);
});

test('per-address and deployment-wide budgets of failed logins: beyond them nothing is checked, not even a right password', async () => {
  const small = await createTestApp({ STAFF_LOGIN_PER_IP: '5', STAFF_LOGIN_GLOBAL_PER_MIN: '10000' });
  const global = await createTestApp({ STAFF_LOGIN_PER_IP: '10000', STAFF_LOGIN_GLOBAL_PER_MIN: '6' });
  try {
    for (const [app, budget] of [[small, 5], [global, 6]] as const) {
      await addStaff(app, 'budget.agent', 'agent', GPO);
      const c = new Console(app);
      await c.get('/staff/login');
      // Password spraying: one guess per username, so no account locks.
      for (let i = 0; i < budget; i++) expect((await c.post('/staff/login', { username: `spray-${i}`, password: 'Summer2026!' })).status).toBe(401);
      const next = await c.post('/staff/login', { username: 'budget.agent', password: PASSWORD });
      expect(next.status).toBe(429);
      expect(next.text).toContain('Too many failed logins from here');
      expect((await auditRows(app, { action: 'staff_login', outcome: 'throttled' })).length).toBe(1);
    }
  } finally {
    await small.close();
    await global.close();
  }
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
