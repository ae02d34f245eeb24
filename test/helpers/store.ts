import { Redis } from 'ioredis';
import type { Config } from '../../src/config';
import { createDb } from '../../src/db';
import type { Runtime } from '../../src/runtime';
import { PostgresStore, RedisStore, type Store } from '../../src/store';
import { redisUrl, testStore } from './env';
import { createTestDatabase } from './test-app';

/**
 * Looking inside the test app's store, whichever it is (TEST_STORE): what a test checks about the
 * stored state itself — time to live, size, that no phone number is kept — and the tampering some
 * tests do. Keys are relative, as the store's own API takes them (the prefix is added here).
 */
type Holder = { rt: Runtime; config: Config };

const redisOf = (t: Holder) => (t.rt.store instanceof RedisStore ? t.rt.store.redis : null);

/** Seconds left to live (rounded like Redis TTL); -2 when the key is missing or expired. */
export async function storeTtlS(t: Holder, key: string): Promise<number> {
  const full = `${t.config.REDIS_PREFIX}${key}`;
  const redis = redisOf(t);
  if (redis) return redis.ttl(full);
  const r = await t.rt.db.raw('SELECT round(extract(epoch FROM expires_at - clock_timestamp()))::int AS s FROM store_entries WHERE key = ? AND expires_at > clock_timestamp()', [full]);
  return (r.rows as Array<{ s: number }>)[0]?.s ?? -2;
}

/** Replaces a key's value and keeps its time to live (Redis SET … KEEPTTL). */
export async function rewriteKeepingTtl(t: Holder, key: string, value: string): Promise<void> {
  const full = `${t.config.REDIS_PREFIX}${key}`;
  const redis = redisOf(t);
  if (redis) await redis.set(full, value, 'KEEPTTL');
  else await t.rt.db.raw('UPDATE store_entries SET value = ? WHERE key = ?', [value, full]);
}

/** Deletes every key of the test's store that starts with `start` (relative), rate limits included. */
export async function deleteKeys(t: Holder, start: string): Promise<void> {
  const full = `${t.config.REDIS_PREFIX}${start}`;
  const redis = redisOf(t);
  if (redis) {
    const keys = await redis.keys(`${full.replace(/[*?[\]\\]/g, '\\$&')}*`);
    if (keys.length > 0) await redis.del(...keys);
    return;
  }
  const like = `${full.replace(/[\\%_]/g, '\\$&')}%`;
  await t.rt.db.raw('WITH a AS (DELETE FROM store_entries WHERE key LIKE ?), b AS (DELETE FROM store_buckets WHERE key LIKE ?) DELETE FROM store_rate_limits WHERE key LIKE ?', [like, like, like]);
}

/** Every key under the test's prefix with its value (full keys), whatever its kind. */
export async function dumpStore(t: Holder): Promise<Array<{ key: string; value: string }>> {
  const prefix = t.config.REDIS_PREFIX;
  const redis = redisOf(t);
  const out: Array<{ key: string; value: string }> = [];
  if (!redis) {
    const like = `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
    const r = await t.rt.db.raw(`
      SELECT key, value FROM store_entries WHERE key LIKE ? AND expires_at > clock_timestamp()
      UNION ALL SELECT key, json_build_object('tokens', tokens, 'ts', ts_ms)::text FROM store_buckets WHERE key LIKE ?
      UNION ALL SELECT key, json_build_object('points', points, 'expire', expire)::text FROM store_rate_limits WHERE key LIKE ?`, [like, like, like]);
    return r.rows as Array<{ key: string; value: string }>;
  }
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else value = `<${type}>`;
      out.push({ key, value: typeof value === 'string' ? value : JSON.stringify(value) });
    }
  } while (cursor !== '0');
  return out;
}

export interface TestStoreHandle {
  store: Store;
  /** The database (Postgres store) or Redis this store is on: pass it to open a second store on the same one. */
  url: string;
  close(): Promise<void>;
}

/**
 * A store of the test's kind (TEST_STORE) on its own connection, outside any app: over `url`
 * (another handle's, for a second "worker"), a fresh database copy (Postgres) or the test Redis
 * by default, or over a closed port when `url` is null (a store that is down).
 */
export async function openTestStore(prefix: string, url?: string | null): Promise<TestStoreHandle> {
  if (testStore() === 'redis') {
    const at = url === null ? 'redis://127.0.0.1:1' : (url ?? redisUrl());
    const redis = new Redis(at, { lazyConnect: url === null, enableOfflineQueue: url !== null, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const store = new RedisStore(redis, prefix);
    return { store, url: at, close: () => store.close() };
  }
  const at = url === null ? 'postgres://postgres@127.0.0.1:1/none' : (url ?? (await createTestDatabase()));
  const store = new PostgresStore(createDb(at), prefix, { sweepEveryMs: 0, owned: true });
  return { store, url: at, close: () => store.close() };
}
