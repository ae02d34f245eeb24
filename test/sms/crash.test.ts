import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createDb, type Db } from '../../src/db';
import { createLogger } from '../../src/log';
import { AfricasTalkingSender } from '../../src/sms/africastalking';
import { startFakeAt, type FakeAt } from '../../src/sms/fake-at';
import { enqueueSms } from '../../src/sms/outbox';
import { SmsWorker } from '../../src/sms/worker';
import { storeEnv } from '../helpers/env';
import { eventually, TEST_AT_USERNAME, TEST_WORKER_OPTIONS } from '../helpers/sms';
import { createTestDatabase } from '../helpers/test-app';

/**
 * A real worker process (`npm run worker`'s entry point, under tsx) crashes while its send is in
 * flight: the fake AT holds the call, and the worker's whole process group (tsx and the node
 * process running the worker) is SIGKILLed. The message was committed and claimed, never recorded.
 * Once the dead worker's lease has run out (the next worker's clock is moved past it, no waiting),
 * the next worker sends it — once. No process of the crashed worker survives the test.
 */
let db: Db;
let dbUrl: string;
let fake: FakeAt;
let child: ChildProcess | null = null;
const marker = `simu-crash-test-${randomBytes(6).toString('hex')}`;

/** Pids of the processes whose environment carries this test's marker (Linux /proc). */
function markedProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`SIMU_TEST_MARKER=${marker}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** True while any process of the group led by `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

beforeAll(async () => {
  dbUrl = await createTestDatabase();
  db = createDb(dbUrl);
  fake = await startFakeAt({ username: TEST_AT_USERNAME });
});
afterAll(async () => {
  // Whatever happened above, nothing of the worker outlives the test.
  if (child?.pid && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
  await fake.close();
  await db.destroy();
});

test('worker process group killed mid-send → after its lease, the next worker sends the message, exactly once', async () => {
  const id = await db.transaction((trx) => enqueueSms(trx, { to: '+254712345678', body: 'Your e-Citizen code is 314159', kind: 'login_code' }));
  fake.failNext(1, { kind: 'timeout' }); // AT holds the first call: the worker is mid-send when it dies

  child = spawn(join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, '..', '..', 'src', 'sms', 'worker-main.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      SIMU_TEST_MARKER: marker,
      DATABASE_URL: dbUrl,
      ...storeEnv(),
      REDIS_PREFIX: `simu-test:${process.env.SIMU_TEST_RUN}:${randomBytes(4).toString('hex')}:`,
      AT_API_URL: fake.url,
      AT_API_KEY: fake.apiKey,
      AT_USERNAME: TEST_AT_USERNAME,
      AT_TIMEOUT_MS: '60000',
      SMS_MAX_PER_SECOND: '0',
      LOG_LEVEL: 'error',
    },
    stdio: 'ignore',
    detached: true, // its own process group: tsx and the worker's node process die together
  });
  const pgid = child.pid!;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));

  await eventually(() => fake.holding === 1, 25_000);
  const claimed = await db('sms_outbound').where({ id }).first();
  expect(claimed).toMatchObject({ status: 'sending', attempts: 1 });
  // The worker itself runs in a process other than tsx's, in the same group.
  expect(markedProcesses().filter((pid) => pid !== pgid).length).toBeGreaterThan(0);

  process.kill(-pgid, 'SIGKILL');
  expect(await exited).toBe('SIGKILL');
  await eventually(() => !groupAlive(pgid) && markedProcesses().length === 0, 10_000);
  fake.dropHeld(); // the dead worker's connection
  expect(fake.messages()).toHaveLength(0);

  // The next worker, on a clock it can set: while the dead worker's lease runs, the row is not taken …
  const leaseEnd = new Date(claimed.next_attempt_at).getTime();
  let clock = leaseEnd - 1000;
  const sink = new PassThrough();
  sink.resume();
  const next = new SmsWorker({
    db,
    sender: new AfricasTalkingSender({ baseUrl: fake.url, username: TEST_AT_USERNAME, apiKey: fake.apiKey, timeoutMs: 2000 }),
    logger: createLogger('error', sink),
    options: { ...TEST_WORKER_OPTIONS, now: () => clock },
  });
  expect(await next.drain()).toMatchObject({ claimed: 0 });
  expect(await db('sms_outbound').where({ id }).first()).toMatchObject({ status: 'sending', attempts: 1 });
  // … once it has run out, it is sent, once.
  clock = leaseEnd + 1000;
  expect(await next.drain()).toMatchObject({ sent: 1 });
  await next.drain();
  expect(fake.messages().map((m) => m.message)).toEqual(['Your e-Citizen code is 314159']);
  expect(await db('sms_outbound').where({ id }).first()).toMatchObject({ status: 'sent', attempts: 2 });
}, 60_000);
