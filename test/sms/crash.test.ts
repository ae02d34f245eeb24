import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createDb, type Db } from '../../src/db';
import { createLogger } from '../../src/log';
import { AfricasTalkingSender } from '../../src/sms/africastalking';
import { startFakeAt, type FakeAt } from '../../src/sms/fake-at';
import { enqueueSms } from '../../src/sms/outbox';
import { SmsWorker } from '../../src/sms/worker';
import { redisUrl } from '../helpers/env';
import { eventually, TEST_AT_USERNAME, TEST_WORKER_OPTIONS } from '../helpers/sms';
import { createTestDatabase } from '../helpers/test-app';

/**
 * A real worker process (`npm run worker`'s entry point) is killed with SIGKILL while its send is in
 * flight: the message was committed and claimed, never recorded. After the lease, the next worker
 * sends it — once.
 */
let db: Db;
let dbUrl: string;
let fake: FakeAt;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
  db = createDb(dbUrl);
  fake = await startFakeAt({ username: TEST_AT_USERNAME });
});
afterAll(async () => {
  await fake.close();
  await db.destroy();
});

test('worker process killed mid-send → the message is sent by the next worker, exactly once', async () => {
  const id = await db.transaction((trx) => enqueueSms(trx, { to: '+254712345678', body: 'Your e-Citizen code is 314159', kind: 'login_code' }));
  fake.failNext(1, { kind: 'timeout' }); // the first call hangs: the process dies waiting for AT

  const child = spawn(join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, '..', '..', 'src', 'sms', 'worker-main.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: `simu-test:${process.env.SIMU_TEST_RUN}:${randomBytes(4).toString('hex')}:`,
      AT_API_URL: fake.url,
      AT_API_KEY: fake.apiKey,
      AT_USERNAME: TEST_AT_USERNAME,
      AT_TIMEOUT_MS: '60000',
      SMS_MAX_PER_SECOND: '0',
      LOG_LEVEL: 'error',
    },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  try {
    await eventually(() => fake.holding === 1, 25_000);
    expect(await db('sms_outbound').where({ id }).first()).toMatchObject({ status: 'sending', attempts: 1 });
  } finally {
    child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
  expect(fake.messages()).toHaveLength(0);

  // The row is still claimed by the dead worker; its lease runs out (here: now).
  await db('sms_outbound').where({ id }).update({ next_attempt_at: new Date(Date.now() - 1000) });
  const sink = new PassThrough();
  sink.resume();
  const next = new SmsWorker({
    db,
    sender: new AfricasTalkingSender({ baseUrl: fake.url, username: TEST_AT_USERNAME, apiKey: fake.apiKey, timeoutMs: 2000 }),
    logger: createLogger('error', sink),
    options: TEST_WORKER_OPTIONS,
  });
  expect(await next.drain()).toMatchObject({ sent: 1 });
  await next.drain();
  expect(fake.messages().map((m) => m.message)).toEqual(['Your e-Citizen code is 314159']);
  expect(await db('sms_outbound').where({ id }).first()).toMatchObject({ status: 'sent', attempts: 2 });
}, 40_000);
