/**
 * `npm run bench`: simulated citizens dialling the gateway as Africa's Talking relays them, against
 * real Redis and PostgreSQL, and in the same run the same load against a minimal express app that
 * answers `END ok` (the ceiling of the framework on this machine). Rounds are interleaved (ceiling,
 * gateway, ceiling, gateway …) and medians reported, since the machine's speed drifts.
 *
 *   npm run bench -- [--concurrency 50] [--seconds 10] [--rounds 3] [--warmup 3] [--mine 0.3] [--profile DIR] [--compare DIR]
 *
 * With --profile the gateway's measured rounds are CPU-profiled (figures then include the profiler's cost).
 *
 * The gateway and the ceiling each run in a child process (this file with `--role gateway|ceiling`)
 * on a loopback ephemeral port, so the load generator here does not share their event loop. The
 * gateway gets its own database (simu_bench: migrated, demo data, plus one bench citizen per
 * simulated phone) and its own Redis prefix, removed at the end.
 *
 * Each simulated citizen has its own phone (a copy of a demo citizen and their applications, with
 * new references) and runs sessions back to back: "by number" (dial, 1, 2, reference, answer) and a
 * share of "My applications" (dial, 1, 1, pick, answer; with 98 More for the citizen with 8). A
 * session counts when its last screen shows the expected application (END, or CON when the answer
 * offers more, e.g. an SMS subscription: the citizen then hangs up); any other answer (an apology, a
 * 5xx, a timeout, a wrong screen) is an error. No end-of-session notifications are sent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { stringify } from 'node:querystring';
import { parseArgs } from 'node:util';
import express from 'express';
import { Redis } from 'ioredis';
import demo from '../seeds/data/demo.json';
import { loadConfig } from '../src/config';
import { createDb, ensureDatabase, migrate, type Db } from '../src/db';
import { seedDemoData } from '../src/db/seed';
import { luhnValid } from '../src/domain/reference';
import { catalogues } from '../src/i18n';
import { BlindIndex } from '../src/services/blind-index';
import { PostgresStore } from '../src/store';

// The gateway runs in production mode, which refuses short or dev secrets: keys of production's shape.
// (derived from fixed words, so every child process of the bench computes the same ones).
const SECRET = createHash('sha256').update('simu bench webhook secret').digest('hex');
const ID_HASH_KEY = createHash('sha256').update('simu bench id hash key').digest('hex');
const HOP_TIMEOUT_MS = 15000;

// ───────────────────────────── child processes ─────────────────────────────

/** Tells the parent where this child listens. */
function announce(port: number): void {
  process.send?.({ port });
}

async function runGateway(): Promise<void> {
  // --compare DIR: the same gateway from another checkout (its src/, this node_modules), for before/after in one run.
  const src = process.env.BENCH_GATEWAY_SRC ? join(resolve(process.env.BENCH_GATEWAY_SRC), 'src') : join(__dirname, '..', 'src');
  const { createRuntime } = (await import(join(src, 'runtime'))) as typeof import('../src/runtime');
  const { createApp } = (await import(join(src, 'app'))) as typeof import('../src/app');
  const config = loadConfig(process.env);
  const rt = await createRuntime(config);
  const server = createApp(rt).listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
  if (process.env.BENCH_PROFILE_DIR) await profileOnRequest(process.env.BENCH_PROFILE_DIR);
  // SQL statements sent, counted through knex's public 'query' event, for the parent's per-session figures.
  let queries = 0;
  rt.db.on('query', () => void queries++);
  process.on('message', (m: unknown) => m === 'count:queries' && process.send?.({ queries }));
  onStop(async () => {
    server.closeAllConnections();
    server.close();
    await rt.close();
  });
}

async function runCeiling(): Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  app.post('/ussd', (_req, res) => void res.status(200).type('text/plain').send('END ok'));
  const server = app.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
  onStop(async () => {
    server.closeAllConnections();
    server.close();
  });
}

/**
 * The floor: what any implementation of these sessions on this stack must do per hop, without the
 * engine. The same callback checks (ussdCallbackChecks: token, form, parser), the same Redis scripts (SessionStore:
 * lock + read, save + release), the same SQL as the gateway at the same hops (the dial's query on
 * a dial, the status look-up when a 13-digit reference arrives, "My applications" after 1*1), and
 * a saved record of a typical size; it answers `CON ok` without running a flow. The gateway can
 * approach it but not pass it: the distance between the two is what the engine (XState, screens,
 * catalogues, hashing) costs.
 */
