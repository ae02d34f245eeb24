import { createTestApp, type TestApp } from '../helpers/test-app';
import { Console, GPO, PASSWORD, addStaff, auditRows } from './helpers';

/** A staff member changes their own password from the console. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await addStaff(t, 'pw.agent', 'agent', GPO);
});
afterAll(async () => t.close());

test('the current password is asked again; the rules are those of creation; the new password works and the old one no longer does', async () => {
  const c = new Console(t);
  expect((await c.login('pw.agent')).status).toBe(303);
  const form = await c.get('/staff/password');
  expect(form.status).toBe(200);
  expect(form.text).toContain('<label for="f-current">Current password</label>');
  expect(form.text).toContain('href="/staff/password"');

  const wrong = await c.post('/staff/password', { current: 'not-my-password', next: 'a-brand-new-pass', again: 'a-brand-new-pass' });
  expect(wrong.status).toBe(400);
  expect(wrong.text).toContain('The current password is not right.');
  const mismatch = await c.post('/staff/password', { current: PASSWORD, next: 'a-brand-new-pass', again: 'a-brand-new-pasz' });
  expect(mismatch.status).toBe(400);
  expect(mismatch.text).toContain('The two new passwords are not the same.');
  const short = await c.post('/staff/password', { current: PASSWORD, next: 'short', again: 'short' });
  expect(short.text).toContain('The new password is too short');
  const csrf = await c.post('/staff/password', { current: PASSWORD, next: 'a-brand-new-pass', again: 'a-brand-new-pass', _csrf: null });
  expect(csrf.status).toBe(403);

  const ok = await c.post('/staff/password', { current: PASSWORD, next: 'a-brand-new-pass', again: 'a-brand-new-pass' });
  expect(ok.status).toBe(303);
  expect(ok.headers.location).toBe('/staff/find');

  expect((await new Console(t).login('pw.agent', PASSWORD)).status).not.toBe(303);
  expect((await new Console(t).login('pw.agent', 'a-brand-new-pass')).status).toBe(303);
  const outcomes = (await auditRows(t, { action: 'password_change' })).map((r) => r.outcome);
  expect(outcomes).toEqual(['bad_current', 'too_short', 'ok']);
  const hash = (await t.rt.db('staff').where({ username: 'pw.agent' }).first('password_hash')).password_hash as string;
  expect(hash).toMatch(/^\$argon2id\$/);
});
