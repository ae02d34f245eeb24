import type { RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { ResumePointer, SessionRecord } from '../engine/session-store';

/**
 * Where ephemeral state lives: USSD sessions (their lock, record and resume pointer), SMS
 * conversations, staff console sessions, rate limits and the SMS throttle's token bucket. One
 * interface, two stores: Redis (src/store/redis.ts) and PostgreSQL (src/store/postgres.ts). The
 * engine, the SMS worker and the staff console are given a Store and never ask which one it is.
 *
 * Keys are relative: each store puts its prefix (REDIS_PREFIX) in front, so two gateways or two
 * test runs can share one Redis or one database.
 */
export interface Store {
  readonly kind: StoreKind;

  /** The value, or null when missing or expired. */
  get(key: string): Promise<string | null>;
  /** Sets the value with a time to live (replacing value and TTL). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Whether the key is there and not expired. */
  exists(key: string): Promise<boolean>;
  /** Reads and deletes in one step (null when missing or expired). */
  getdel(key: string): Promise<string | null>;
  del(key: string): Promise<void>;
  /** Renews the time to live of a live key; false when missing or expired. */
  expire(key: string, ttlMs: number): Promise<boolean>;

  /**
   * A short lock (5 s at most, LOCK_MS) that serialises the turns of one conversation, polling
   * until `deadline` (epoch ms) while another holder has it; throws past the deadline. Returns the
   * release, which frees the lock only if it is still ours.
   */
  lock(key: string, deadline: number): Promise<() => Promise<void>>;

  /** USSD sessions with the one-round-trip lock+read and save+release (src/engine/session-store.ts). */
  ussdSessions(ttl: { sessionTtlS: number; resumeTtlS: number }): UssdSessions;

  /** A rate-limiter-flexible limiter over this store (RateLimiterRedis or RateLimiterPostgres). */
  rateLimiter(opts: RateLimiterOptions): RateLimiterStoreAbstract;

  /** A token bucket shared by every process using this store, on the store's own clock. */
  tokenBucket(key: string, ratePerSecond: number, burst: number): SharedTokenBucket;

  /** Answers when the store does (readiness). */
  ping(): Promise<void>;
  /** Deletes what has expired; returns how many entries went. Redis expires keys itself (0). */
  sweep(): Promise<number>;
  /** Deletes every key under this store's prefix (tests, tools). */
  clear(): Promise<void>;
  /** Stops the sweeper and lets go of connections this store opened itself. */
  close(): Promise<void>;
}

export type StoreKind = 'redis' | 'postgres';

/** How long a conversation's lock lives if its holder dies. */
export const LOCK_MS = 5000;
/** How often a lock waiter asks again. */
export const LOCK_POLL_MS = 25;

export interface UssdSessions {
  /**
   * Takes the session's lock and reads its record in one round trip, waiting (polling) until
   * `deadline` while another hop of the same session holds it. A session with no record yet (a
   * dial) also gets the phone's resume pointer and what it points at (`resume`).
   */
  acquire(sessionId: string, phoneHash: string, deadline: number): Promise<HeldUssdSession>;
}

/** A USSD session whose lock this hop holds: its record as read, and the one-round-trip save. */
export interface HeldUssdSession {
  readonly record: SessionRecord | null;
  /** For a session with no record yet: the dropped session this phone may continue. */
  resume: ResumePointer | null;
  /** Saves a session that goes on, and points the phone's next dial at it (or clears the pointer). */
  saveOngoing(record: SessionRecord, resume: ResumePointer | null): Promise<void>;
  /** Keeps an ended session's last reply briefly, for retries, and forgets the resume pointer. */
  saveEnded(record: SessionRecord): Promise<void>;
  /** Releases the lock without saving (a failed hop keeps the previous record for a redial). */
  release(): Promise<void>;
}

export interface RateLimiterOptions {
  /** Relative, like every key: the store adds its prefix. */
  keyPrefix: string;
  points: number;
  /** Seconds. */
  duration: number;
  blockDuration?: number;
}

/** The outbound SMS token bucket's storage: see src/sms/throttle.ts for the semantics. */
export interface SharedTokenBucket {
  /** Up to `max` tokens now; `waitMs` says when one will be there when none was granted. */
  take(max: number): Promise<{ granted: number; waitMs: number }>;
  /** Gives back tokens taken but not used (never above the burst). */
  refund(n: number): Promise<void>;
}