async function runFloor(): Promise<void> {
  const { createRuntime } = await import('../src/runtime');
  const { ussdCallbackChecks } = await import('../src/channels/ussd/router');
  const { atCallbackChecks } = await import('../src/http/at-callback');
  const config = loadConfig(process.env);
  const rt = await createRuntime(config);
  const store = rt.store.ussdSessions({ sessionTtlS: config.SESSION_TTL_S, resumeTtlS: config.RESUME_TTL_S });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // A record of the size the gateway saves mid-session (its median is about 0.75 KB).
  const snapshot = { status: 'active', value: { byNumber: 'askReference' }, historyValue: {}, context: { tries: 0, reference: null, padding: 'x'.repeat(420) }, children: {} };
  app.post('/ussd', ...ussdCallbackChecks(atCallbackChecks({ secrets: [SECRET] })), async (req, res) => {
    const { sessionId, phoneNumber: phone, text } = req.body as { sessionId: string; phoneNumber: string; text: string };
    const phoneHash = rt.services.blind.phone(phone);
    const held = await store.acquire(sessionId, phoneHash, Date.now() + 2000);
    const inputs = text === '' ? [] : text.split('*');
    const last = inputs[inputs.length - 1] ?? '';
    if (inputs.length === 0) await rt.services.notices.dialContext(phone);
    else if (/^\d{13}$/.test(last)) await rt.services.applications.lookup(last, phone);
    else if (text === '1*1') await rt.services.applications.listByPhone(phone);
    const reply = 'CON ok';
    await held.saveOngoing({
      v: 1, state: { flow: 'check-status', version: 2, snapshot }, lang: 'en', page: 0,
      lastTextHash: rt.services.blind.text(text), lastTextLen: text.length, lastReply: reply,
      hops: (held.record?.hops ?? 0) + 1, startedAt: held.record?.startedAt ?? Date.now(), phoneHash,
    }, null);
    res.status(200).type('text/plain').send(reply);
  });
  const server = app.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
  if (process.env.BENCH_PROFILE_DIR) await profileOnRequest(process.env.BENCH_PROFILE_DIR);
  onStop(async () => {
    server.closeAllConnections();
    server.close();
    await rt.close();
  });
}

/**
 * CPU profile of the measured gateway rounds only (not start-up, warm-up or the ceiling's rounds):
 * the parent sends `profile:start` / `profile:stop <file>` around each gateway round.
 */
async function profileOnRequest(dir: string): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  process.on('message', (m: unknown) => {
    if (m === 'profile:start') void session.post('Profiler.start').then(() => process.send?.('profile:started'));
    if (typeof m === 'string' && m.startsWith('profile:stop ')) {
      void session.post('Profiler.stop').then(({ profile }) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, m.slice('profile:stop '.length)), JSON.stringify(profile));
        process.send?.('profile:stopped');
      });
    }
  });
}

/** Sends a message to a child and waits for its answer. */
function ask(c: Child, message: string, answer: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (m !== answer) return;
      c.proc.off('message', on);
      resolve();
    };
    c.proc.on('message', on);
    c.proc.send(message);
  });
}

function onStop(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('disconnect', stop);
  process.on('message', (m) => m === 'stop' && stop());
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

interface Child {
  name: string;
  proc: ChildProcess;
  port: number;
}

function startChild(role: 'gateway' | 'ceiling' | 'floor', env: NodeJS.ProcessEnv, name: string = role): Promise<Child> {
  const proc = fork(__filename, ['--role', role], { env, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 60 s`)), 60000);
    proc.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m?.port === 'number') resolve({ name, proc, port: m.port });
      else reject(new Error(`${role} sent ${JSON.stringify(m)}`));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with code ${code} before listening`));
    });
  });
}

function stopChild(c: Child): Promise<void> {
  return new Promise((resolve) => {
    if (c.proc.exitCode !== null) return resolve();
    const kill = setTimeout(() => c.proc.kill('SIGKILL'), 10000);
    c.proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.proc.send('stop');
  });
}

/** CPU seconds a process has used so far (Linux /proc), or null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return null;
  }
}

/** Jiffies of the whole machine (all CPUs) from /proc/stat: busy (our work and everyone else's), steal, total. */
function machineTicks(): { busy: number; steal: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return null;
  }
}

