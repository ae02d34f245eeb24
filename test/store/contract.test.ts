import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { createDb, type Db } from '../../src/db';
import type { ResumePointer, SessionRecord } from '../../src/engine/session-store';
import { PostgresStore, RedisStore, type Store, type StoreKind } from '../../src/store';
import { LOCK_MS } from '../../src/store/types';
import { StaffSessions } from '../../src/channels/staff/session';
import { createTestDatabase } from '../helpers/test-app';
import { availableStores, redisUrl } from '../helpers/env';

/**
 * The store contract (issue 11): every behaviour the engine, the SMS worker and the staff console
 * rely on, run unchanged against each store this machine has (Redis and PostgreSQL in CI). A
 * "worker" here is a second store object over its own connection, as a second process would have.
 * Expiry is real time with short TTLs; the lock's own expiry is the production 5 s.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  /** A store object over its own connection, on the shared prefix (a second gateway or worker). */
  open(): Promise<Store>;
  /** The store's rows or keys under the prefix, expired or not (what the sweeper must remove). */
  rawCount(): Promise<number>;
  /** The keys (full) of store entries under the prefix, expired or not. */
  rawKeys(): Promise<string[]>;
  close(): Promise<void>;
}

async function redisHarness(prefix: string): Promise<Harness> {
  const clients: Redis[] = [];
  const admin = new Redis(redisUrl());
  return {
    async open() {
      const redis = new Redis(redisUrl());
      clients.push(redis);
      return new RedisStore(redis, prefix, false);
    },
    rawCount: async () => (await admin.keys(`${prefix}*`)).length,
    rawKeys: () => admin.keys(`${prefix}*`),
    async close() {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      for (const c of clients) c.disconnect();
      admin.disconnect();
    },
  };
}

async function postgresHarness(prefix: string): Promise<Harness> {
  const url = await createTestDatabase();
  const pools: Db[] = [];
  const admin = createDb(url);
  return {
    async open() {
      const db = createDb(url);
      pools.push(db);
      return new PostgresStore(db, prefix, { sweepEveryMs: 0 });
    },
    async rawCount() {
      const like = `${prefix}%`;
      const r = await admin.raw(
        `SELECT (SELECT count(*) FROM store_entries WHERE key LIKE ?) + (SELECT count(*) FROM store_buckets WHERE key LIKE ?)
              + (SELECT count(*) FROM store_rate_limits WHERE key LIKE ?) AS n`, [like, like, like]);
      return Number((r.rows as Array<{ n: string }>)[0]?.n);
    },
    async rawKeys() {
      const r = await admin.raw('SELECT key FROM store_entries WHERE key LIKE ?', [`${prefix}%`]);
      return (r.rows as Array<{ key: string }>).map((row) => row.key);
    },
    async close() {
      for (const db of pools) await db.destroy();
      await admin.destroy();
    },
  };
}

const harnesses: Record<StoreKind, (prefix: string) => Promise<Harness>> = { redis: redisHarness, postgres: postgresHarness };

function record(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    v: 1,
    state: { flow: 'main-menu', version: 1, snapshot: { value: 'menu', context: { n: 1 } } },
    lang: 'sw',
    page: 0,
    lastTextHash: randomBytes(16).toString('hex'),
    lastTextLen: 3,
    lastReply: 'CON Karibu Simu\n1. Hali ya ombi',
    hops: 1,
    startedAt: Date.now(),
    phoneHash: 'phone-a',
    ...over,
  };
}

