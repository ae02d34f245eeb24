import knexFactory, { type Knex } from 'knex';
import { Client } from 'pg';
import { migrationSource } from '../../migrations';

export type Db = Knex;

/** A knex pool. Short statement and connect timeouts: a USSD hop cannot wait for a stuck database. */
export function createDb(url: string, opts: { poolMax?: number } = {}): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 2000, statement_timeout: 5000 },
    pool: { min: 0, max: opts.poolMax ?? 10 },
    acquireConnectionTimeout: 3000,
  });
}

/** The URL as it may be shown in a banner or a log: the password replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a DATABASE_URL that is not a URL)';
  }
}

/** Creates the database named in `url` if it does not exist (a fresh machine has only `postgres`). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name: ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a connection lost later is the query's error, not the process's
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to PostgreSQL at ${withoutPassword(admin.toString())}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** For the command-line tools: the database created if missing, migrated, and a pool over it (the caller destroys it). */
export async function openMigrated(url: string): Promise<Db> {
  await ensureDatabase(url);
  const db = createDb(url);
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