// ───────────────────────────── bench citizens ─────────────────────────────

interface BenchApp {
  reference: string;
  submittedOn: string;
}

interface BenchCitizen {
  phone: string;
  lang: 'en' | 'sw';
  apps: BenchApp[];
}

function withCheckDigit(first12: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(first12 + d)) return first12 + d;
  throw new Error('no check digit');
}

/**
 * One citizen per simulated phone, each a copy of a demo citizen (taken in turn) with the same
 * applications under new references: a phone used by one simulated citizen only, as in real life
 * (two sessions of one phone at once would meet each other's resume offer).
 */
function benchCitizens(n: number): BenchCitizen[] {
  const out: BenchCitizen[] = [];
  for (let i = 0; i < n; i++) {
    const t = demo.citizens[i % demo.citizens.length]!;
    const apps = demo.applications
      .filter((a) => a.citizen === t.key)
      .map((a) => ({ reference: withCheckDigit(a.reference.slice(0, 8) + String(5000 + i).padStart(4, '0')), submittedOn: a.submitted_on }));
    out.push({ phone: `+25476${String(i).padStart(7, '0')}`, lang: t.language as 'en' | 'sw', apps });
  }
  return out;
}

async function seedBenchCitizens(db: Db, blind: BlindIndex, n: number): Promise<BenchCitizen[]> {
  const list = benchCitizens(n);
  await db.transaction(async (trx) => {
    for (let i = 0; i < n; i++) {
      const t = demo.citizens[i % demo.citizens.length]!;
      const c = list[i]!;
      const [row] = await trx('citizens')
        .insert({ id_hash: blind.idNumber(`9${String(i).padStart(7, '0')}`), first_name: t.first_name, last_name: t.last_name, birth_date: t.birth_date, phone: c.phone })
        .onConflict('id_hash').merge()
        .returning('id');
      await trx('preferences').insert({ phone_hash: blind.phone(c.phone), language: c.lang }).onConflict('phone_hash').merge();
      const templates = demo.applications.filter((a) => a.citizen === t.key);
      for (const [k, a] of templates.entries()) {
        await trx('applications')
          .insert({ reference: c.apps[k]!.reference, citizen_id: row.id, type: a.type, status: a.status, reason: a.reason, collection_centre: a.collection_centre, submitted_on: a.submitted_on })
          .onConflict('reference').merge();
      }
    }
  });
  return list;
}

// ───────────────────────────── load generator ─────────────────────────────

type Kind = 'number' | 'mine';

interface Script {
  kind: Kind;
  inputs: string[];
  /** The last screen must contain this. */
  expect: RegExp;
}

function scriptFor(c: BenchCitizen, kind: Kind, rnd: number): Script {
  if (kind === 'number') {
    const app = c.apps[Math.floor(rnd * c.apps.length)]!;
    return { kind, inputs: ['1', '2', app.reference], expect: new RegExp(app.reference) };
  }
  // "My applications", newest first; the citizen with 8 pages once with 98 and picks the 6th.
  if (c.apps.length > 4) return { kind, inputs: ['1', '1', '98', '6'], expect: /\b\d{13}\b/ };
  return { kind, inputs: ['1', '1', '1'], expect: /\b\d{13}\b/ };
}

const resumeOffer = [catalogues.en['resume.continue'], catalogues.sw['resume.continue']];

interface RoundStats {
  target: string;
  hops: number;
  sessions: number;
  errors: number;
  errorSamples: Map<string, number>;
  resumeOffers: number;
  latencies: number[];
  seconds: number;
  cpuChild: number | null;
  cpuLoadgen: number;
  /** Share of all the machine's CPUs busy during the round, and taken by the hypervisor (steal). */
  machine: number | null;
  steal: number | null;
}

