import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { SessionStore, acquireLock } from '../engine/session-store';
import type { RateLimiterOptions, SharedTokenBucket, Store, UssdSessions } from './types';

/*
 * The token bucket in one Lua script, so the rate holds across every worker of the deployment (AT's
 * limits are per account, not per process). Time comes from Redis itself (TIME), so workers on
 * different machines share one clock. KEYS[1] bucket; ARGV rate/s, burst, max wanted. Returns {granted, waitMs}.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(s[1]) or burst
local ts = tonumber(s[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local granted = math.min(want, math.floor(tokens))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {granted, wait}
`;
const REFUND = `
local burst = tonumber(ARGV[1])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens then redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(burst, tokens + tonumber(ARGV[2])))) end
return 1
`;

/**
 * The Redis store: plain keys with PX expiry, the USSD session scripts of src/engine/session-store.ts,
 * RateLimiterRedis, and the Lua token bucket. Redis expires keys itself, so there is no sweeper.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;

  /** `owned`: close() disconnects the client (the runtime made it for this store). */
  constructor(readonly redis: Redis, private readonly prefix: string, private readonly owned = true) {}

  private k = (key: string) => `${this.prefix}${key}`;

  get(key: string): Promise<string | null> {
    return this.redis.get(this.k(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(this.k(key))) === 1;
  }

  getdel(key: string): Promise<string | null> {
    return this.redis.getdel(this.k(key));
  }

  async del(key: string): Promise<void> {
    await this.redis.del(this.k(key));
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.pexpire(this.k(key), Math.max(1, Math.round(ttlMs)))) === 1;
  }

  lock(key: string, deadline: number): Promise<() => Promise<void>> {
    return acquireLock(this.redis, this.k(key), deadline);
  }

  ussdSessions(ttl: { sessionTtlS: number; resumeTtlS: number }): UssdSessions {
    return new SessionStore(this.redis, this.prefix, ttl.sessionTtlS, ttl.resumeTtlS);
  }

  rateLimiter(opts: RateLimiterOptions): RateLimiterRedis {
    return new RateLimiterRedis({ storeClient: this.redis, ...opts, keyPrefix: this.k(opts.keyPrefix) });
  }

  tokenBucket(key: string, ratePerSecond: number, burst: number): SharedTokenBucket {
    const redis = this.redis;
    const bucket = this.k(key);
    return {
      async take(max) {
        const [granted, waitMs] = (await redis.eval(TAKE, 1, bucket, ratePerSecond, burst, max)) as [number, number];
        return { granted: Number(granted), waitMs: Number(waitMs) };
      },
      async refund(n) {
        if (n > 0) await redis.eval(REFUND, 1, bucket, burst, n);
      },
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async sweep(): Promise<number> {
    return 0;
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.owned) this.redis.disconnect();
  }
}
