import { loadConfig, withDevDefaults } from '../config';
import { openMigrated } from '../db';
import { chooseDatabase } from '../db/choose';
import { AgencyService } from '../services/agencies';

/** `npm run agency:token -- <agency> [label]`: issues a bearer token for an agency's back office. Shown once; stored hashed. */
async function main(): Promise<void> {
  const [agency, label] = process.argv.slice(2);
  if (!agency) throw new Error('usage: npm run agency:token -- <agency> [label]   (agencies: immigration, nrb, civil_registration, dci, ntsa, brs, kra)');
  const env = withDevDefaults();
  // The database npm start uses: beside a gateway on the embedded server, that server (see src/db/choose.ts).
  const database = await chooseDatabase(env, { database: 'simu' });
  env.DATABASE_URL = database.url;
  const config = loadConfig(env);
  try {
    const db = await openMigrated(config.DATABASE_URL);
    try {
      if (!(await db('agencies').where({ code: agency }).first())) throw new Error(`unknown agency: ${agency} (run npm run seed first?)`);
      console.log(await new AgencyService(db).issueToken(agency, label));
    } finally {
      await db.destroy();
    }
  } finally {
    await database.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
