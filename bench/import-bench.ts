import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../src/config';
import { createDb, ensureDatabase, migrate } from '../src/db';
import { seedDemoData } from '../src/db/seed';
import { createLogger } from '../src/log';
import { createRuntime } from '../src/runtime';
import { createApp } from '../src/app';
import { BlindIndex } from '../src/services/blind-index';
import { AfricasTalkingSender } from '../src/sms/africastalking';
import { startFakeAt } from '../src/sms/fake-at';
import { createThrottle } from '../src/sms/throttle';
import { SmsWorker } from '../src/sms/worker';

/**
 * `npm run bench:import`: 100,000 status changes imported by the real CLI (a process of its own, as
 * an operator would run it) while the gateway serves USSD status sessions, then the resulting SMS
 * drained through the real worker at the configured throttle to the fake AT server.
 * Prints: import changes/s; the gateway's hop p50/p99 before and during the import (and the ratio:
 * "must not block the gateway"); SMS/s at the throttle. Its own database, emptied first.
 *
 *   BENCH_CHANGES=100000 SMS_MAX_PER_SECOND=50 npm run bench:import
 */
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);
const RATE = Number(process.env.SMS_MAX_PER_SECOND ?? 50);
const DRAIN_S = Number(process.env.BENCH_DRAIN_SECONDS ?? 10);
const PROBE_S = Number(process.env.BENCH_PROBE_SECONDS ?? 5);
const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/simu_bench_import';
const KEY = 'bench-id-hash-key-0123456789';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : NaN;
};

function post(port: number, agent: http.Agent, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ussd?token=bench-webhook-secret-0123', method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Status sessions (dial, 1, 2, reference) by `concurrency` citizens until `until()` is false; hop latencies in ms. */
async function probe(port: number, until: () => boolean, concurrency = 4): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (until()) {
        const sid = `bench-${process.pid}-${n++}`;
        let text = '';
        for (const input of [null, '1', '2', '1026100200488']) {
          text = input === null ? '' : text === '' ? input : `${text}*${input}`;
          const t0 = performance.now();
          const reply = await post(port, agent, new URLSearchParams({ sessionId: sid, serviceCode: '*384*2222#', phoneNumber: '+254712345678', networkCode: '63902', text }).toString());
          latencies.push(performance.now() - t0);
          if (!reply.startsWith('CON')) break;
        }
      }
    }),
  );
  agent.destroy();
  return latencies;
}

async function main(): Promise<void> {
  await ensureDatabase(DB_URL);
  const setup = createDb(DB_URL);
  await migrate(setup);
  await setup.raw('TRUNCATE sms_outbound, subscriptions, application_status_history RESTART IDENTITY CASCADE');
  await seedDemoData(setup, new BlindIndex(KEY));
  // Synthetic applications for the demo citizens: 13-digit references 10 + 991125 + 5-digit serial.
  await setup.raw(`DELETE FROM applications WHERE reference LIKE '10991125%'`);
  await setup.raw(
    `INSERT INTO applications (reference, citizen_id, type, status, submitted_on)
     SELECT '10991125' || lpad(i::text, 5, '0'), (SELECT id FROM citizens ORDER BY id OFFSET (i % 7) LIMIT 1), 'passport', 'UNDER_REVIEW', DATE '2026-11-01'
     FROM generate_series(0, ${CHANGES - 1}) AS i`,
  );
  await setup.destroy();
  const dir = mkdtempSync(join(tmpdir(), 'simu-import-'));
  const csv = join(dir, 'changes.csv');
  const rows = ['reference,status,reason,collection_centre'];
  for (let i = 0; i < CHANGES; i++) rows.push(i % 2 === 0 ? `10991125${String(i).padStart(5, '0')},READY_FOR_COLLECTION,,nairobi-gpo` : `10991125${String(i).padStart(5, '0')},PRINTING,,`);
  writeFileSync(csv, rows.join('\n') + '\n');

  const env = { ...process.env, DATABASE_URL: DB_URL, ID_HASH_KEY: KEY, WEBHOOK_SECRET: 'bench-webhook-secret-0123', REDIS_PREFIX: `simu-bench-import:${process.pid}:`, LOG_LEVEL: 'warn' };
  const sink = new PassThrough();
  sink.resume();
  const rt = await createRuntime(loadConfig(env), { logger: createLogger('warn', sink) });
  const server = createApp(rt).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;

  const quietEnd = Date.now() + PROBE_S * 1000;
  const quiet = await probe(port, () => Date.now() < quietEnd);

  let importing = true;
  let importLine = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../src/tools/import-statuses.ts'), csv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (c: Buffer) => (importLine += c.toString()));
  const done = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const [during, code] = await Promise.all([probe(port, () => importing), done.then((c) => ((importing = false), c))]);
  const importS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`import failed (${code}): ${importLine}`);

  const queued = Number((await rt.db('sms_outbound').where({ kind: 'alert', status: 'queued' }).count({ n: '*' }).first())?.n ?? 0);
  const fake = await startFakeAt({ apiKey: 'bench-fake-key' });
  const sender = new AfricasTalkingSender({ baseUrl: fake.url, username: 'bench', apiKey: fake.apiKey, timeoutMs: 10_000 });
  const worker = new SmsWorker({ db: rt.db, sender, logger: rt.logger, throttle: createThrottle(rt.store, 'sms:rate', RATE), options: { retryBaseMs: 0 } });
  const t1 = performance.now();
  worker.start();
  await new Promise((r) => setTimeout(r, DRAIN_S * 1000));
  await worker.stop();
  const drainS = (performance.now() - t1) / 1000;
  const sent = fake.messages().length;

  const last = importLine.trim().split('\n').at(-1) ?? '';
  console.log(`\nimport: ${CHANGES} changes in ${importS.toFixed(1)} s (CLI process start included) = ${(CHANGES / importS).toFixed(0)} changes/s; CLI says: ${last}`);
  console.log(`alerts queued: ${queued} (half the changes are READY_FOR_COLLECTION; the other half PRINTING, which sends nothing)`);
  console.log(`gateway during the import: hop p50 ${pct(during, 50).toFixed(1)} ms, p99 ${pct(during, 99).toFixed(1)} ms over ${during.length} hops; before: p50 ${pct(quiet, 50).toFixed(1)} ms, p99 ${pct(quiet, 99).toFixed(1)} ms over ${quiet.length} hops; p99 ratio during/before ${(pct(during, 99) / pct(quiet, 99)).toFixed(2)}`);
  console.log(`SMS drain at SMS_MAX_PER_SECOND=${RATE}: ${sent} sent in ${drainS.toFixed(1)} s = ${(sent / drainS).toFixed(1)} SMS/s; the ${queued} alerts take ~${(queued / Math.max(RATE, 1) / 60).toFixed(0)} min at this rate`);

  await fake.close();
  server.close();
  await rt.close();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
