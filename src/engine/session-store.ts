import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FlowName, Lang, Msg } from '../../flows/types';

/** A flow's persisted state: which flow, which version of it, and its XState snapshot. */
export interface FlowState {
  flow: FlowName;
  version: number;
  snapshot: unknown;
}

/**
 * One USSD session between hops (JSON in Redis, aim < 2 KB). Holds no phone number and no ID
 * number: `lastTextHash` stands for the text AT sent last, which may contain an ID number.
 */
export interface SessionRecord {
  v: 1;
  state: FlowState;
  lang: Lang;
  /** The page of the current screen being shown (98 More / 0 Back between pages). */
  page: number;
  /** The current flow reached a final state whose screen needs several pages. */
  finished?: boolean;
  /** The notice above the current screen, kept while its pages are browsed (see Conversation.notice). */
  notice?: Msg;
  /** Shown "1 Continue 2 Start again"; this is what Continue restores. */
  resumeOffer?: FlowState;
  lastTextHash: string;
  lastTextLen: number;
  lastReply: string;
  /** The session ended (END was sent): kept briefly only so a retried request gets the same reply. */
  ended?: boolean;
  hops: number;
  startedAt: number;
  phoneHash: string;
}

/** What a conversation carries from one turn to the next, whatever the channel (USSD hop or SMS). */
export type ConversationState = Pick<SessionRecord, 'state' | 'lang' | 'page' | 'finished' | 'resumeOffer' | 'notice'>;

/** What a redial within RESUME_TTL_S may continue. */
export interface ResumePointer {
  sessionId: string;
  state: FlowState;
  lang: Lang;
}

/**
 * What Redis keeps per phone for a redial: only which session to continue. The state itself stays
 * in that session's own record (kept RESUME_TTL_S instead of SESSION_TTL_S while a pointer names
 * it), so a session's snapshot is never stored twice.
 */
interface StoredPointer {
  sessionId: string;
  lang: Lang;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * A short Redis lock that serialises the turns of one conversation (AT may retry a hop while the
 * first is still running). Waits, polling, until `deadline`; other conversations never wait.
 * Returns the release function.
 */
/** Releases a lock only if it is still ours; EVALSHA after the first call (the script is not resent on every hop). */
async function releaseLock(redis: Redis, key: string, token: string): Promise<unknown> {
  const r = redis as Redis & { simuReleaseLock?: (key: string, token: string) => Promise<unknown> };
  if (!r.simuReleaseLock) redis.defineCommand('simuReleaseLock', { numberOfKeys: 1, lua: RELEASE });
  return (r as Required<typeof r>).simuReleaseLock(key, token);
}

export async function acquireLock(redis: Redis, key: string, deadline: number): Promise<() => Promise<void>> {
  const token = randomUUID();
  for (;;) {
    const ok = await redis.set(key, token, 'PX', 5000, 'NX');
    if (ok === 'OK') return async () => void (await releaseLock(redis, key, token));
    if (Date.now() + 25 > deadline) throw new Error('conversation busy: lock not acquired before the deadline');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlS: number,
    private readonly resumeTtlS: number,
  ) {}

  private key = (sessionId: string) => `${this.prefix}ussd:s:${sessionId}`;
  private lockKey = (sessionId: string) => `${this.prefix}ussd:lock:${sessionId}`;
  private resumeKey = (phoneHash: string) => `${this.prefix}ussd:resume:${phoneHash}`;

  /**
   * The session a redial may continue, from the phone's pointer as the lock script read it: its
   * state is read from that session's own record (one more GET, only when there is a pointer).
   */
  private async resumeOf(rawPointer: string | null, phoneHash: string): Promise<ResumePointer | null> {
    if (!rawPointer) return null;
    const pointer = JSON.parse(rawPointer) as StoredPointer;
    const rec = await this.redis.get(this.key(pointer.sessionId));
    const record = rec ? (JSON.parse(rec) as SessionRecord) : null;
    // The session may since have been taken over by another phone (its sessionId reused): not ours to resume.
    if (!record || record.ended || record.phoneHash !== phoneHash) return null;
    return { sessionId: pointer.sessionId, state: record.resumeOffer ?? record.state, lang: pointer.lang };
  }

  /**
   * Takes the session's lock and reads its record in one round trip (a Lua script), waiting
   * (polling) until `deadline` while another hop of the same session holds it — AT may retry a hop
   * while the first still runs. Other sessions never wait. The returned handle saves the record and
   * releases the lock in one more round trip: two Redis commands for an ordinary hop.
   *
   * A session with no record yet (a dial) also gets the phone's resume pointer in the same round
   * trip, and what it points at: `resume`.
   */
  async acquire(sessionId: string, phoneHash: string, deadline: number): Promise<HeldSession> {
    const token = randomUUID();
    const r = this.redis as Redis & { simuLockAndGet?: (lock: string, session: string, resume: string, token: string, px: number) => Promise<[number, string | null, string | null]> };
    if (!r.simuLockAndGet) this.redis.defineCommand('simuLockAndGet', { numberOfKeys: 3, lua: LOCK_AND_GET });
    for (;;) {
      const [ok, raw, pointer] = await (r as Required<typeof r>).simuLockAndGet(this.lockKey(sessionId), this.key(sessionId), this.resumeKey(phoneHash), token, 5000);
      if (ok === 1) {
        const held = new HeldSession(this.redis, { session: this.key(sessionId), lock: this.lockKey(sessionId), resume: this.resumeKey }, token, raw ? (JSON.parse(raw) as SessionRecord) : null, this.ttlS, this.resumeTtlS);
        if (!raw) held.resume = await this.resumeOf(pointer, phoneHash).catch(async (err: unknown) => {
          await held.release().catch(() => undefined);
          throw err;
        });
        return held;
      }
      if (Date.now() + 25 > deadline) throw new Error('session busy: lock not acquired before the deadline');
      await new Promise((res) => setTimeout(res, 25));
    }
  }
}

/** Lock, then the session's record; for a session with no record yet, the phone's resume pointer. */
const LOCK_AND_GET = `
if not redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {0, false, false} end
local record = redis.call('get', KEYS[2])
if record then return {1, record, false} end
return {1, false, redis.call('get', KEYS[3])}`;

/** Session record, resume pointer (set or cleared) and lock release, in one script. */
const SAVE_AND_RELEASE = `
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
if ARGV[4] == '' then redis.call('del', KEYS[2]) else redis.call('set', KEYS[2], ARGV[4], 'EX', ARGV[5]) end
if redis.call('get', KEYS[3]) == ARGV[1] then redis.call('del', KEYS[3]) end
return 1`;

/** Where a held session's keys are: its record, its lock, and a phone's resume pointer. */
export interface HeldSessionKeys {
  session: string;
  lock: string;
  resume: (phoneHash: string) => string;
}

/**
 * A session whose lock this hop holds: its record as read, and the one-round-trip save. What a save
 * keeps and for how long is decided here once; each store only writes and unlocks its own way
 * (RedisHeldSession below, PgHeldSession in src/store/postgres.ts).
 */
export abstract class HeldSessionBase {
  private released = false;
  /** For a session with no record yet: the dropped session this phone may continue. */
  resume: ResumePointer | null = null;

