import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createDb, ensureDatabase, migrate } from '../../src/db';
import { seedDemoData } from '../../src/db/seed';
import { BlindIndex } from '../../src/services/blind-index';
import { TEST_ID_HASH_KEY, adminUrl, databaseUrl, redisUrl } from './env';

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

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
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
