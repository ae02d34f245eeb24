import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createDb, ensureDatabase, migrate } from '../src/db';
import { createLogger } from '../src/log';
import { AfricasTalkingSender } from '../src/sms/africastalking';
import { startFakeAt, type FakeSms } from '../src/sms/fake-at';
import { enqueueSms } from '../src/sms/outbox';
import { SmsWorker } from '../src/sms/worker';

/**
 * `npm run bench:sms`: enqueue N messages (default 10,000), one transaction each as a service
 * would, then drain them through the real worker and the real AT client to the fake AT server on
 * loopback, with the throttle lifted. Prints enqueue/s, messages/s, and the fake server's own count
 * to show every message arrived exactly once. Its own database (simu_bench_sms), emptied first.
 * The fake AT runs in a process of its own (as AT is not in ours); BENCH_FAKE=inprocess puts it in
 * this one (then the figure includes the fake's own HTTP work).
 *
 *   BENCH_N=10000 BENCH_WORKERS=2 BENCH_BATCH=100 BENCH_CONCURRENCY=32 npm run bench:sms
 */
const N = Number(process.env.BENCH_N ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ENQUEUE_CONCURRENCY = Number(process.env.BENCH_ENQUEUE_CONCURRENCY ?? 16);
const FAKE_IN_PROCESS = process.env.BENCH_FAKE === 'inprocess';
const FAKE_KEY = 'bench-fake-key';
const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/simu_bench_sms';

async function main(): Promise<void> {
  await ensureDatabase(DB_URL);
  const db = createDb(DB_URL, { poolMax: 24 });
  await migrate(db);
  await db.raw('TRUNCATE sms_outbound, sms_delivery_unmatched RESTART IDENTITY CASCADE');
  const fake = FAKE_IN_PROCESS ? await inProcessFake() : await childFake();
  const sink = new PassThrough();
  sink.resume();
  const logger = createLogger('warn', sink);

  // 1) enqueue, one committed transaction per message
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: ENQUEUE_CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const phone = `+2547${String(10_000_000 + (i % 90_000_000)).padStart(8, '0')}`;
        await db.transaction((trx) => enqueueSms(trx, { to: phone, body: `Simu bench message ${i}: your code is ${String(i % 1_000_000).padStart(6, '0')}`, kind: 'notice' }));
      }
    }),
  );
  const enqueueS = (performance.now() - t0) / 1000;

  // 2) drain with the throttle lifted
  const sender = new AfricasTalkingSender({ baseUrl: fake.url, username: 'bench', apiKey: fake.apiKey, senderId: 'ECITIZEN', timeoutMs: 10_000 });
  const workers = Array.from({ length: WORKERS }, () => new SmsWorker({ db, sender, logger, options: { batchSize: BATCH, concurrency: CONCURRENCY, retryBaseMs: 0 } }));
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const stats = await Promise.all(workers.map((w) => w.drain()));
  const drainS = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;

  // 3) proof: every message arrived once, and the outbox agrees
  const { calls, messages: got } = await fake.received();
  const unique = new Set(got.map((m) => m.message)).size;
  const rows: Array<{ status: string; c: string }> = (await db.raw('SELECT status, count(*) AS c FROM sms_outbound GROUP BY status')).rows;
  const sent = stats.reduce((a, s) => a + s.sent, 0);

  const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(28)}${v}\n`);
  process.stdout.write(`\nSMS bench: ${N} messages, ${WORKERS} worker(s) × batch ${BATCH} × ${CONCURRENCY} in flight, throttle off, fake AT ${FAKE_IN_PROCESS ? 'in this process' : 'in its own process'}\n`);
  line('enqueue', `${enqueueS.toFixed(2)} s  ${(N / enqueueS).toFixed(0)} msg/s (${ENQUEUE_CONCURRENCY} concurrent transactions)`);
  line('drain to fake AT', `${drainS.toFixed(2)} s  ${(sent / drainS).toFixed(0)} msg/s`);
  line('worker process CPU', `${cpuS.toFixed(2)} s  ${(sent / cpuS).toFixed(0)} msg per CPU-second (what one core would do alone; load ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`);
  line('workers reported sent', `${sent}  (${stats.map((s) => s.sent).join(' + ')})`);
  line('fake AT received', `${got.length} messages, ${unique} distinct, ${calls} calls`);
  line('outbox by status', rows.map((r) => `${r.status}=${r.c}`).join(' '));
  const ok = got.length === N && unique === N && calls === N && sent === N;
  line('exactly once', ok ? 'yes' : 'NO');

  sender.close();
  await fake.close();
  await db.destroy();
  process.exit(ok ? 0 : 1);
}

interface BenchFake {
  url: string;
  apiKey: string;
  received(): Promise<{ calls: number; messages: FakeSms[] }>;
  close(): Promise<void>;
}

async function inProcessFake(): Promise<BenchFake> {
  const fake = await startFakeAt({ apiKey: FAKE_KEY });
  return { url: fake.url, apiKey: FAKE_KEY, received: async () => ({ calls: fake.calls, messages: fake.messages() }), close: () => fake.close() };
}

async function childFake(): Promise<BenchFake> {
  const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const child: ChildProcess = spawn(tsx, [join(__dirname, '..', 'src', 'sms', 'fake-at-main.ts')], {
    env: { ...process.env, FAKE_AT_PORT: '0', FAKE_AT_KEY: FAKE_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGTERM')); // never leave it behind, even when the bench fails
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /fake AT listening on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`fake AT exited (${code})`)));
  });
  return {
    url,
    apiKey: FAKE_KEY,
    received: async () => (await (await fetch(`${url}/_fake/messages`)).json()) as { calls: number; messages: FakeSms[] },
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