function post(agent: http.Agent, port: number, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(HOP_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${HOP_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface LoadOptions {
  concurrency: number;
  seconds: number;
  mine: number;
  /** Safety bound on hops per round, whatever the speed. */
  maxHops: number;
}

/**
 * `concurrency` citizens, each running sessions back to back for `seconds`. Only hops answered
 * inside the window count; a session under way when it closes is finished (uncounted) so that no
 * phone is left with a dropped session for the next round. Validates answers for the gateway only:
 * the ceiling answers `END ok` to everything, so there every hop is a whole "session".
 */
async function runLoad(target: Child, citizens: BenchCitizen[], o: LoadOptions, validate: boolean): Promise<RoundStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const path = `/ussd?token=${SECRET}`;
  const s: RoundStats = { target: target.name, hops: 0, sessions: 0, errors: 0, errorSamples: new Map(), resumeOffers: 0, latencies: [], seconds: o.seconds, cpuChild: null, cpuLoadgen: 0, machine: null, steal: null };
  const fail = (why: string) => {
    s.errors++;
    const key = why.replace(/\d{6,}/g, '#').slice(0, 120);
    s.errorSamples.set(key, (s.errorSamples.get(key) ?? 0) + 1);
  };
  const cpu0 = cpuSeconds(target.proc.pid);
  const own0 = process.cpuUsage();
  const m0 = machineTicks();
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let issued = 0;

  const citizen = async (c: BenchCitizen, serviceCode: string) => {
    while (performance.now() < end && issued < o.maxHops) {
      const script = scriptFor(c, Math.random() < o.mine ? 'mine' : 'number', Math.random());
      const sessionId = `ATUid_${randomBytes(16).toString('hex')}`;
      const inputs: string[] = [];
      const queue = [...script.inputs];
      let ok = true;
      let counted = true;
      for (let step = 0; ok; step++) {
        const body = stringify({ sessionId, serviceCode, phoneNumber: c.phone, networkCode: '63902', text: inputs.join('*') });
        issued++;
        const t0 = performance.now();
        let res: { status: number; text: string };
        try {
          res = await post(agent, target.port, path, body);
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
          break;
        }
        const t1 = performance.now();
        if (t1 <= end) {
          s.hops++;
          s.latencies.push(t1 - t0);
        } else counted = false;
        const last = queue.length === 0;
        if (res.status !== 200) ok = (fail(`HTTP ${res.status}: ${res.text.slice(0, 80)}`), false);
        else if (!validate) {
          if (!res.text.startsWith('END ') && !res.text.startsWith('CON ')) ok = (fail(`not CON/END: ${res.text.slice(0, 40)}`), false);
          else if (last) break;
        } else if (step === 0 && resumeOffer.some((r) => res.text.includes(r))) {
          // A dropped session of this phone (after an error): start again, as a citizen would.
          s.resumeOffers++;
          inputs.push('2');
          continue;
        } else if (last) {
          // The answer is shown with END, or with CON when it offers something more (e.g. "SMS me when
          // this changes"): the citizen has what they came for and hangs up.
          if (!/^(END|CON) /.test(res.text) || !script.expect.test(res.text)) ok = (fail(`unexpected last screen (${script.kind}): ${res.text.slice(0, 80).replace(/\n/g, ' | ')}`), false);
          break;
        } else if (!res.text.startsWith('CON ')) ok = (fail(`expected CON (${script.kind}, hop ${step + 1}): ${res.text.slice(0, 80).replace(/\n/g, ' | ')}`), false);
        if (ok) inputs.push(queue.shift() as string);
      }
      if (ok && counted) s.sessions++;
    }
  };
  await Promise.all(citizens.slice(0, o.concurrency).map((c) => citizen(c, '*384*2222#')));
  const cpu1 = cpuSeconds(target.proc.pid);
  const own = process.cpuUsage(own0);
  const m1 = machineTicks();
  if (m0 && m1 && m1.total > m0.total) {
    s.machine = (m1.busy - m0.busy) / (m1.total - m0.total);
    s.steal = (m1.steal - m0.steal) / (m1.total - m0.total);
  }
  s.cpuChild = cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / o.seconds : null;
  s.cpuLoadgen = (own.user + own.system) / 1e6 / o.seconds;
  agent.destroy();
  return s;
}

// ───────────────────────────── figures ─────────────────────────────

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Row {
  label: string;
  target: string;
  hopsPerS: number;
  sessionsPerS: number;
  p50: number;
  p99: number;
  errors: number;
  cpuChild: number | null;
  /** CPU time of the target process per counted hop: its cost, less sensitive than throughput to a busy machine. */
  cpuMsPerHop: number | null;
  cpuLoadgen: number;
  machine: number | null;
  steal: number | null;
}

function toRow(label: string, s: RoundStats): Row {
  const sorted = Float64Array.from(s.latencies).sort();
  return {
    label,
    target: s.target,
    hopsPerS: s.hops / s.seconds,
    sessionsPerS: s.sessions / s.seconds,
    p50: percentile(Array.from(sorted), 50),
    p99: percentile(Array.from(sorted), 99),
    errors: s.errors,
    cpuChild: s.cpuChild,
    cpuMsPerHop: s.cpuChild === null || s.hops === 0 ? null : (s.cpuChild * s.seconds * 1000) / s.hops,
    cpuLoadgen: s.cpuLoadgen,
    machine: s.machine,
    steal: s.steal,
  };
}

function table(rows: Row[]): string {
  const head = ['round', 'target', 'hops/s', 'sessions/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU', 'CPU ms/hop', 'loadgen CPU', 'machine', 'steal'];
  const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : `${Math.round(x * 100)}%`);
  const body = rows.map((r) => [
    r.label, r.target, r.hopsPerS.toFixed(0), r.target === 'ceiling' ? '-' : r.sessionsPerS.toFixed(0),
    r.p50.toFixed(1), r.p99.toFixed(1), String(r.errors), pct(r.cpuChild), r.cpuMsPerHop === null || !Number.isFinite(r.cpuMsPerHop) ? '-' : r.cpuMsPerHop.toFixed(2), pct(r.cpuLoadgen), pct(r.machine), pct(r.steal),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

// ───────────────────────────── Redis bytes per session ─────────────────────────────

/**
 * Runs one session of each kind alone and, after every hop that leaves the session open, asks
 * Redis for MEMORY USAGE of the keys that session holds: its record (found by the session id) and
 * the phone's resume pointer (found by the phone's blind index). Key names are not assumed.
 */
async function redisBytesPerSession(redis: Redis, prefix: string, gateway: Child, citizens: BenchCitizen[], blind: BlindIndex) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sessionBytes: number[] = [];
  const totalBytes: number[] = [];
  const keysOf = async (pattern: string) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out;
  };
  const usage = async (keys: string[]) => {
    let n = 0;
    for (const k of keys) n += Number((await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0);
    return n;
  };
  const probes = [0, 1, 2, 6].map((i) => citizens[i % citizens.length]!).flatMap((c) => [scriptFor(c, 'number', 0.5), scriptFor(c, 'mine', 0)].map((s) => ({ c, s })));
  for (const { c, s } of probes) {
    const sessionId = `ATUid_${randomBytes(16).toString('hex')}`;
    const inputs: string[] = [];
    for (const next of [...s.inputs, null]) {
      const res = await post(agent, gateway.port, `/ussd?token=${SECRET}`, stringify({ sessionId, serviceCode: '*384*2222#', phoneNumber: c.phone, networkCode: '63902', text: inputs.join('*') }));
      if (!res.text.startsWith('CON ') || next === null) break;
      const own = await usage(await keysOf(`${prefix}*${sessionId}*`));
      const resume = await usage(await keysOf(`${prefix}*${blind.phone(c.phone)}*`));
      sessionBytes.push(own);
      totalBytes.push(own + resume);
      inputs.push(next);
    }
  }
  agent.destroy();
  return { sessionBytes, totalBytes };
}

function queriesSoFar(c: Child): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { queries?: number }) => {
      if (typeof m?.queries !== 'number') return;
      c.proc.off('message', on);
      resolve(m.queries);
    };
    c.proc.on('message', on);
    c.proc.send('count:queries');
  });
}

