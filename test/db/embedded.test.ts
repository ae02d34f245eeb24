import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { answersTcp } from '../../src/db/choose';

/**
 * The embedded PostgreSQL of `npm start` / `npm test` (src/db/embedded.ts, src/db/choose.ts):
 * the start-up refusals as a user meets them (`npm start`'s process exits with a message naming
 * the directory, and leaves it as it was), and one real server's life: a gateway SIGKILLed leaves
 * it running, the next start adopts it, its data is kept, and a taken port is replaced.
 */
const ROOT = path.resolve(__dirname, '../..');
// node with tsx's loader, as the tsx command runs it, but in one process: a SIGKILL reaches the program itself.
const NODE_TSX = [
  '--require', path.join(ROOT, 'node_modules/tsx/dist/preflight.cjs'),
  '--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
];
const CLOSED = '127.0.0.1:1'; // the probe address: nothing answers there, so no local server is used

const dirs: string[] = [];
/** A scratch directory the `postgres` user can enter (PostgreSQL runs as that user when we are root). */
function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'simu-embedded-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `npm start`'s process (src/main.ts) in `cwd`, until it exits; no DATABASE_URL unless given. */
function startGateway(cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_TSX, path.join(ROOT, 'src/main.ts')], { cwd, env: { ...base, PORT: '0', SIMU_PG_PROBE: CLOSED, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const listing = (dir: string) => readdirSync(dir).sort();

describe('npm start refuses a data directory it must not touch, naming it', () => {
  test('one from another PostgreSQL major version (PG_VERSION 16)', async () => {
    const cwd = scratch();
    const pg = path.join(cwd, '.simu/pg');
    mkdirSync(path.join(pg, 'global'), { recursive: true });
    mkdirSync(path.join(pg, 'base'));
    writeFileSync(path.join(pg, 'PG_VERSION'), '16\n');
    const { code, out } = await startGateway(cwd, {});
    expect(code).toBe(1);
    expect(out).toContain(`Simu could not start: ${pg} holds a PostgreSQL 16 database; the embedded server is PostgreSQL 18`);
    expect(out).toContain('will not re-initialise it');
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
    expect(listing(pg)).toEqual(['PG_VERSION', 'base', 'global']);
    expect(readFileSync(path.join(pg, 'PG_VERSION'), 'utf8')).toBe('16\n');
  }, 90_000);

  test('one that is not a data directory, and a damaged one', async () => {
    const cwd = scratch();
    const pg = path.join(cwd, '.simu/pg');
    mkdirSync(pg, { recursive: true });
    writeFileSync(path.join(pg, 'notes.txt'), 'my notes');
    const notData = await startGateway(cwd, {});
    expect(notData.code).toBe(1);
    expect(notData.out).toContain(`Simu could not start: ${pg} is not empty but is not a PostgreSQL data directory (no PG_VERSION; it holds notes.txt)`);
    expect(listing(pg)).toEqual(['notes.txt']);

    writeFileSync(path.join(pg, 'PG_VERSION'), '18\n');
    const damaged = await startGateway(cwd, {});
    expect(damaged.code).toBe(1);
    expect(damaged.out).toContain(`Simu could not start: ${pg} is a damaged PostgreSQL data directory (no global/)`);
    expect(listing(pg)).toEqual(['PG_VERSION', 'notes.txt']);
  }, 90_000);

  test('in production, a missing DATABASE_URL is an error and no embedded database is made', async () => {
    const cwd = scratch();
    const { code, out } = await startGateway(cwd, { NODE_ENV: 'production', WEBHOOK_SECRET: randomBytes(32).toString('hex'), ID_HASH_KEY: randomBytes(32).toString('hex') });
    expect(code).toBe(1);
    expect(out).toContain('Simu could not start: DATABASE_URL is not set. In production Simu needs an external PostgreSQL');
    expect(existsSync(path.join(cwd, '.simu'))).toBe(false);
  }, 90_000);
});

/** A process that starts the embedded server and stays, as a gateway would (test/helpers/embedded-child.ts). */
function gatewayLike(dataDir: string): Promise<{ child: ChildProcess; port: number; how: string; url: string }> {
  const child = spawn(process.execPath, [...NODE_TSX, path.join(ROOT, 'test/helpers/embedded-child.ts'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve({ child, ...(JSON.parse(out) as { port: number; how: string; url: string }) });
    });
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`embedded-child exited ${code}: ${err}`)));
  });
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    return Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return null;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops a gateway-like process the way a gateway is stopped (SIGTERM), and waits for it to exit. */
async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('a real embedded server', () => {
  let held: Server | null = null;
  const children: ChildProcess[] = [];
  const orphans: number[] = [];
  afterAll(async () => {
    // Only if a step failed: leave nothing running.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of orphans) if (alive(pid)) process.kill(pid, 'SIGINT');
    await new Promise((r) => (held ? held.close(r) : r(undefined)));
  });
  const gateway = async (dataDir: string) => {
    const g = await gatewayLike(dataDir);
    children.push(g.child);
    const pid = postmasterPid(dataDir);
    if (pid !== null) orphans.push(pid);
    return g;
  };

  test('survives its gateway being SIGKILLed, is adopted by the next start with its data, stops with it, moves off a taken port, and is shared by a second process', async () => {
    const dataDir = path.join(scratch(), 'pg');

    // A first gateway initialises it, writes a row, and is killed with no chance to stop it.
    const first = await gateway(dataDir);
    expect(first.how).toBe('initialised');
    await query(first.url, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$from the first run$$)');
    const orphan = postmasterPid(dataDir) as number;
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(alive(orphan)).toBe(true);
    expect(await answersTcp(`127.0.0.1:${first.port}`)).toBe(true); // the orphan still holds the port

    // The next start adopts it (same server, same port) instead of failing on the lock or the port…
    const second = await gateway(dataDir);
    expect(second.how).toBe('adopted');
    expect(second.port).toBe(first.port);
    expect(postmasterPid(dataDir)).toBe(orphan);
    expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first run' }]);
    // … and stops it when it stops.
    expect(await stop(second.child)).toBe(0);
    expect(alive(orphan)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(await answersTcp(`127.0.0.1:${first.port}`)).toBe(false);

    // The remembered port is taken by someone else: another one, and the data is still there.
    held = createServer();
    await new Promise<void>((r) => held?.listen(first.port, '127.0.0.1', () => r()));
    const third = await gateway(dataDir);
    expect(third.how).toBe('started');
    expect(third.port).not.toBe(first.port);
    expect(await query(third.url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first run' }]);
    expect(await query(third.url, 'SHOW server_version_num')).toEqual([{ server_version_num: expect.stringMatching(/^18\d{4}$/) }]);

    // A second process while the first runs (a tool beside the gateway) uses the same server and leaves it running.
    const beside = await gateway(dataDir);
    expect(beside.how).toBe('shared');
    expect(beside.port).toBe(third.port);
    expect(await stop(beside.child)).toBe(0);
    expect(await query(third.url, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);

    const pid = postmasterPid(dataDir) as number;
    expect(await stop(third.child)).toBe(0);
    expect(alive(pid)).toBe(false);
  }, 300_000);
});
