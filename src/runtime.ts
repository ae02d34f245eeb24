import { Redis } from 'ioredis';
import type { Config } from './config';
import { createDb, type Db } from './db';
import { createLogger, type Logger } from './log';
import { createServices, type Services } from './services';
import { SessionStore } from './engine/session-store';
import { UssdEngine } from './engine/engine';
import { flowActors } from './engine/actors';
import { SmsEngine } from './engine/sms-engine';
import { SmsInbox } from './channels/sms/inbox';

/** Everything the app needs, built once from config. `createApp(runtime)` serves it; tests build their own. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis;
  services: Services;
  engine: UssdEngine;
  /** SMS conversations (the same flows as USSD) and the inbound SMS router. */
  sms: SmsEngine;
  inbox: SmsInbox;
  close(): Promise<void>;
}

export function createRedis(url: string): Redis {
  // Fail fast when Redis is away instead of queueing commands: a USSD hop has two seconds.
  return new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
}

/** `now`: the clock the services read (tests fix it); default the real clock. */
export async function createRuntime(config: Config, opts: { logger?: Logger; now?: () => Date } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const db = createDb(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (err) => logger.warn('redis error', { error: err.message }));
  // Without Redis there are no sessions: refuse to start, and leave nothing reconnecting behind.
  await redis.connect().catch(async (err: unknown) => {
    redis.disconnect();
    await db.destroy();
    throw err;
  });
  const services = createServices({ db, redis, redisPrefix: config.REDIS_PREFIX, idHashKey: config.ID_HASH_KEY, ...(opts.now ? { now: opts.now } : {}) });
  const store = new SessionStore(redis, config.REDIS_PREFIX, config.SESSION_TTL_S, config.RESUME_TTL_S);
  const engine = new UssdEngine({
    store,
    blind: services.blind,
    dialContext: (phone) => services.notices.dialContext(phone),
    actors: flowActors(services),
    logger,
    screenLimit: config.USSD_SCREEN_LIMIT,
    hopDeadlineMs: config.USSD_HOP_DEADLINE_MS,
  });
  const sms = new SmsEngine({
    flows: engine.flows, redis, redisPrefix: config.REDIS_PREFIX, blind: services.blind, logger,
    ttlS: 15 * 60, limit: 306, deadlineMs: Math.max(config.USSD_HOP_DEADLINE_MS, 5000),
  });
  const inbox = new SmsInbox({ db, redis, redisPrefix: config.REDIS_PREFIX, services, sms, logger, ussdCode: config.USSD_CODE });
  return {
    config, logger, db, redis, services, engine, sms, inbox,
    async close() {
      redis.disconnect();
      await db.destroy();
    },
  };
}