/**
 * What one session costs in I/O: Redis commands sent (seen with MONITOR, from the gateway's connections:
 * those that sent a key under its prefix; MULTI/EXEC count, commands inside a script do not) and SQL statements (knex's 'query' event in the gateway),
 * for one session of each kind run alone.
 */
async function ioPerSession(redisUrl: string, prefix: string, gateway: Child, citizens: BenchCitizen[]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const mon = new Redis(redisUrl, { lazyConnect: true });
  await mon.connect();
  const monitor = await mon.monitor();
  const bySource = new Map<string, number>();
  const ours = new Set<string>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Commands run inside Lua scripts show as source "lua", whoever ran them: only what clients sent counts.
    if (!source.includes(':')) return;
    bySource.set(source, (bySource.get(source) ?? 0) + 1);
    if (args.some((a) => typeof a === 'string' && a.startsWith(prefix))) ours.add(source);
  });
  const commands = () => [...bySource].filter(([src]) => ours.has(src)).reduce((a, [, n]) => a + n, 0);
  const settle = () => new Promise((r) => setTimeout(r, 200));
  const out: Record<Kind, { sessions: number; hops: number; redis: number; sql: number }> = {
    number: { sessions: 0, hops: 0, redis: 0, sql: 0 },
    mine: { sessions: 0, hops: 0, redis: 0, sql: 0 },
  };
  try {
    for (const i of [0, 1, 2, 3, 6]) {
      const c = citizens[i % citizens.length]!;
      for (const kind of ['number', 'mine'] as const) {
        const s = scriptFor(c, kind, 0.5);
        await settle();
        const [r0, q0] = [commands(), await queriesSoFar(gateway)];
        const sessionId = `ATUid_${randomBytes(16).toString('hex')}`;
        const inputs: string[] = [];
        let hops = 0;
        for (const next of [...s.inputs, null]) {
          const res = await post(agent, gateway.port, `/ussd?token=${SECRET}`, stringify({ sessionId, serviceCode: '*384*2222#', phoneNumber: c.phone, networkCode: '63902', text: inputs.join('*') }));
          hops++;
          if (!res.text.startsWith('CON ') || next === null) break;
          inputs.push(next);
        }
        await settle();
        const o = out[kind];
        o.sessions++;
        o.hops += hops;
        o.redis += commands() - r0;
        o.sql += (await queriesSoFar(gateway)) - q0;
      }
    }
  } finally {
    agent.destroy();
    monitor.disconnect();
    mon.disconnect();
  }
  return out;
}

