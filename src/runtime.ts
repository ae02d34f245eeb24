import type { Config } from './config';
import { createDb, type Db } from './db';
import { createLogger, type Logger } from './log';
import { createServices, type Services } from './services';
import { UssdEngine } from './engine/engine';
import { flowActors } from './engine/actors';
import { SmsEngine } from './engine/sms-engine';
import { SmsInbox } from './channels/sms/inbox';
import { createStore, type Store } from './store';

/** Everything the app needs, built once from config. `createApp(runtime)` serves it; tests build their own. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  /** Ephemeral state (sessions, locks, rate limits, throttle, staff sessions): Redis or the Postgres store. */
  store: Store;
  services: Services;
  engine: UssdEngine;
  /** SMS conversations (the same flows as USSD) and the inbound SMS router. */
  sms: SmsEngine;
  inbox: SmsInbox;
  close(): Promise<void>;
}

/** `now`: the clock the services read (tests fix it); default the real clock. */
export async function createRuntime(config: Config, opts: { logger?: Logger; now?: () => Date } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const db = createDb(config.DATABASE_URL);
  // Without its store there are no sessions: refuse to start (a REDIS_URL that does not answer).
  const store = await createStore(config, { db, logger }).catch(async (err: unknown) => {
    await db.destroy();
    throw err;
  });
  const services = createServices({ db, store, idHashKey: config.ID_HASH_KEY, ...(opts.now ? { now: opts.now } : {}) });
  const engine = new UssdEngine({
    store: store.ussdSessions({ sessionTtlS: config.SESSION_TTL_S, resumeTtlS: config.RESUME_TTL_S }),
    blind: services.blind,
    dialContext: (phone) => services.notices.dialContext(phone),
    actors: flowActors(services),
    logger,
    screenLimit: config.USSD_SCREEN_LIMIT,
    hopDeadlineMs: config.USSD_HOP_DEADLINE_MS,
  });
  const sms = new SmsEngine({
    flows: engine.flows, store, blind: services.blind, logger,
    ttlS: 15 * 60, limit: 306, deadlineMs: Math.max(config.USSD_HOP_DEADLINE_MS, 5000),
  });
  const inbox = new SmsInbox({ db, store, services, sms, logger, ussdCode: config.USSD_CODE });
  return {
    config, logger, db, store, services, engine, sms, inbox,
    async close() {
      await store.close();
      await db.destroy();
    },
  };
}
