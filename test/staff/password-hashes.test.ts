import { hashPassword, needsRehash, verifyPassword } from '../../src/services/passwords';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { Console, GPO, addStaff } from './helpers';

/**
 * Staff password hashes stored before the switch from the `argon2` package (node-gyp on Node 20)
 * to `@node-rs/argon2` must keep working. These PHC strings were made by argon2 0.45.1 itself:
 *   argon2.hash(password, { type: argon2.argon2id, memoryCost, timeCost, parallelism })
 */
const LEGACY_CURRENT_PARAMS = {
  password: 'correct horse battery staple',
  hash: '$argon2id$v=19$m=19456,p=1,t=2$wqSlL4XcCdxuYimBievWEA$iNj3LWvktsW3EX8MKvj3pLtbSUFkzsYkOGrsoM0dPQ0',
};
/** Stronger, older-style parameters (64 MiB, 3 passes, 4 lanes): verifies, and is re-hashed at login. */
const LEGACY_OTHER_PARAMS = {
  password: 'Huduma-Centre-2026',
  hash: '$argon2id$v=19$m=65536,p=4,t=3$1CUQLRIydCPFdCsjX2VEhw$1KaCID6zD9oYOvNeBLsxqtE8q2V0SU7uz61y8oXxabU',
};

/** The parameters of a PHC string, in any order (argon2 wrote m,p,t; the reference implementation writes m,t,p). */
const paramsOf = (phc: string): Record<string, string> =>
  Object.fromEntries((phc.split('$')[3] ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
const CURRENT = { m: '19456', t: '2', p: '1' };

test('a hash made by the argon2 package verifies with its password and with no other', async () => {
  expect(await verifyPassword(LEGACY_CURRENT_PARAMS.hash, LEGACY_CURRENT_PARAMS.password)).toBe(true);
  expect(await verifyPassword(LEGACY_CURRENT_PARAMS.hash, 'correct horse battery stapler')).toBe(false);
  expect(await verifyPassword(LEGACY_CURRENT_PARAMS.hash, '')).toBe(false);
  expect(needsRehash(LEGACY_CURRENT_PARAMS.hash)).toBe(false);

  expect(await verifyPassword(LEGACY_OTHER_PARAMS.hash, LEGACY_OTHER_PARAMS.password)).toBe(true);
  expect(await verifyPassword(LEGACY_OTHER_PARAMS.hash, 'huduma-centre-2026')).toBe(false);
  expect(needsRehash(LEGACY_OTHER_PARAMS.hash)).toBe(true);
});

test('a hash of the argon2 package with one changed byte, or a malformed one, never matches', async () => {
  const tampered = LEGACY_CURRENT_PARAMS.hash.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  expect(await verifyPassword(tampered, LEGACY_CURRENT_PARAMS.password)).toBe(false);
  expect(await verifyPassword('$argon2id$v=19$m=19456,p=1,t=2$nonsense', LEGACY_CURRENT_PARAMS.password)).toBe(false);
  expect(await verifyPassword('', LEGACY_CURRENT_PARAMS.password)).toBe(false);
  expect(needsRehash('not a hash')).toBe(true);
});

test('new hashes are argon2id PHC strings with the current parameters, salted afresh each time', async () => {
  const a = await hashPassword(LEGACY_CURRENT_PARAMS.password);
  const b = await hashPassword(LEGACY_CURRENT_PARAMS.password);
  expect(a).toMatch(/^\$argon2id\$v=19\$/);
  expect(paramsOf(a)).toEqual(CURRENT);
  expect(a).not.toBe(b);
  expect(await verifyPassword(a, LEGACY_CURRENT_PARAMS.password)).toBe(true);
  expect(needsRehash(a)).toBe(false);
});

describe('a staff member whose hash the argon2 package made', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await addStaff(t, 'legacy.agent', 'agent', GPO);
    await t.rt.db('staff').where({ username: 'legacy.agent' }).update({ password_hash: LEGACY_OTHER_PARAMS.hash });
  });
  afterAll(async () => t.close());

  test('logs in with the old password at the console, and the hash is replaced by one with the current parameters', async () => {
    expect((await new Console(t).login('legacy.agent', 'not-the-password')).status).not.toBe(303);
    expect((await new Console(t).login('legacy.agent', LEGACY_OTHER_PARAMS.password)).status).toBe(303);
    const { password_hash: stored } = await t.rt.db('staff').where({ username: 'legacy.agent' }).first('password_hash');
    expect(stored).not.toBe(LEGACY_OTHER_PARAMS.hash);
    expect(stored).toMatch(/^\$argon2id\$v=19\$/);
    expect(paramsOf(stored)).toEqual(CURRENT);
    expect((await new Console(t).login('legacy.agent', LEGACY_OTHER_PARAMS.password)).status).toBe(303);
  });
});