// ───────────────────────────── main ─────────────────────────────

const USAGE = `Usage: npm run bench -- [--concurrency 50] [--seconds 10] [--rounds 3] [--warmup 3] [--mine 0.3] [--profile DIR]
  --concurrency  simulated citizens at once (each its own phone and keep-alive connection)
  --seconds      length of each measured round, per target
  --rounds       rounds per target, interleaved: ceiling, gateway, ceiling, gateway …
  --warmup       seconds of unmeasured load on each target first
  --mine         share of "My applications" sessions (the rest: by application number)
  --profile DIR  CPU-profile the gateway (and the floor, and --compare) during their measured rounds (files in DIR; read with bench/cpuprofile-top.ts)
  --compare DIR  also run the gateway of another checkout (e.g. a git worktree) as a further target, for before/after
  --no-floor     leave out the floor (the gateway's Redis and SQL work per hop without the engine)
  --no-pg-store  leave out gateway-pg (the same gateway with STORE=postgres: sessions, locks and limits in PostgreSQL, no Redis)
  --database N   the bench's own database (default simu_bench; created, migrated and seeded if needed)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      concurrency: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' },
      mine: { type: 'string', default: '0.3' },
      profile: { type: 'string' },
      compare: { type: 'string' },
      'no-floor': { type: 'boolean', default: false },
      'no-pg-store': { type: 'boolean', default: false },
      database: { type: 'string', default: 'simu_bench' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.role === 'gateway') return runGateway();
  if (values.role === 'ceiling') return runCeiling();
  if (values.role === 'floor') return runFloor();
  if (values.help) return void process.stdout.write(`${USAGE}\n`);

  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const concurrency = Math.floor(num('concurrency', values.concurrency, 1, 4000));
  const seconds = num('seconds', values.seconds, 1, 600);
  const rounds = Math.floor(num('rounds', values.rounds, 1, 50));
  const warmup = num('warmup', values.warmup, 0, 60);
  const mine = num('mine', values.mine, 0, 1);

  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = `simu-bench:${runId}:`;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/simu');
  if (!/^[a-z0-9_]+$/.test(values.database)) throw new Error('--database must be a plain name such as simu_bench');
  base.pathname = `/${values.database}`;
  const databaseUrl = base.toString();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    STORE: 'redis',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    WEBHOOK_SECRET: SECRET,
    ID_HASH_KEY,
    LOG_LEVEL: 'warn',
  };
  loadConfig(env); // the gateway's config, checked before anything starts

  const log = (m: string) => process.stdout.write(`${m}\n`);
  log(`Preparing database ${values.database} (migrate, demo data, ${concurrency} bench citizens) and Redis prefix ${prefix}`);
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl);
  const blind = new BlindIndex(ID_HASH_KEY);
  let citizens: BenchCitizen[];
  try {
    await migrate(db);
    await seedDemoData(db, blind);
    citizens = await seedBenchCitizens(db, blind, concurrency);
  } finally {
    await db.destroy();
  }

  const profileDir = values.profile ? resolve(values.profile) : undefined;
  const compareDir = values.compare ? resolve(values.compare) : undefined;
  const children = await Promise.all([
    startChild('ceiling', env),
    startChild('gateway', { ...env, ...(profileDir ? { BENCH_PROFILE_DIR: profileDir } : {}) }),
    ...(compareDir ? [startChild('gateway', { ...env, REDIS_PREFIX: `${prefix}b:`, BENCH_GATEWAY_SRC: compareDir, ...(profileDir ? { BENCH_PROFILE_DIR: profileDir } : {}) })] : []),
    ...(values['no-floor'] ? [] : [startChild('floor', { ...env, REDIS_PREFIX: `${prefix}floor:`, ...(profileDir ? { BENCH_PROFILE_DIR: profileDir } : {}) })]),
    // The same gateway on the Postgres store (issue 11): what a deployment without Redis carries.
    ...(values['no-pg-store'] ? [] : [startChild('gateway', { ...env, STORE: 'postgres', REDIS_PREFIX: `${prefix}pg:`, ...(profileDir ? { BENCH_PROFILE_DIR: profileDir } : {}) }, 'gateway-pg')]),
  ]);
  const [ceiling, gateway] = children as [Child, Child, ...Child[]];
  const compare = compareDir ? children[2] : undefined;
  if (compare) compare.name = 'compare';
  const floor = children.find((c) => c.name === 'floor');
  // The ceiling and the floor answer without a flow: their screens are not checked.
  const targets = children.map((c) => ({ child: c, validate: c !== ceiling && c !== floor }));
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const rows: Row[] = [];
  const samples = new Map<string, number>();
  let resumeOffers = 0;
  try {
    const load: LoadOptions = { concurrency, seconds, mine, maxHops: Math.max(1e6, seconds * 50000) };
    if (warmup > 0) {
      log(`Warm-up: ${warmup} s on each target`);
      for (const t of targets) await runLoad(t.child, citizens, { ...load, seconds: warmup }, t.validate);
    }
    for (let r = 1; r <= rounds; r++) {
      for (const { child: target, validate } of targets) {
        const profiling = profileDir !== undefined && target !== ceiling;
        if (profiling) await ask(target, 'profile:start', 'profile:started');
        const s = await runLoad(target, citizens, load, validate);
        if (profiling) await ask(target, `profile:stop ${target.name}-${runId}-round${r}.cpuprofile`, 'profile:stopped');
        for (const [k, v] of s.errorSamples) samples.set(`${target.name}: ${k}`, (samples.get(`${target.name}: ${k}`) ?? 0) + v);
        resumeOffers += s.resumeOffers;
        const row = toRow(String(r), s);
        rows.push(row);
        log(`round ${r} ${target.name.padEnd(7)}  ${row.hopsPerS.toFixed(0)} hops/s  p50 ${row.p50.toFixed(1)} ms  p99 ${row.p99.toFixed(1)} ms  errors ${row.errors}`);
      }
    }
    const med = (t: string, f: (r: Row) => number) => median(rows.filter((r) => r.target === t).map(f));
    const summary = (t: string): Row => ({
      label: 'median', target: t, hopsPerS: med(t, (r) => r.hopsPerS), sessionsPerS: med(t, (r) => r.sessionsPerS),
      p50: med(t, (r) => r.p50), p99: med(t, (r) => r.p99), errors: rows.filter((r) => r.target === t).reduce((a, r) => a + r.errors, 0),
      cpuChild: med(t, (r) => r.cpuChild ?? NaN), cpuMsPerHop: med(t, (r) => r.cpuMsPerHop ?? NaN), cpuLoadgen: med(t, (r) => r.cpuLoadgen),
      machine: med(t, (r) => r.machine ?? NaN), steal: med(t, (r) => r.steal ?? NaN),
    });
    const medians = targets.map((t) => summary(t.child.name));
    const c = medians[0]!;
    const kb = (b: number) => `${(b / 1024).toFixed(2)} KB`;
    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

    log('');
    log(`Simu USSD bench: ${concurrency} concurrent citizens, ${rounds} rounds x ${seconds} s per target (interleaved), warm-up ${warmup} s,`);
    log(`"My applications" share ${mine}; node ${process.version}, ${cpus().length} CPUs; errors summed, other figures medians`);
    if (compareDir) log(`compare = the gateway from ${compareDir}`);
    log('');
    log(table([...rows, ...medians]));
    log('');
    for (const g of medians.slice(1)) {
      const hopsRatio = g.hopsPerS / c.hopsPerS;
      const p99Ratio = g.p99 / c.p99;
      log(`${g.target.padEnd(7)}/ceiling  hops/s ${hopsRatio.toFixed(2)}x (target >= 0.5x: ${verdict(hopsRatio >= 0.5)})   p99 ${p99Ratio.toFixed(2)}x (target <= 2x: ${verdict(p99Ratio <= 2)})`);
    }
    const f = medians.find((m) => m.target === 'floor');
    const g = medians.find((m) => m.target === 'gateway');
    const gp = medians.find((m) => m.target === 'gateway-pg');
    if (gp && g) log(`gateway-pg/gateway  hops/s ${(gp.hopsPerS / g.hopsPerS).toFixed(2)}x   p99 ${(gp.p99 / g.p99).toFixed(2)}x   CPU per hop ${gp.cpuMsPerHop?.toFixed(2)} ms against ${g.cpuMsPerHop?.toFixed(2)} ms (the Postgres store against Redis)`);
    if (f && g) log(`gateway/floor    hops/s ${(g.hopsPerS / f.hopsPerS).toFixed(2)}x   p99 ${(g.p99 / f.p99).toFixed(2)}x   CPU per hop ${g.cpuMsPerHop?.toFixed(2)} ms against ${f.cpuMsPerHop?.toFixed(2)} ms (the floor: the same Redis and SQL work per hop, no engine)`);
    for (const [t, p] of [[gateway, prefix], ...(compare ? [[compare, `${prefix}b:`] as const] : [])] as const) {
      const mem = await redisBytesPerSession(redis, p, t, citizens, blind);
      const sessionMedian = median(mem.sessionBytes);
      const totalMedian = median(mem.totalBytes);
      const io = await ioPerSession(redisUrl, p, t, citizens);
      const per = (k: Kind) => {
        const o = io[k];
        return `${k === 'number' ? 'by number' : 'My applications'}: ${(o.hops / o.sessions).toFixed(1)} hops, ${(o.redis / o.sessions).toFixed(1)} Redis commands sent (${(o.redis / o.hops).toFixed(1)}/hop), ${(o.sql / o.sessions).toFixed(1)} SQL statements (${(o.sql / o.hops).toFixed(2)}/hop)`;
      };
      log(`${t.name}: I/O per session, each kind run alone: ${per('number')}; ${per('mine')}`);
      log(`${t.name}: Redis per open session (MEMORY USAGE after each CON hop, ${mem.sessionBytes.length} samples): session record median ${kb(sessionMedian)} (max ${kb(Math.max(...mem.sessionBytes))}); with the phone's resume pointer median ${kb(totalMedian)} (max ${kb(Math.max(...mem.totalBytes))}) (target < 2 KB: ${verdict(totalMedian < 2048)})`);
    }
    if (resumeOffers > 0) log(`resume offers met (after errors): ${resumeOffers}`);
    if (samples.size > 0) {
      log('errors:');
      for (const [k, v] of [...samples].sort((a, b) => b[1] - a[1]).slice(0, 10)) log(`  ${v} x ${k}`);
    }
    log(`"server CPU": the target process (100% = one core), "CPU ms/hop" its CPU time per hop; "loadgen CPU": this process; "machine": all ${cpus().length} CPUs busy (Redis and PostgreSQL included), "steal": taken by the hypervisor.`);
  } finally {
    await Promise.all(children.map(stopChild));
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    const pg = createDb(databaseUrl);
    await new PostgresStore(pg, prefix, { sweepEveryMs: 0 }).clear().finally(() => pg.destroy());
  }
  if (profileDir) log(`CPU profiles of the measured gateway rounds: ${profileDir}/*-${runId}-round*.cpuprofile (read them with npx tsx bench/cpuprofile-top.ts FILE)`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
