import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DEV_SECRETS } from '../../src/config';
import { createTestDatabase } from '../helpers/test-app';
import { storeEnv, testStore } from '../helpers/env';
import { openTestStore } from '../helpers/store';

/**
 * The real gateway (`tsx src/main.ts`) started in production mode as a child process, as an
 * operator starts it. Issue 10, finding 5: the start-up output carried WEBHOOK_SECRET in every
 * callback URL. Finding 6: a published dev secret was accepted.
 */
const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Starts the gateway with `env` (and only PATH and HOME from this process). Resolves when it exits,
 * or, if `until` appears on stdout, stops it with SIGTERM first. Killed after `ms` in any case.
 */
function runGateway(env: Record<string, string>, until: string | null, ms = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (until && out.includes(until)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const hex32 = () => randomBytes(32).toString('hex');
/** A stack trace line, as node prints them. */
const STACK = /^\s+at .+[:(]/m;
/** Nothing listens here: a gateway that got past its config would fail on the database instead. */
const NO_DATABASE = 'postgres://postgres@127.0.0.1:1/simu_never';

test.each([
  ['WEBHOOK_SECRET', { WEBHOOK_SECRET: DEV_SECRETS.WEBHOOK_SECRET, ID_HASH_KEY: hex32() }, /WEBHOOK_SECRET: is a published dev default, refused in production/],
  ['ID_HASH_KEY', { WEBHOOK_SECRET: hex32(), ID_HASH_KEY: 'sixteen-chars-ok' }, /ID_HASH_KEY: must be at least 32 random bytes in production/],
])('NODE_ENV=production with a bad %s: the gateway exits non-zero with one clear message, no stack trace', async (_variable, secrets, message) => {
  const run = await runGateway({ NODE_ENV: 'production', PORT: '0', DATABASE_URL: NO_DATABASE, ...storeEnv(), ...secrets }, null);
  expect(run.code).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.err).toMatch(/^Simu could not start: Invalid configuration:/);
  expect(run.err).toMatch(message);
  expect(run.err).not.toMatch(STACK);
  expect(run.out).not.toMatch(/listening/);
}, 90_000);

test('NODE_ENV=production with good secrets: it starts, and nothing it prints holds the webhook secret', async () => {
  const secret = hex32();
  const previous = hex32();
  const idKey = hex32();
  const prefix = `simu-test:${process.env.SIMU_TEST_RUN}:startup-${randomBytes(4).toString('hex')}:`;
  const run = await runGateway({
    NODE_ENV: 'production',
    PORT: '0',
    DATABASE_URL: await createTestDatabase(),
    ...storeEnv(),
    REDIS_PREFIX: prefix,
    WEBHOOK_SECRET: secret,
    WEBHOOK_SECRET_PREVIOUS: previous,
    ID_HASH_KEY: idKey,
    AT_API_KEY: hex32(),
    SMS_WORKER: 'off',
    LOG_LEVEL: 'debug',
  }, 'Simu is listening');
  // Whatever it wrote under its prefix (the Postgres store's rows go with the test database).
  if (testStore() === 'redis') {
    const left = await openTestStore(prefix);
    await left.store.clear();
    await left.close();
  }

  expect(run.out).toContain('Simu is listening');
  const printed = run.out + run.err;
  for (const s of [secret, previous, idKey]) {
    expect(printed).not.toContain(s);
    expect(printed).not.toContain(s.slice(0, 12));
  }
  expect(run.out).toMatch(/\/ussd\?token=…/);
  expect(run.out).toMatch(/\/sms\/delivery\?token=…/);
}, 90_000);