describe.each(availableStores())('store contract: %s', (kind) => {
  const prefix = `simu-contract:${randomBytes(4).toString('hex')}:`;
  let h: Harness;
  let store: Store;
  let other: Store;
  beforeAll(async () => {
    h = await harnesses[kind](prefix);
    store = await h.open();
    other = await h.open();
  });
  afterAll(async () => {
    await store.close();
    await other.close();
    await h.close();
  });
  const key = () => `k:${randomBytes(6).toString('hex')}`;

  test('kind says which store it is', () => {
    expect(store.kind).toBe(kind);
  });

  describe('keys with a time to live', () => {
    test('set, get, exists, getdel, del; another connection sees the same values', async () => {
      const k = key();
      expect(await store.get(k)).toBeNull();
      expect(await store.exists(k)).toBe(false);
      await store.set(k, 'one', 60_000);
      expect(await other.get(k)).toBe('one');
      expect(await other.exists(k)).toBe(true);
      await store.set(k, 'two', 60_000);
      expect(await other.getdel(k)).toBe('two');
      expect(await store.get(k)).toBeNull();
      expect(await store.getdel(k)).toBeNull();
      await store.set(k, 'three', 60_000);
      await other.del(k);
      expect(await store.exists(k)).toBe(false);
    });

    test('a value is gone once its time to live has passed', async () => {
      const [short, long, got] = [key(), key(), key()];
      await store.set(short, 'x', 150);
      await store.set(got, 'x', 150);
      await store.set(long, 'y', 60_000);
      await sleep(400);
      expect(await store.get(short)).toBeNull();
      expect(await store.exists(short)).toBe(false);
      expect(await store.getdel(got)).toBeNull();
      expect(await store.get(long)).toBe('y');
    });

    test('expire renews a live key and says false for a missing or expired one', async () => {
      const [k, gone] = [key(), key()];
      await store.set(k, 'v', 1000);
      await store.set(gone, 'v', 1000);
      expect(await store.expire(k, 60_000)).toBe(true);
      await sleep(1300);
      expect(await store.get(k)).toBe('v');
      expect(await store.expire(gone, 60_000)).toBe(false);
      expect(await store.get(gone)).toBeNull();
      expect(await store.expire(key(), 60_000)).toBe(false);
    });

    test('set replaces the time to live: a shorter one makes the key expire sooner', async () => {
      const k = key();
      await store.set(k, 'long', 60_000);
      await store.set(k, 'short', 100);
      await sleep(350);
      expect(await store.get(k)).toBeNull();
    });
  });

  describe('conversation lock', () => {
    test('one holder at a time across connections: concurrent turns never overlap and all run', async () => {
      const k = key();
      let inside = 0;
      let most = 0;
      let ran = 0;
      await Promise.all(Array.from({ length: 8 }, (_, i) => (async () => {
        const release = await (i % 2 ? other : store).lock(k, Date.now() + 10_000);
        inside++;
        most = Math.max(most, inside);
        await sleep(15);
        inside--;
        ran++;
        await release();
      })()));
      expect(most).toBe(1);
      expect(ran).toBe(8);
    });

    test('a waiter gives up at its deadline; after the release the next one gets it at once', async () => {
      const k = key();
      const release = await store.lock(k, Date.now() + 1000);
      const started = Date.now();
      await expect(other.lock(k, Date.now() + 200)).rejects.toThrow(/busy/);
      expect(Date.now() - started).toBeLessThan(2000); // gave up, did not wait for the holder
      await release();
      const again = await other.lock(k, Date.now() + 200);
      await again();
    });

    test(`a holder that died frees the lock after ${LOCK_MS} ms; its late release does not free the next holder's`, async () => {
      const k = key();
      const dead = await store.lock(k, Date.now() + 1000);
      await expect(other.lock(k, Date.now() + LOCK_MS - 1500)).rejects.toThrow(/busy/);
      const next = await other.lock(k, Date.now() + 3000);
      await dead(); // the first holder comes back late: the lock is no longer its own
      await expect(store.lock(k, Date.now() + 150)).rejects.toThrow(/busy/);
      await next();
      await (await store.lock(k, Date.now() + 150))();
    }, 15_000);
  });

  describe('USSD sessions (lock + read, save + release)', () => {
    const ttl = { sessionTtlS: 180, resumeTtlS: 300 };
    const sid = () => `ATUid_${randomBytes(8).toString('hex')}`;

    test('a new session has no record; the saved record reads back whole (the retry record included)', async () => {
      const sessions = store.ussdSessions(ttl);
      const id = sid();
      const first = await sessions.acquire(id, 'phone-new', Date.now() + 1000);
      expect(first.record).toBeNull();
      expect(first.resume).toBeNull();
      const saved = record({ phoneHash: 'phone-new', notice: { key: 'resume.offer' } as never, hops: 2 });
      await first.saveOngoing(saved, null);
      const second = await other.ussdSessions(ttl).acquire(id, 'phone-new', Date.now() + 1000);
      expect(second.record).toEqual(saved);
      // The same text again is answered from the record (lastTextHash, lastReply): nothing else needed.
      expect(second.record?.lastReply).toBe(saved.lastReply);
      await second.release();
    });

    test('one hop at a time: a second hop waits for the first to save and reads what it saved', async () => {
      const id = sid();
      const a = await store.ussdSessions(ttl).acquire(id, 'phone-b', Date.now() + 1000);
      const waiting = other.ussdSessions(ttl).acquire(id, 'phone-b', Date.now() + 3000);
      await sleep(150);
      await a.saveOngoing(record({ phoneHash: 'phone-b', hops: 7 }), null);
      const b = await waiting;
      expect(b.record?.hops).toBe(7);
      await b.release();
    });

    test('concurrent hops of one session run one after another, each reading the previous save', async () => {
      const id = sid();
      const hops = await Promise.all(Array.from({ length: 6 }, (_, i) => (async () => {
        const held = await (i % 2 ? other : store).ussdSessions(ttl).acquire(id, 'phone-c', Date.now() + 10_000);
        const n = (held.record?.hops ?? 0) + 1;
        await sleep(10);
        await held.saveOngoing(record({ phoneHash: 'phone-c', hops: n }), null);
        return n;
      })()));
      expect(hops.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    test('a busy session throws at the deadline; release without saving keeps the previous record', async () => {
      const id = sid();
      const first = await store.ussdSessions(ttl).acquire(id, 'phone-d', Date.now() + 1000);
      await first.saveOngoing(record({ phoneHash: 'phone-d', hops: 1 }), null);
      const held = await store.ussdSessions(ttl).acquire(id, 'phone-d', Date.now() + 1000);
      await expect(other.ussdSessions(ttl).acquire(id, 'phone-d', Date.now() + 150)).rejects.toThrow(/busy/);
      await held.release();
      await held.release(); // twice is harmless
      const after = await other.ussdSessions(ttl).acquire(id, 'phone-d', Date.now() + 150);
      expect(after.record?.hops).toBe(1);
      await after.release();
    });

    test('resume pointer: a dial from the same phone is offered the dropped session (its resumeOffer, else its state)', async () => {
      const dropped = sid();
      const phone = `phone-${randomBytes(4).toString('hex')}`;
      const held = await store.ussdSessions(ttl).acquire(dropped, phone, Date.now() + 1000);
      const state = { flow: 'check-status' as const, version: 3, snapshot: { value: 'number' } };
      const pointer: ResumePointer = { sessionId: dropped, state, lang: 'sw' };
      await held.saveOngoing(record({ phoneHash: phone, state }), pointer);

      const redial = await other.ussdSessions(ttl).acquire(sid(), phone, Date.now() + 1000);
      expect(redial.record).toBeNull();
      expect(redial.resume).toEqual({ sessionId: dropped, state, lang: 'sw' });
      await redial.release();

      // A session that holds a resume offer: Continue restores the offer, not the offer screen.
      const offer = { flow: 'book-appointment' as const, version: 2, snapshot: { value: 'day' } };
      const again = await store.ussdSessions(ttl).acquire(dropped, phone, Date.now() + 1000);
      await again.saveOngoing(record({ phoneHash: phone, state, resumeOffer: offer }), pointer);
      const redial2 = await other.ussdSessions(ttl).acquire(sid(), phone, Date.now() + 1000);
      expect(redial2.resume).toEqual({ sessionId: dropped, state: offer, lang: 'sw' });
      await redial2.release();

      // Another phone sees nothing; a session with a record gets no resume.
      const stranger = await other.ussdSessions(ttl).acquire(sid(), 'phone-other', Date.now() + 1000);
      expect(stranger.resume).toBeNull();
      await stranger.release();
      const same = await other.ussdSessions(ttl).acquire(dropped, phone, Date.now() + 1000);
      expect(same.record).not.toBeNull();
      expect(same.resume).toBeNull();
      await same.release();
    });

    test('a pointer whose session was since taken over by another phone (its sessionId reused) offers nothing', async () => {
      const phone = `phone-${randomBytes(4).toString('hex')}`;
      const id = sid();
      const state = { flow: 'check-status' as const, version: 3, snapshot: {} };
      await (await store.ussdSessions(ttl).acquire(id, phone, Date.now() + 1000)).saveOngoing(record({ phoneHash: phone, state }), { sessionId: id, state, lang: 'en' });
      // Another phone's hop on the same sessionId saves its own record over it (the engine starts it afresh).
      const intruder = await other.ussdSessions(ttl).acquire(id, 'phone-intruder', Date.now() + 1000);
      await intruder.saveOngoing(record({ phoneHash: 'phone-intruder', state }), null);
      const redial = await store.ussdSessions(ttl).acquire(sid(), phone, Date.now() + 1000);
      expect(redial.resume).toBeNull();
      await redial.release();
    });

    test('saving without a pointer clears it; an ended session is kept for retries and offers no resume', async () => {
      const phone = `phone-${randomBytes(4).toString('hex')}`;
      const a = sid();
      const state = { flow: 'check-status' as const, version: 3, snapshot: {} };
      const h1 = await store.ussdSessions(ttl).acquire(a, phone, Date.now() + 1000);
      await h1.saveOngoing(record({ phoneHash: phone, state }), { sessionId: a, state, lang: 'en' });
      const h2 = await store.ussdSessions(ttl).acquire(a, phone, Date.now() + 1000);
      await h2.saveOngoing(record({ phoneHash: phone, state }), null);
      const r1 = await other.ussdSessions(ttl).acquire(sid(), phone, Date.now() + 1000);
      expect(r1.resume).toBeNull();
      await r1.release();

      const h3 = await store.ussdSessions(ttl).acquire(a, phone, Date.now() + 1000);
      await h3.saveOngoing(record({ phoneHash: phone, state }), { sessionId: a, state, lang: 'en' });
      const h4 = await store.ussdSessions(ttl).acquire(a, phone, Date.now() + 1000);
      await h4.saveEnded(record({ phoneHash: phone, state, lastReply: 'END Asante' }));
      const retry = await other.ussdSessions(ttl).acquire(a, phone, Date.now() + 1000);
      expect(retry.record).toMatchObject({ ended: true, lastReply: 'END Asante' });
      await retry.release();
      const r2 = await other.ussdSessions(ttl).acquire(sid(), phone, Date.now() + 1000);
      expect(r2.resume).toBeNull();
      await r2.release();
    });

    test('time to live: a session expires after SESSION_TTL_S, its pointer and record after RESUME_TTL_S', async () => {
      const short = { sessionTtlS: 1, resumeTtlS: 4 };
      const phone = `phone-${randomBytes(4).toString('hex')}`;
      const plain = sid();
      const pointed = sid();
      const state = { flow: 'check-status' as const, version: 3, snapshot: {} };
      await (await store.ussdSessions(short).acquire(plain, 'phone-ttl', Date.now() + 1000)).saveOngoing(record({ phoneHash: 'phone-ttl' }), null);
      await (await store.ussdSessions(short).acquire(pointed, phone, Date.now() + 1000)).saveOngoing(record({ phoneHash: phone, state }), { sessionId: pointed, state, lang: 'en' });
      await sleep(1500);
      const p = await other.ussdSessions(short).acquire(plain, 'phone-ttl', Date.now() + 1000);
      expect(p.record).toBeNull();
      await p.release();
      const r = await other.ussdSessions(short).acquire(sid(), phone, Date.now() + 1000);
      expect(r.resume?.sessionId).toBe(pointed); // kept RESUME_TTL_S while a pointer names it
      await r.release();
      await sleep(3000);
      const gone = await other.ussdSessions(short).acquire(sid(), phone, Date.now() + 1000);
      expect(gone.resume).toBeNull();
      await gone.release();
    }, 10_000);

    test('a hop whose lock holder died waits for the lock to expire, then goes on', async () => {
      const id = sid();
      await store.ussdSessions(ttl).acquire(id, 'phone-e', Date.now() + 1000); // never released
      const started = Date.now();
      const next = await other.ussdSessions(ttl).acquire(id, 'phone-e', Date.now() + LOCK_MS + 2000);
      expect(Date.now() - started).toBeGreaterThan(LOCK_MS - 1000);
      await next.release();
    }, 15_000);
  });

  describe('SMS throttle token bucket', () => {
    test('concurrent takers on two connections never get more than the burst between them', async () => {
      const k = key();
      const takes = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? other : store).tokenBucket(k, 0.01, 20).take(5)));
      expect(takes.reduce((n, t) => n + t.granted, 0)).toBe(20);
      for (const t of takes) {
        if (t.granted === 0) expect(t.waitMs).toBeGreaterThan(0);
        else expect(t.waitMs).toBe(0);
      }
    });

    test('refills at the rate, never above the burst; a refund gives tokens back up to the burst', async () => {
      const k = key();
      const bucket = store.tokenBucket(k, 5, 5);
      expect((await bucket.take(10)).granted).toBe(5);
      const empty = await bucket.take(1);
      expect(empty.granted).toBe(0);
      expect(empty.waitMs).toBeGreaterThan(0);
      expect(empty.waitMs).toBeLessThanOrEqual(200);
      await sleep(3000); // 15 tokens' worth of time: capped at the burst
      expect((await other.tokenBucket(k, 5, 5).take(10)).granted).toBe(5);
      const slow = store.tokenBucket(key(), 0.01, 4);
      expect((await slow.take(4)).granted).toBe(4);
      await slow.refund(3);
      await slow.refund(9);
      expect((await slow.take(10)).granted).toBe(4);
    });
  });

  describe('rate limits (rate-limiter-flexible over the store)', () => {
    test('consume up to the points, refused after, per key; reward gives a point back; concurrent consumers share the count', async () => {
      const opts = { keyPrefix: `rl:${randomBytes(3).toString('hex')}`, points: 3, duration: 60 };
      const a = store.rateLimiter(opts);
      const b = other.rateLimiter(opts);
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).consume('phone-1')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RateLimiterRes);
      await expect(a.consume('phone-2')).resolves.toMatchObject({ remainingPoints: 2 });
      // Refused attempts count too (8 consumed): a reward of 6 leaves room for exactly one more.
      await b.reward('phone-1', 6);
      await expect(a.consume('phone-1')).resolves.toMatchObject({ remainingPoints: 0 });
      await expect(a.consume('phone-1')).rejects.toBeInstanceOf(RateLimiterRes);
      await a.delete('phone-1');
      await expect(b.consume('phone-1')).resolves.toMatchObject({ remainingPoints: 2 });
      // Another limiter's prefix is another count.
      await expect(store.rateLimiter({ ...opts, keyPrefix: `${opts.keyPrefix}-other` }).consume('phone-1')).resolves.toMatchObject({ remainingPoints: 2 });
    });

    test('the window ends after its duration', async () => {
      const limiter = store.rateLimiter({ keyPrefix: `rl:${randomBytes(3).toString('hex')}`, points: 1, duration: 1 });
      await limiter.consume('x');
      await expect(limiter.consume('x')).rejects.toBeInstanceOf(RateLimiterRes);
      await sleep(1100);
      await expect(limiter.consume('x')).resolves.toMatchObject({ remainingPoints: 0 });
    });
  });

  describe('sweeper and clear', () => {
    test('sweep removes what has expired (entries, buckets, rate limits) and nothing live', async () => {
      const live = key();
      await store.set(live, 'live', 60_000);
      const old = Array.from({ length: 5 }, key);
      for (const k of old) await store.set(k, 'old', 50);
      await sleep(200);
      const has = async (k: string) => (await h.rawKeys()).includes(`${prefix}${k}`);
      // The Postgres store keeps expired rows (unreadable) until the sweeper runs; Redis drops them itself.
      if (kind === 'postgres') expect(await has(old[0] as string)).toBe(true);
      const swept = await store.sweep();
      if (kind === 'postgres') expect(swept).toBeGreaterThanOrEqual(5);
      for (const k of old) expect(await has(k)).toBe(false);
      expect(await has(live)).toBe(true);
      expect(await store.get(live)).toBe('live');
    });

    test('clear removes every key of its prefix and no other prefix\'s', async () => {
      const mine = await harnesses[kind](`simu-contract-clear:${randomBytes(4).toString('hex')}:`);
      const s = await mine.open();
      try {
        await s.set('a', '1', 60_000);
        await s.tokenBucket('b', 1, 1).take(1);
        await s.rateLimiter({ keyPrefix: 'rl', points: 2, duration: 60 }).consume('c');
        const k = key();
        await store.set(k, 'kept', 60_000);
        expect(await mine.rawCount()).toBe(3);
        await s.clear();
        expect(await mine.rawCount()).toBe(0);
        expect(await store.get(k)).toBe('kept');
      } finally {
        await s.close();
        await mine.close();
      }
    });
  });

  describe('staff console sessions (set with a lifetime, idle renewal, destroy)', () => {
    test('a session is read back, renewed on use, gone when destroyed or idle past its timeout', async () => {
      const sess = `staff:sess:${randomBytes(8).toString('hex')}`;
      await store.set(sess, JSON.stringify({ staffId: 4, csrf: 'c' }), 1000);
      expect(JSON.parse((await other.get(sess)) as string)).toEqual({ staffId: 4, csrf: 'c' });
      await sleep(600);
      expect(await other.expire(sess, 1000)).toBe(true); // used: the idle timeout starts again
      await sleep(600);
      expect(await store.get(sess)).not.toBeNull(); // past the first timeout
      await sleep(1000);
      expect(await store.get(sess)).toBeNull();
      const out = `staff:sess:${randomBytes(8).toString('hex')}`;
      await store.set(out, '{}', 60_000);
      await other.del(out);
      expect(await store.get(out)).toBeNull();
    });
  });

  describe('staff console sessions through StaffSessions (the console\'s own class)', () => {
    test('create, load (renewing), save, destroy; the absolute limit ends a session; the store keeps only a hash of the cookie', async () => {
      const sessions = new StaffSessions(store, 'simu_staff', false);
      const elsewhere = new StaffSessions(other, 'simu_staff', false);
      const { sid, session } = await sessions.create(7);
      expect(await elsewhere.load(sid)).toEqual(session);
      const stored = `staff:sess:${createHash('sha256').update(sid).digest('hex')}`;
      expect(await store.get(stored)).not.toBeNull();
      expect(await store.get(`staff:sess:${sid}`)).toBeNull();
      await elsewhere.save(sid, { ...session, flash: { level: 'ok', key: 'staff.saved' as never } });
      expect((await sessions.load(sid))?.flash).toEqual({ level: 'ok', key: 'staff.saved' });
      await sessions.destroy(sid);
      expect(await elsewhere.load(sid)).toBeNull();
      expect(await store.get(stored)).toBeNull();

      const old = await sessions.create(7);
      await sessions.save(old.sid, { ...old.session, createdAt: Date.now() - 13 * 60 * 60 * 1000 });
      expect(await elsewhere.load(old.sid)).toBeNull();
      expect(await store.get(`staff:sess:${createHash('sha256').update(old.sid).digest('hex')}`)).toBeNull();
      expect(await sessions.load('not-a-session-id')).toBeNull();
    });
  });

  test('ping answers', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
