import { Redis } from 'ioredis';
import type { Db } from '../db';
import type { Logger } from '../log';
import { PostgresStore } from './postgres';
import { RedisStore } from './redis';
import type { Store } from './types';

export type { Store, StoreKind, UssdSessions, HeldUssdSession, SharedTokenBucket, RateLimiterOptions } from './types';
export { PostgresStore } from './postgres';
export { RedisStore } from './redis';

/** Where Redis is looked for when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface StoreChoice {
  /** `auto`: Redis when REDIS_URL is set or Redis answers on DEFAULT_REDIS_URL, else PostgreSQL. */
  STORE: 'redis' | 'postgres' | 'auto';
  REDIS_URL?: string | undefined;
  REDIS_PREFIX: string;
}

export function createRedis(url: string): Redis {
  // Fail fast when Redis is away instead of queueing commands: a USSD hop has two seconds.
  return new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
}

/** The Redis at `url`, connected; throws (leaving nothing reconnecting behind) when it does not answer. */
async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = createRedis(url);
  // Quiet while connecting (a failed probe is not an error; a failed REDIS_URL throws), logged after.
  const quiet = () => undefined;
  redis.on('error', quiet);
  try {
    await redis.connect();
    redis.off('error', quiet);
    redis.on('error', (err) => logger.warn('redis error', { error: err.message }));
    return redis;
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

/** Host and port only: a REDIS_URL may carry a password. */
const where = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
};

/**
 * The store this process uses, chosen once at start (and logged): Redis whenever it is configured
 * or answering — large deployments use it — else the Postgres store over `db`. A REDIS_URL that is
 * set but does not answer is an error, never a silent switch to PostgreSQL: several gateways that
 * chose differently would not see each other's sessions.
 */
export async function createStore(choice: StoreChoice, deps: { db: Db; logger: Logger }): Promise<Store> {
  const { logger } = deps;
  if (choice.STORE === 'postgres') return postgres(choice, deps, 'STORE=postgres');
  if (choice.STORE === 'redis' || choice.REDIS_URL) {
    const url = choice.REDIS_URL ?? DEFAULT_REDIS_URL;
    const redis = await connectRedis(url, logger);
    logger.info('store: redis', { redis: where(url), reason: choice.STORE === 'redis' ? 'STORE=redis' : 'REDIS_URL is set' });
    return new RedisStore(redis, choice.REDIS_PREFIX);
  }
  const redis = await connectRedis(DEFAULT_REDIS_URL, logger).catch(() => null);
  if (redis) {
    logger.info('store: redis', { redis: where(DEFAULT_REDIS_URL), reason: 'Redis answers on the default address' });
    return new RedisStore(redis, choice.REDIS_PREFIX);
  }
  return postgres(choice, deps, `no REDIS_URL and nothing answers on ${where(DEFAULT_REDIS_URL)}`);
}

function postgres(choice: StoreChoice, deps: { db: Db; logger: Logger }, reason: string): Store {
  deps.logger.info('store: postgres', { reason });
  return new PostgresStore(deps.db, choice.REDIS_PREFIX);
}