  constructor(
    protected readonly keys: HeldSessionKeys,
    protected readonly token: string,
    readonly record: SessionRecord | null,
    private readonly ttlS: number,
    protected readonly resumeTtlS: number,
  ) {}

  /** Writes the record for `ttlS`, sets the phone's pointer (or clears it: null) for resumeTtlS, and frees the lock, in one round trip. */
  protected abstract saveAndRelease(record: SessionRecord, ttlS: number, pointer: string | null): Promise<void>;
  /** Frees the lock if it is still ours. */
  protected abstract unlock(): Promise<void>;

  private async save(record: SessionRecord, ttlS: number, resume: ResumePointer | null): Promise<void> {
    // A record a pointer names lives as long as the pointer, so a redial finds what it points at.
    const pointer = resume ? JSON.stringify({ sessionId: resume.sessionId, lang: resume.lang } satisfies StoredPointer) : null;
    await this.saveAndRelease(record, resume ? Math.max(ttlS, this.resumeTtlS) : ttlS, pointer);
    this.released = true;
  }

  /** Saves a session that goes on, and points the phone's next dial at it (or clears the pointer). */
  saveOngoing(record: SessionRecord, resume: ResumePointer | null): Promise<void> {
    return this.save(record, this.ttlS, resume);
  }

  /** Keeps an ended session's last reply briefly, for retries, and forgets the resume pointer. */
  saveEnded(record: SessionRecord): Promise<void> {
    return this.save({ ...record, ended: true }, Math.min(this.ttlS, 60), null);
  }

  /** Releases the lock without saving (a failed hop keeps the previous record for a redial). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.unlock();
  }
}

/** The Redis store's held session: one Lua script saves and releases. */
export class HeldSession extends HeldSessionBase {
  constructor(
    private readonly redis: Redis,
    keys: HeldSessionKeys,
    token: string,
    record: SessionRecord | null,
    ttlS: number,
    resumeTtlS: number,
  ) {
    super(keys, token, record, ttlS, resumeTtlS);
  }

  protected async saveAndRelease(record: SessionRecord, ttlS: number, pointer: string | null): Promise<void> {
    const r = this.redis as Redis & { simuSaveAndRelease?: (...args: Array<string | number>) => Promise<unknown> };
    if (!r.simuSaveAndRelease) this.redis.defineCommand('simuSaveAndRelease', { numberOfKeys: 3, lua: SAVE_AND_RELEASE });
    await (r as Required<typeof r>).simuSaveAndRelease(
      this.keys.session, this.keys.resume(record.phoneHash), this.keys.lock,
      this.token, JSON.stringify(record), ttlS, pointer ?? '', this.resumeTtlS,
    );
  }

  protected async unlock(): Promise<void> {
    await releaseLock(this.redis, this.keys.lock, this.token);
  }
}
