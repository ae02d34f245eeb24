import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createDb, ensureDatabase, migrate } from '../../src/db';
import { chooseDatabase, type ChosenDatabase } from '../../src/db/choose';
import { seedDemoData } from '../../src/db/seed';
import { BlindIndex } from '../../src/services/blind-index';
import { TEST_ID_HASH_KEY, adminUrl, databaseUrl, redisUrl } from './env';

/** The embedded server started here, stopped by global-teardown.ts (same process). */
export const EMBEDDED_KEY = '__simuTestEmbeddedPostgres';

/**
 * Where the tests' PostgreSQL is: TEST_PG_URL if set; else the local server when something answers
 * on 127.0.0.1:5432 (SIMU_PG_PROBE=host:port moves the probe); else an embedded PostgreSQL 18 in
 * `.simu/test-pg` (kept between runs, fsync off, trust on 127.0.0.1), started here and stopped in global teardown.
 * TEST_PG_URL is then set for the test files (workers inherit this process's environment).
 */
async function testDatabase(): Promise<void> {
  if (process.env.TEST_PG_URL) return;
  const chosen: ChosenDatabase = await chooseDatabase(
    { NODE_ENV: 'test', SIMU_PG_PROBE: process.env.SIMU_PG_PROBE },
    {
      database: 'postgres',
      dataDir: path.resolve(__dirname, '../../.simu/test-pg'),
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
      trustLocalhost: true, // like the usual local server: tests log in as roles they create (test/security/db-role.test.ts)
    },
  );
  process.env.TEST_PG_URL = chosen.url;
  if (chosen.embedded) {
    (globalThis as Record<string, unknown>)[EMBEDDED_KEY] = chosen;
    process.stdout.write(`\nTests use ${chosen.description}\n`);
  }
}

/**
 * Once per `npm test`: a template database, migrated and loaded with the demo data. Each test file
 * then gets its own copy (CREATE DATABASE … TEMPLATE, see test-app.ts), so files run in parallel
 * without seeing each other's writes. The run id also prefixes every Redis key of the run.
 *
 * Under mutation testing (`npm run mutate`, SIMU_TEST_KEEP_TEMPLATE=1) jest runs again and again
 * in one process: the template is made once per process and kept between runs (global-teardown.ts
 * drops only the copies); one left by a mutation run that has ended is dropped here.
 */
export default async function globalSetup(): Promise<void> {
  const keep = process.env.SIMU_TEST_KEEP_TEMPLATE === '1';
  if (keep && process.env.SIMU_TEST_RUN) return; // this process made the template already
  await testDatabase();
  const runId = keep ? `stryker${process.pid}` : `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  if (keep) await dropTemplatesOfEndedMutationRuns();
  process.env.SIMU_TEST_RUN = runId;
  // Which stores this run can use (test/helpers/env.ts testStore, availableStores): PostgreSQL always.
  process.env.SIMU_TEST_REDIS = (await redisAnswers()) ? 'up' : 'down';
  const template = `simu_test_${runId}_tpl`;
  await ensureDatabase(databaseUrl(template));
  const db = createDb(databaseUrl(template));
  try {
    await migrate(db);
    await seedDemoData(db, new BlindIndex(TEST_ID_HASH_KEY));
  } finally {
    await db.destroy();
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function dropTemplatesOfEndedMutationRuns(): Promise<void> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^simu_test_stryker[0-9]+_'");
    for (const { datname } of rows) {
      const pid = Number(/^simu_test_stryker(\d+)_/.exec(datname)?.[1]);
      if (!alive(pid)) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

/** Whether a Redis answers at `url` (here: the tests' Redis; test/store/choice.test.ts: the default address). */
export async function redisAnswers(url = redisUrl()): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
