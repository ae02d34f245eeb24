import { loadConfig, withDevDefaults } from '../config';
import { openMigrated } from './index';
import { chooseDatabase } from './choose';
import { seedDemoData } from './seed';
import { BlindIndex } from '../services/blind-index';

/** `npm run migrate` and `npm run seed` (the seed migrates first). Same dev defaults as `npm start`. */
async function run(command: string | undefined): Promise<void> {
  const env = withDevDefaults();
  // The database npm start uses: beside a gateway on the embedded server, that server (see choose.ts).
  const database = await chooseDatabase(env, { database: 'simu' });
  env.DATABASE_URL = database.url;
  const config = loadConfig(env);
  try {
    const db = await openMigrated(config.DATABASE_URL);
    try {
      if (command === 'seed') console.log('seeded', await seedDemoData(db, new BlindIndex(config.ID_HASH_KEY)));
      else console.log('migrated');
    } finally {
      await db.destroy();
    }
  } finally {
    await database.stop();
  }
}

run(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
