import { randomUUID } from 'node:crypto';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Db } from '../db';
import { prepare } from '../db/prepared';
import { HeldSessionBase, type HeldSessionKeys, type ResumePointer, type SessionRecord } from '../engine/session-store';
import { LOCK_MS, LOCK_POLL_MS, type HeldUssdSession, type RateLimiterOptions, type SharedTokenBucket, type Store, type UssdSessions } from './types';

/** How often the sweeper deletes expired rows (reads ignore them anyway). */
export const SWEEP_EVERY_MS = 60_000;

const ttl = (ms: number) => Math.max(1, Math.round(ms));

/**
 * The Postgres store: the same state as the Redis store, in the UNLOGGED tables of migration 011
 * (store_entries: key, value, expires_at; store_buckets; store_rate_limits), on the database's clock.
 * Every call is one statement sent as a named prepared statement (src/db/prepared.ts); a USSD hop
 * is two, as with Redis (store_lock_and_get, store_save_and_release).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly sweeper: NodeJS.Timeout | null;
  private readonly q: Queries;
  private readonly owned: boolean;

  /** `sweepEveryMs`: 0 runs no sweeper (tests call sweep()). `owned`: close() destroys the pool. */
  constructor(private readonly db: Db, private readonly prefix: string, opts: { sweepEveryMs?: number; owned?: boolean } = {}) {
    this.owned = opts.owned ?? false;
    this.q = queries(db);
    const every = opts.sweepEveryMs ?? SWEEP_EVERY_MS;
    // A failed sweep only leaves expired rows a minute longer: every read ignores them.
    this.sweeper = every > 0 ? setInterval(() => void this.sweep().catch(() => undefined), every).unref() : null;
  }

  private k = (key: string) => `${this.prefix}${key}`;

  async get(key: string): Promise<string | null> {
    return (await this.q.get({ key: this.k(key) }))[0]?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.q.set({ key: this.k(key), value, ms: ttl(ttlMs) });
  }

  async exists(key: string): Promise<boolean> {
    return (await this.q.exists({ key: this.k(key) })).length > 0;
  }

  async getdel(key: string): Promise<string | null> {
    const row = (await this.q.getdel({ key: this.k(key) }))[0];
    return row?.live ? row.value : null;
  }

  async del(key: string): Promise<void> {
    await this.q.del({ key: this.k(key) });
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.q.expire({ key: this.k(key), ms: ttl(ttlMs) })).length > 0;
  }

  async lock(key: string, deadline: number): Promise<() => Promise<void>> {
    const full = this.k(key);
    const token = randomUUID();
    for (;;) {
      if ((await this.q.lock({ key: full, token, ms: LOCK_MS })).length > 0) {
        return async () => void (await this.q.unlock({ key: full, token }));
      }
      if (Date.now() + LOCK_POLL_MS > deadline) throw new Error('conversation busy: lock not acquired before the deadline');
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  ussdSessions(ttls: { sessionTtlS: number; resumeTtlS: number }): UssdSessions {
    const keys = {
      session: (id: string) => this.k(`ussd:s:${id}`),
      lock: (id: string) => this.k(`ussd:lock:${id}`),
      resume: (phoneHash: string) => this.k(`ussd:resume:${phoneHash}`),
      sessionPrefix: this.k('ussd:s:'),
    };
    const q = this.q;
    return {
      async acquire(sessionId, phoneHash, deadline) {
        const token = randomUUID();
        for (;;) {
          const [row] = await q.lockAndGet({ lock: keys.lock(sessionId), session: keys.session(sessionId), resume: keys.resume(phoneHash), sessionPrefix: keys.sessionPrefix, token, ms: LOCK_MS });
          if (row?.ok) {
            const held = new PgHeldSession(q, { session: keys.session(sessionId), lock: keys.lock(sessionId), resume: keys.resume }, token,
              row.session_value ? (JSON.parse(row.session_value) as SessionRecord) : null, ttls.sessionTtlS, ttls.resumeTtlS);
            if (!row.session_value) held.resume = resumeOf(row.pointer_value, row.pointed_value, phoneHash);
            return held;
          }
          if (Date.now() + LOCK_POLL_MS > deadline) throw new Error('session busy: lock not acquired before the deadline');
          await new Promise((res) => setTimeout(res, LOCK_POLL_MS));
        }
      },
    };
  }

  rateLimiter(opts: RateLimiterOptions): RateLimiterPostgres {
    return new RateLimiterPostgres({
      storeClient: this.db, storeType: 'knex', tableName: 'store_rate_limits', tableCreated: true,
      clearExpiredByTimeout: false, // the sweeper does it
      ...opts, keyPrefix: this.k(opts.keyPrefix),
    });
  }

  tokenBucket(key: string, ratePerSecond: number, burst: number): SharedTokenBucket {
    const q = this.q;
    const full = this.k(key);
    return {
      async take(max) {
        const [row] = await q.take({ key: full, rate: ratePerSecond, burst, want: max });
        return { granted: Number(row?.granted ?? 0), waitMs: Number(row?.wait_ms ?? 0) };
      },
      async refund(n) {
        if (n > 0) await q.refund({ key: full, burst, n });
      },
    };
  }

  async ping(): Promise<void> {
    await this.db.raw('SELECT 1');
  }

  /** Deletes every expired row of the three tables (rate limits carry their expiry in epoch ms). */
  async sweep(): Promise<number> {
    const r = await this.db.raw(`
      WITH a AS (DELETE FROM store_entries WHERE expires_at <= clock_timestamp() RETURNING 1),
           b AS (DELETE FROM store_buckets WHERE expires_at <= clock_timestamp() RETURNING 1),
           c AS (DELETE FROM store_rate_limits WHERE expire <= ? RETURNING 1)
      SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) AS n`, [Date.now()]);
    return Number((r.rows as Array<{ n: string }>)[0]?.n ?? 0);
  }

  async clear(): Promise<void> {
    const like = `${this.prefix.replace(/[\\%_]/g, '\\$&')}%`;
    await this.db.raw(`
      WITH a AS (DELETE FROM store_entries WHERE key LIKE ?), b AS (DELETE FROM store_buckets WHERE key LIKE ?)
      DELETE FROM store_rate_limits WHERE key LIKE ?`, [like, like, like]);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.owned) await this.db.destroy();
  }
}

