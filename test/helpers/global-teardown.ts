import { Client } from 'pg';
import { adminUrl } from './env';

/** Drops every database this run created (the template and each file's copy; under mutation testing, the copies only: see global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
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
