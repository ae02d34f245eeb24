import { Client } from 'pg';
import type { ChosenDatabase } from '../../src/db/choose';
import { adminUrl } from './env';
import { EMBEDDED_KEY } from './global-setup';

/** Drops every database this run created (the template and each file's copy; under mutation testing, the copies only: see global-setup.ts), then stops the embedded server if setup started one. */
export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as Record<string, unknown>)[EMBEDDED_KEY] as ChosenDatabase | undefined;
  try {
    await dropRunDatabases();
  } finally {
    await embedded?.stop();
  }
}

async function dropRunDatabases(): Promise<void> {
  const runId = process.env.SIMU_TEST_RUN;
  if (!runId) return;
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`simu_test_${runId}_%`]);
    const keepTemplate = process.env.SIMU_TEST_KEEP_TEMPLATE === '1';
    for (const { datname } of rows) if (!(keepTemplate && datname.endsWith('_tpl'))) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