interface LockAndGetRow {
  ok: boolean;
  session_value: string | null;
  pointer_value: string | null;
  pointed_value: string | null;
}

/** Every statement of the store, compiled once and sent as named prepared statements. */
function queries(db: Db) {
  const raw = db.raw.bind(db);
  const live = 'expires_at > clock_timestamp()';
  const until = (ms: string) => `clock_timestamp() + ${ms}::integer * interval '1 millisecond'`;
  return {
    get: prepare<{ key: string }, { value: string }>(db, 'store_get', ['key'], (p) => raw(`SELECT value FROM store_entries WHERE key = ? AND ${live}`, [p.key])),
    set: prepare<{ key: string; value: string; ms: number }, never>(db, 'store_set', ['key', 'value', 'ms'], (p) =>
      raw(`INSERT INTO store_entries (key, value, expires_at) VALUES (?, ?, ${until('?')})
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, [p.key, p.value, p.ms])),
    exists: prepare<{ key: string }, { one: number }>(db, 'store_exists', ['key'], (p) => raw(`SELECT 1 AS one FROM store_entries WHERE key = ? AND ${live}`, [p.key])),
    getdel: prepare<{ key: string }, { value: string; live: boolean }>(db, 'store_getdel', ['key'], (p) =>
      raw(`DELETE FROM store_entries WHERE key = ? RETURNING value, ${live} AS live`, [p.key])),
    del: prepare<{ key: string }, never>(db, 'store_del', ['key'], (p) => raw('DELETE FROM store_entries WHERE key = ?', [p.key])),
    expire: prepare<{ key: string; ms: number }, { one: number }>(db, 'store_expire', ['key', 'ms'], (p) =>
      raw(`UPDATE store_entries SET expires_at = ${until('?')} WHERE key = ? AND ${live} RETURNING 1 AS one`, [p.ms, p.key])),
    lock: prepare<{ key: string; token: string; ms: number }, { one: number }>(db, 'store_lock', ['key', 'token', 'ms'], (p) =>
      raw(`INSERT INTO store_entries AS e (key, value, expires_at) VALUES (?, ?, ${until('?')})
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
           WHERE e.expires_at <= clock_timestamp() RETURNING 1 AS one`, [p.key, p.token, p.ms])),
    unlock: prepare<{ key: string; token: string }, never>(db, 'store_unlock', ['key', 'token'], (p) =>
      raw('DELETE FROM store_entries WHERE key = ? AND value = ?', [p.key, p.token])),
    lockAndGet: prepare<{ lock: string; session: string; resume: string; sessionPrefix: string; token: string; ms: number }, LockAndGetRow>(
      db, 'store_lock_and_get', ['lock', 'session', 'resume', 'sessionPrefix', 'token', 'ms'],
      (p) => raw('SELECT * FROM store_lock_and_get(?, ?, ?, ?, ?, ?::integer)', [p.lock, p.session, p.resume, p.sessionPrefix, p.token, p.ms])),
    saveAndRelease: prepare<{ session: string; record: string; ms: number; resume: string; pointer: string | null; resumeMs: number; lock: string; token: string }, never>(
      db, 'store_save_and_release', ['session', 'record', 'ms', 'resume', 'pointer', 'resumeMs', 'lock', 'token'],
      (p) => raw('SELECT store_save_and_release(?, ?, ?::integer, ?, ?, ?::integer, ?, ?)', [p.session, p.record, p.ms, p.resume, p.pointer, p.resumeMs, p.lock, p.token])),
    take: prepare<{ key: string; rate: number; burst: number; want: number }, { granted: number; wait_ms: number }>(db, 'store_take', ['key', 'rate', 'burst', 'want'], (p) =>
      raw('SELECT * FROM store_take_tokens(?, ?::double precision, ?::double precision, ?::integer)', [p.key, p.rate, p.burst, p.want])),
    refund: prepare<{ key: string; burst: number; n: number }, never>(db, 'store_refund', ['key', 'burst', 'n'], (p) =>
      raw(`UPDATE store_buckets SET tokens = least(?::double precision, tokens + ?::double precision) WHERE key = ? AND ${live}`, [p.burst, p.n, p.key])),
  };
}

type Queries = ReturnType<typeof queries>;

/** What a redial may continue, from the phone's pointer and the record it names (as the Redis store does). */
function resumeOf(pointer: string | null, pointed: string | null, phoneHash: string): ResumePointer | null {
  if (!pointer || !pointed) return null;
  const { sessionId, lang } = JSON.parse(pointer) as Pick<ResumePointer, 'sessionId' | 'lang'>;
  const record = JSON.parse(pointed) as SessionRecord;
  // The session may since have been taken over by another phone (its sessionId reused): not ours to resume.
  if (record.ended || record.phoneHash !== phoneHash) return null;
  return { sessionId, state: record.resumeOffer ?? record.state, lang };
}

/** The Postgres store's held session: one statement (store_save_and_release) saves and releases. */
class PgHeldSession extends HeldSessionBase implements HeldUssdSession {
  constructor(
    private readonly q: Queries,
    keys: HeldSessionKeys,
    token: string,
    record: SessionRecord | null,
    ttlS: number,
    resumeTtlS: number,
  ) {
    super(keys, token, record, ttlS, resumeTtlS);
  }

  protected async saveAndRelease(record: SessionRecord, ttlS: number, pointer: string | null): Promise<void> {
    await this.q.saveAndRelease({
      session: this.keys.session, record: JSON.stringify(record), ms: ttlS * 1000,
      resume: this.keys.resume(record.phoneHash), pointer, resumeMs: this.resumeTtlS * 1000, lock: this.keys.lock, token: this.token,
    });
  }

  protected async unlock(): Promise<void> {
    await this.q.unlock({ key: this.keys.lock, token: this.token });
  }
}
