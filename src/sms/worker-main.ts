import { loadConfig, withDevDefaults } from '../config';
import { createDb } from '../db';
import { createLogger } from '../log';
import { BlindIndex } from '../services/blind-index';
import { OptOutService } from '../services/opt-outs';
import { createStore } from '../store';
import { atBaseUrl } from './africastalking';
import { createSmsWorker } from './worker';

/**
 * `npm run worker`: the SMS worker on its own (e.g. `SMS_WORKER=off npm start` for the gateway and
 * one or more of these beside it; they share the outbox through SKIP LOCKED and the rate through
 * the store: Redis, or the Postgres store, chosen as the gateway chooses). Same environment as the gateway; it does not migrate (the gateway or `npm run migrate` does).
 * Outside production without AT credentials it sends to the dev gateway's fake AT (PORT+1).
 */
async function main(): Promise<void> {
  const env = withDevDefaults();
  const production = env.NODE_ENV === 'production';
  if (!production) {
    if (!env.AT_API_KEY && !env.AT_API_URL) {
      env.AT_API_URL = `http://127.0.0.1:${Number(env.PORT ?? 3000) + 1}`;
      env.AT_API_KEY = 'fake-at-key';
    }
  }
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL);
  const db = createDb(config.DATABASE_URL);
  const store = await createStore(config, { db, logger }); // the shared rate limit lives there
  const optOuts = new OptOutService(db, new BlindIndex(config.ID_HASH_KEY));
  const worker = createSmsWorker({ config, db, store, logger, isOptedOut: (phone) => optOuts.isOptedOut(phone) });
  worker.start();
  logger.info('sms worker started', { at: atBaseUrl(config), maxPerSecond: config.SMS_MAX_PER_SECOND });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('sms worker stopping', { signal });
    setTimeout(() => process.exit(1), config.AT_TIMEOUT_MS + 5000).unref();
    void worker
      .stop()
      .then(async () => {
        await store.close();
        await db.destroy();
      })
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`SMS worker could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
