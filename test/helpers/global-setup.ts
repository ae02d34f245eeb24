import { randomBytes } from 'node:crypto';
import { createDb, ensureDatabase, migrate } from '../../src/db';
import { seedDemoData } from '../../src/db/seed';
import { BlindIndex } from '../../src/services/blind-index';
import { TEST_ID_HASH_KEY, databaseUrl } from './env';

/**
 * Once per `npm test`: a template database, migrated and loaded with the demo data. Each test file
 * then gets its own copy (CREATE DATABASE … TEMPLATE, see test-app.ts), so files run in parallel
 * without seeing each other's writes. The run id also prefixes every Redis key of the run.
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  process.env.SIMU_TEST_RUN = runId;
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
