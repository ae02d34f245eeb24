import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, withDevDefaults } from './config';
import { ensureDatabase, migrate } from './db';
import { chooseDatabase } from './db/choose';
import { auditRoleProblems } from './db/role-check';
import { seedDemoData } from './db/seed';
import { createRuntime } from './runtime';
import { createApp } from './app';
import { startDevFakeAt } from './sms/dev';
import { createSmsWorker } from './sms/worker';
import { atBaseUrl } from './sms/africastalking';
import { startBanner } from './banner';

/**
 * `npm start`: the gateway with demo data. The database: DATABASE_URL, else the local PostgreSQL
 * on 5432, else (outside production) an embedded PostgreSQL in `.simu/pg` (src/db/choose.ts), stopped
 * with the gateway. Ephemeral state in Redis when one is configured or answers, else in PostgreSQL (src/store). Creates the database if missing, migrates, loads the demo data (idempotent),
 * listens, and prints the callback URL for AT's dashboard. Outside production, missing secrets get
 * loud dev defaults.
 */
async function main(): Promise<void> {
  const env = withDevDefaults();
  const production = env.NODE_ENV === 'production';
  loadConfig(env); // a bad setting is refused here, before any database is started
  // The database next: everything else (the store, the SMS worker) may live in it.
  const database = await chooseDatabase(env, { database: 'simu' });
  env.DATABASE_URL = database.url;
  process.stdout.write(`Database: ${database.description}\n`);
  // No AT credentials outside production: SMS go to an in-process fake AT and are printed here.
  const fakeAt = await startDevFakeAt(env, production, (line) => process.stdout.write(`${line}\n`));
  const config = loadConfig(env);
  await ensureDatabase(config.DATABASE_URL);
  const rt = await createRuntime(config);
  rt.logger.info('database', { database: database.description });
  await migrate(rt.db);
  if (production) {
    // Loud, not fatal: an operator may migrate as the owner first; README "Database roles" has the split.
    for (const problem of await auditRoleProblems(rt.db)) {
      rt.logger.error('audit log not protected', { problem });
      process.stderr.write(`WARNING: ${problem}. Run the gateway as a role that does not own the tables (README "Database roles").\n`);
    }
  }
  if (!production || env.SEED_DEMO === '1') {
    const seeded = await seedDemoData(rt.db, rt.services.blind);
    rt.logger.info('demo data loaded', seeded);
  }
  const app = createApp(rt);
  fakeAt?.setDeliveryUrl(`http://127.0.0.1:${config.PORT}/sms/delivery?token=${config.WEBHOOK_SECRET}`);
  const smsWorker = config.SMS_WORKER === 'on' ? createSmsWorker({ config, db: rt.db, store: rt.store, logger: rt.logger, isOptedOut: (phone) => rt.services.optOuts.isOptedOut(phone) }) : null;
  smsWorker?.start();
  const server: Server = app.listen(config.PORT, () => {
    const sms = fakeAt ? { fakeAtUrl: fakeAt.url } : { atUrl: atBaseUrl(config), workerOn: smsWorker !== null };
    process.stdout.write(`${startBanner({ production, port: (server.address() as AddressInfo).port, webhookSecret: config.WEBHOOK_SECRET, sms, store: rt.store.kind })}\n`);
  });

  const shutdown = (signal: string) => {
    rt.logger.info('shutting down', { signal });
    const smsStopped = Promise.all([smsWorker?.stop(), fakeAt?.close()]);
    server.close(() => void smsStopped.then(() => rt.close()).then(() => database.stop()).then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref(); // an embedded PostgreSQL still running is told to stop on exit
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Simu could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
