import type { Server } from 'node:http';
import { loadConfig, withDevDefaults } from './config';
import { ensureDatabase, migrate } from './db';
import { chooseDatabase } from './db/choose';
import { seedDemoData } from './db/seed';
import { createRuntime } from './runtime';
import { createApp } from './app';
import { startDevFakeAt } from './sms/dev';
import { createSmsWorker } from './sms/worker';
import { atBaseUrl } from './sms/africastalking';

/**
 * `npm start`: the gateway with demo data. The database: DATABASE_URL, else the local PostgreSQL
 * on 5432, else (outside production) an embedded PostgreSQL in `.simu/pg` (src/db/choose.ts), stopped
 * with the gateway. Creates the database if missing, migrates, loads the demo data (idempotent),
 * listens, and prints the callback URL for AT's dashboard. Outside production, missing secrets get
 * loud dev defaults.
 */
async function main(): Promise<void> {
  const env = withDevDefaults();
  const production = env.NODE_ENV === 'production';
  // The database first: everything else (the store, the SMS worker) may live in it.
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
  if (!production || env.SEED_DEMO === '1') {
    const seeded = await seedDemoData(rt.db, rt.services.blind);
    rt.logger.info('demo data loaded', seeded);
  }
  const app = createApp(rt);
  fakeAt?.setDeliveryUrl(`http://127.0.0.1:${config.PORT}/sms/delivery?token=${config.WEBHOOK_SECRET}`);
  const smsWorker = config.SMS_WORKER === 'on' ? createSmsWorker({ config, db: rt.db, redis: rt.redis, logger: rt.logger, isOptedOut: (phone) => rt.services.optOuts.isOptedOut(phone) }) : null;
  smsWorker?.start();
  const server: Server = app.listen(config.PORT, () => {
    const base = `http://127.0.0.1:${config.PORT}`;
    const lines = [
      '',
      `Simu is listening on ${base}`,
      `  USSD callback (paste into AT's dashboard):  ${base}/ussd?token=${config.WEBHOOK_SECRET}`,
      `  USSD end-of-session notifications:           ${base}/ussd/events?token=${config.WEBHOOK_SECRET}`,
      `  Health: ${base}/healthz   Ready: ${base}/readyz`,
      `  Database: ${database.description}`,
      `  SMS delivery reports (AT's dashboard):      ${base}/sms/delivery?token=${config.WEBHOOK_SECRET}`,
      fakeAt
        ? `  SMS: fake Africa's Talking at ${fakeAt.url} (no AT_API_KEY); every SMS it "sends" is printed here`
        : `  SMS: Africa's Talking at ${atBaseUrl(config)}${smsWorker ? '' : ' (worker off here: run npm run worker)'}`,
      `  Dial it from a terminal phone:  npm run simulate -- --phone +254712345678`,
      production ? '' : '  (dev secrets in use: set WEBHOOK_SECRET and ID_HASH_KEY for anything real)',
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
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
