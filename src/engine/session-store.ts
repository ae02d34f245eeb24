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

/** What a redial within RESUME_TTL_S may continue. */
export interface ResumePointer {
  sessionId: string;
  state: FlowState;
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

  async get(sessionId: string): Promise<SessionRecord | null> {
    const raw = await this.redis.get(this.key(sessionId));
    return raw ? (JSON.parse(raw) as SessionRecord) : null;
  }

  async getResume(phoneHash: string): Promise<ResumePointer | null> {
    const raw = await this.redis.get(this.resumeKey(phoneHash));
    return raw ? (JSON.parse(raw) as ResumePointer) : null;
  }

  /** Saves a session that goes on, and points the phone's next dial at it (one round trip). */
  async saveOngoing(sessionId: string, record: SessionRecord, resume: ResumePointer | null): Promise<void> {
    const multi = this.redis.multi().set(this.key(sessionId), JSON.stringify(record), 'EX', this.ttlS);
    if (resume) multi.set(this.resumeKey(record.phoneHash), JSON.stringify(resume), 'EX', this.resumeTtlS);
    else multi.del(this.resumeKey(record.phoneHash));
    await multi.exec();
  }

  /** Saves an ended session's last reply for retries, and forgets the resume pointer. */
  async saveEnded(sessionId: string, record: SessionRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(sessionId), JSON.stringify({ ...record, ended: true }), 'EX', Math.min(this.ttlS, 60))
      .del(this.resumeKey(record.phoneHash))
      .exec();
  }

  async dropResume(phoneHash: string): Promise<void> {
    await this.redis.del(this.resumeKey(phoneHash));
  }

  /** Serialises the hops of one session (see acquireLock). */
  lock(sessionId: string, deadline: number): Promise<() => Promise<void>> {
    return acquireLock(this.redis, this.lockKey(sessionId), deadline);
  }
}
