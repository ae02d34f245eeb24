import { createTestApp, type TestApp } from '../helpers/test-app';
import { MAX_FAILED_LOGINS } from '../../src/services/staff';
import { Api, Console, GPO, PASSWORD, addStaff, auditRows, tokenFor } from '../staff/helpers';

/**
 * Issue 10, finding 10: /staff/password let whoever sat at a logged-in PC guess the current
 * password without limit, and a password change left the member's other sessions and API tokens alive.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await addStaff(t, 'guessed.agent', 'agent', GPO);
  await addStaff(t, 'changer.agent', 'agent', GPO);
});
afterAll(async () => t.close());

test('wrong current passwords count toward the lock: the last allowed one locks the account and ends the session', async () => {
  const c = new Console(t);
  expect((await c.login('guessed.agent')).status).toBe(303);
  const statuses: number[] = [];
  for (let i = 0; i < MAX_FAILED_LOGINS + 3; i++) {
    await c.get('/staff/password');
    statuses.push((await c.post('/staff/password', { current: `guess-number-${i}`, next: 'a-brand-new-pass', again: 'a-brand-new-pass' })).status);
  }
  expect(statuses.slice(0, MAX_FAILED_LOGINS - 1)).toEqual(Array(MAX_FAILED_LOGINS - 1).fill(400));
  expect(statuses[MAX_FAILED_LOGINS - 1]).toBe(423);
  // The session is gone: the rest were not even tried, and the page asks for a login.
  const after = await c.get('/staff/find');
  expect(after.status).toBe(303);
  expect(after.headers.location).toBe('/staff/login');
  const checked = (await auditRows(t, { action: 'password_change' })).filter((r) => r.outcome !== 'locked');
  expect(checked.length).toBeLessThanOrEqual(MAX_FAILED_LOGINS);
  // The account is locked for the right password too.
  expect((await new Console(t).login('guessed.agent')).status).toBe(423);
});

test('a password change ends the member’s other sessions and revokes their API tokens; this session goes on', async () => {
  const here = new Console(t);
  const elsewhere = new Console(t);
  expect((await here.login('changer.agent')).status).toBe(303);
  expect((await elsewhere.login('changer.agent')).status).toBe(303);
  const staffId = (await t.rt.db('staff').where({ username: 'changer.agent' }).first('id')).id as number;
  const api = new Api(t, await tokenFor(t, staffId));
  expect((await api.get('/me')).status).toBe(200);

  await here.get('/staff/password');
  const ok = await here.post('/staff/password', { current: PASSWORD, next: 'a-brand-new-pass', again: 'a-brand-new-pass' });
  expect(ok.status).toBe(303);
  expect((await here.get('/staff/find')).status).toBe(200);
  const other = await elsewhere.get('/staff/find');
  expect(other.status).toBe(303);
  expect(other.headers.location).toBe('/staff/login');
  expect((await api.get('/me')).status).toBe(401);
});
