import type { SharedTokenBucket, Store } from '../store/types';

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

/**
 * The bucket in the store (Redis: a Lua script on Redis's clock; Postgres: a function on the
 * database's clock; see src/store), so the rate holds across every worker of the deployment (AT's
 * limits are per account, not per process). If the store does not answer, the worker keeps sending
 * under an in-process bucket of the same rate (per process, so a degraded deployment may exceed the
 * rate by its number of workers) rather than stopping a login code.
 */
export class SharedThrottle implements Throttle {
  private readonly fallback: TokenBucket;
  private readonly bucket: SharedTokenBucket;

  constructor(
    store: Pick<Store, 'tokenBucket'>,
    key: string,
    ratePerSecond: number,
    burst: number = Math.max(1, Math.ceil(ratePerSecond)),
    private readonly onFallback: (err: Error) => void = () => undefined,
  ) {
    this.bucket = store.tokenBucket(key, ratePerSecond, burst);
    this.fallback = new TokenBucket(ratePerSecond, burst);
  }

  async take(max: number): Promise<{ granted: number; waitMs: number }> {
    try {
      return await this.bucket.take(max);
    } catch (err) {
      this.onFallback(err as Error);
      return this.fallback.take(max);
    }
  }

  async refund(n: number): Promise<void> {
    if (n <= 0) return;
    try {
      await this.bucket.refund(n);
    } catch {
      // A lost refund only slows sending for a moment.
    }
  }
}

/** The throttle for a configured rate: 0 = unthrottled; no store = this process's own bucket. */
export function createThrottle(store: Pick<Store, 'tokenBucket'> | null, key: string, ratePerSecond: number, onFallback?: (err: Error) => void): Throttle {
  if (ratePerSecond <= 0) return unthrottled;
  return store ? new SharedThrottle(store, key, ratePerSecond, undefined, onFallback) : new TokenBucket(ratePerSecond);
}
