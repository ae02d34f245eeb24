import type { Redis } from 'ioredis';

/**
 * The outbound SMS rate limit, a token bucket: `ratePerSecond` tokens a second, at most `burst`
 * stored. The worker asks for up to a batch's worth of tokens before it claims rows, and claims only
 * as many rows as it got, so a claimed row never waits for the throttle while its lease runs.
 */
export interface Throttle {
  /** Takes up to `max` tokens now. `granted` may be 0; then `waitMs` says when one will be there. */
  take(max: number): Promise<{ granted: number; waitMs: number }>;
  /** Gives back tokens taken but not used (fewer rows were due than tokens granted). */
  refund(n: number): Promise<void>;
}

export const unthrottled: Throttle = {
  take: async (max) => ({ granted: max, waitMs: 0 }),
  refund: async () => undefined,
};

/** In-process token bucket on an injectable clock (tests move the clock, nothing sleeps). */
export class TokenBucket implements Throttle {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = Math.max(1, Math.ceil(ratePerSecond)),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
      this.last = t;
    }
  }

  async take(max: number): Promise<{ granted: number; waitMs: number }> {
    this.refill();
    const granted = Math.max(0, Math.min(max, Math.floor(this.tokens)));
    this.tokens -= granted;
    const waitMs = granted > 0 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
    return { granted, waitMs };
  }

  async refund(n: number): Promise<void> {
    this.tokens = Math.min(this.burst, this.tokens + n);
  }
}

/*
 * The same bucket in Redis, so the rate holds across every worker of the deployment (AT's limits
 * are per account, not per process). Time comes from Redis itself (TIME), so workers on different
 * machines share one clock. KEYS[1] bucket; ARGV rate/s, burst, max wanted. Returns {granted, waitMs}.
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
 * Redis-backed bucket. If Redis does not answer, the worker keeps sending under an in-process
 * bucket of the same rate (per process, so a degraded deployment may exceed the rate by its
 * number of workers) rather than stopping a login code.
 */
export class RedisTokenBucket implements Throttle {
  private readonly fallback: TokenBucket;
  private readonly burst: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ratePerSecond: number,
    burst?: number,
    private readonly onFallback: (err: Error) => void = () => undefined,
  ) {
    this.burst = burst ?? Math.max(1, Math.ceil(ratePerSecond));
    this.fallback = new TokenBucket(ratePerSecond, this.burst);
  }

  async take(max: number): Promise<{ granted: number; waitMs: number }> {
    try {
      const [granted, waitMs] = (await this.redis.eval(TAKE, 1, this.key, this.ratePerSecond, this.burst, max)) as [number, number];
      return { granted: Number(granted), waitMs: Number(waitMs) };
    } catch (err) {
      this.onFallback(err as Error);
      return this.fallback.take(max);
    }
  }

  async refund(n: number): Promise<void> {
    if (n <= 0) return;
    try {
      await this.redis.eval(REFUND, 1, this.key, this.burst, n);
    } catch {
      // A lost refund only slows sending for a moment.
    }
  }
}

/** The throttle for a configured rate: 0 = unthrottled. */
export function createThrottle(redis: Redis | null, key: string, ratePerSecond: number, onFallback?: (err: Error) => void): Throttle {
  if (ratePerSecond <= 0) return unthrottled;
  return redis ? new RedisTokenBucket(redis, key, ratePerSecond, undefined, onFallback) : new TokenBucket(ratePerSecond);
}
