import type { Knex } from 'knex';
import { scrubOneTimeCodes } from './outbox';
import { clearExpiredSealedCodes } from '../services/sealed-codes';
import type { Store } from '../store/types';
import type { Config } from '../config';
import type { Logger } from '../log';
import { AfricasTalkingSender, atBaseUrl } from './africastalking';
import { applyWaitingReports } from './delivery-reports';
import type { SendResult, SmsSender } from './sender';
import { createThrottle, unthrottled, type Throttle } from './throttle';

/**
 * The SMS worker: drains sms_outbound. Each round it takes up to a batch of tokens from the
 * throttle, claims that many due rows (FOR UPDATE SKIP LOCKED, so several workers never claim the
 * same row) and marks them `sending` with a lease, commits, then sends outside any transaction and
 * records each result. A worker that dies mid-send leaves its rows `sending`; when the lease ends
 * they are due again (at-least-once: AT has no idempotency key, so a crash after AT accepted a
 * message and before we recorded it can send it twice — we prefer that to losing a login code).
 */
export interface SmsWorkerOptions {
  /** Rows claimed per round (and tokens asked for). */
  batchSize: number;
  /** Sends in flight at once within a round. */
  concurrency: number;
  /** How long a claimed row stays ours; must exceed the longest round (sends × timeout / concurrency). */
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Idle wait between polls when nothing is due. */
  pollMs: number;
  /** How long sending stops after HTTP 401 (bad credentials) or 405 (insufficient balance). */
  pauseMs: number;
  /** Jitter source, [0, 1). */
  random: () => number;
  /** The clock (ms): what is due, leases, retries, pauses. The services' clock in a test that fixes it. */
  now: () => number;
  /** One-time codes are wiped from message bodies this long after the message reached a final state. */
  scrubAfterMs: number;
}

export interface SmsWorkerDeps {
  db: Knex;
  sender: SmsSender;
  logger: Logger;
  throttle?: Throttle;
  /**
   * Hook for the later opt-out feature (STOP): a non-essential message to a phone for which this
   * answers true is cancelled, not sent. Essential messages (codes the citizen asked for) ignore it.
   */
  isOptedOut?: (phone: string, kind: string) => Promise<boolean>;
  options?: Partial<SmsWorkerOptions>;
}

export interface ClaimedSms {
  id: number;
  to_phone: string;
  body: string;
  kind: string;
  essential: boolean;
  /** After the claim: this attempt's number, and the fencing token for recording its result. */
  attempts: number;
}

type SentItem = { row: ClaimedSms; result: Extract<SendResult, { outcome: 'sent' }> };

export interface RoundStats {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
  /** Released unsent (pause, stop) or cancelled (opt-out). */
  released: number;
  /** When nothing was claimed because of the throttle: ms until a token is there. */
  waitMs: number;
}

const DEFAULTS: SmsWorkerOptions = {
  batchSize: 50,
  concurrency: 16,
  leaseMs: 120_000,
  maxAttempts: 6,
  retryBaseMs: 5_000,
  retryMaxMs: 15 * 60_000,
  pollMs: 500,
  pauseMs: 60_000,
  random: Math.random,
  now: Date.now,
  scrubAfterMs: 60 * 60_000,
};

/**
 * Claims up to `limit` due rows: queued ones whose time has come, and `sending` ones whose lease
 * ended (their worker died). One statement, committed on return.
 *
 * Time is the worker's clock (`now`), the same clock the services schedule by (a reminder at
 * 18:00 the day before), not the database's: with one clock a test that fixes the services' time
 * also fixes what is due. Messages to send at once carry SEND_AT_ONCE, due on any clock.
 */
export async function claimDueSms(db: Knex, limit: number, leaseMs: number, now: Date = new Date()): Promise<ClaimedSms[]> {
  if (limit <= 0) return [];
  const { rows } = await db.raw<{ rows: Array<ClaimedSms & { id: string | number }> }>(
    `WITH due AS (
       SELECT id FROM sms_outbound
        WHERE status IN ('queued', 'sending') AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id
        LIMIT ?
        FOR UPDATE SKIP LOCKED)
     UPDATE sms_outbound s
        SET status = 'sending', attempts = s.attempts + 1,
            next_attempt_at = ?, updated_at = now()
       FROM due WHERE s.id = due.id
     RETURNING s.id, s.to_phone, s.body, s.kind, s.essential, s.attempts`,
    [now, limit, new Date(now.getTime() + leaseMs)],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Retry n (1-based) waits base·2^(n-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

export class SmsWorker {
  readonly opts: SmsWorkerOptions;
  private readonly throttle: Throttle;
  private readonly isOptedOut: (phone: string, kind: string) => Promise<boolean>;
  private pausedUntil = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: SmsWorkerDeps) {
    this.opts = { ...DEFAULTS, ...deps.options };
    this.throttle = deps.throttle ?? unthrottled;
    this.isOptedOut = deps.isOptedOut ?? (async () => false);
  }

  get running(): boolean {
    return this.loop !== null;
  }

  /** True while sending is paused after a 401 / insufficient balance. */
  get paused(): boolean {
    return this.pausedUntil > this.opts.now();
  }

  /** Starts the polling loop (the gateway and `npm run worker` do this). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops polling; sends in flight finish and are recorded, claimed rows not yet sent are released. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.stopping = false;
  }

  /** Rounds until nothing is due now (tests, the bench). Honours the throttle: stops when it says wait. */
  async drain(maxRounds = Number.POSITIVE_INFINITY): Promise<RoundStats> {
    const total: RoundStats = { claimed: 0, sent: 0, retrying: 0, failed: 0, released: 0, waitMs: 0 };
    for (let i = 0; i < maxRounds; i++) {
      const r = await this.runOnce();
      for (const k of ['claimed', 'sent', 'retrying', 'failed', 'released'] as const) total[k] += r[k];
      total.waitMs = r.waitMs;
      if (r.claimed === 0) break;
    }
    return total;
  }

  /** One round: tokens → claim → send (bounded concurrency) → record. */
  async runOnce(): Promise<RoundStats> {
    const stats: RoundStats = { claimed: 0, sent: 0, retrying: 0, failed: 0, released: 0, waitMs: 0 };
    const pausedFor = this.pausedUntil - this.opts.now();
    if (pausedFor > 0) return { ...stats, waitMs: pausedFor };
    const { granted, waitMs } = await this.throttle.take(this.opts.batchSize);
    if (granted === 0) return { ...stats, waitMs };
    const rows = await claimDueSms(this.deps.db, granted, this.opts.leaseMs, new Date(this.opts.now()));
    if (rows.length < granted) await this.throttle.refund(granted - rows.length);
    stats.claimed = rows.length;
    // Successes are recorded in small batches (one UPDATE for many rows: the hot path's only write);
    // anything else is recorded at once.
    const pending: SentItem[] = [];
    const flush = async () => {
      const items = pending.splice(0);
      if (items.length === 0) return;
      const n = await this.recordSent(items); // (not `stats.sent += await …`: that reads stats.sent before the await)
      stats.sent += n;
    };
    let next = 0;
    const lane = async () => {
      while (next < rows.length) {
        const row = rows[next++] as ClaimedSms;
        try {
          const r = await this.process(row);
          if (typeof r === 'string') stats[r]++;
          else {
            pending.push(r);
            if (pending.length >= this.opts.concurrency) await flush();
          }
        } catch (err) {
          // Recording failed (database away): the row stays `sending` and is retried after its lease.
          this.deps.logger.error('sms worker could not record a result', { smsId: row.id, error: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, rows.length) }, lane));
    try {
      await flush();
    } catch (err) {
      this.deps.logger.error('sms worker could not record results', { error: (err as Error).message });
    }
    return stats;
  }

  /** Records sent messages (fenced by attempt), then applies any delivery report that beat us to it. Returns how many were recorded. */
  private async recordSent(items: SentItem[]): Promise<number> {
    const { db, logger } = this.deps;
    let recorded: SentItem[];
    try {
      const values = items.map(() => '(?::bigint, ?::int, ?, ?, ?::int, ?, ?::int)').join(', ');
      const params = items.flatMap(({ row, result: r }) => [row.id, row.attempts, r.messageId, r.status.slice(0, 32), r.statusCode, r.cost?.slice(0, 32) ?? null, r.parts]);
      const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
        `UPDATE sms_outbound s
            SET status = 'sent', at_message_id = v.mid, at_status = v.st, at_status_code = v.code, cost = v.cost,
                message_parts = v.parts, sent_at = now(), last_error = NULL, updated_at = now()
           FROM (VALUES ${values}) AS v(id, attempts, mid, st, code, cost, parts)
          WHERE s.id = v.id AND s.status = 'sending' AND s.attempts = v.attempts
          RETURNING s.id`,
        params,
      );
      const ok = new Set(rows.map((r) => Number(r.id)));
      recorded = items.filter((i) => ok.has(i.row.id));
      for (const i of items) if (!ok.has(i.row.id)) logger.warn('sms result arrived after the lease ended; a newer attempt owns the row', { smsId: i.row.id, attempt: i.row.attempts });
    } catch (err) {
      // One bad row (e.g. a messageId already stored) must not leave the others unrecorded: one by one.
      logger.warn('sms batch record failed; recording one by one', { error: (err as Error).message });
      recorded = [];
      for (const i of items) {
        const patch = { status: 'sent', at_message_id: i.result.messageId, at_status: i.result.status.slice(0, 32), at_status_code: i.result.statusCode, cost: i.result.cost?.slice(0, 32) ?? null, message_parts: i.result.parts, sent_at: db.fn.now(), last_error: null };
        try {
          if (await this.finish(i.row, patch)) recorded.push(i);
        } catch (e) {
          if (await this.finish(i.row, { ...patch, at_message_id: null, last_error: `messageId not stored: ${(e as Error).message}`.slice(0, 200) })) recorded.push(i);
        }
      }
    }
    const ids = recorded.map((i) => i.result.messageId).filter((m): m is string => m !== null);
    if (ids.length > 0) {
      const waiting = await db('sms_delivery_unmatched').whereIn('at_message_id', ids).whereNull('matched_at').distinct('at_message_id');
      for (const w of waiting) await applyWaitingReports(db, w.at_message_id as string);
    }
    for (const i of recorded) logger.debug('sms sent', { smsId: i.row.id, kind: i.row.kind, attempt: i.row.attempts, messageId: i.result.messageId });
    return recorded.length;
  }

  private async process(row: ClaimedSms): Promise<'retrying' | 'failed' | 'released' | SentItem> {
    const { logger } = this.deps;
    if (this.stopping || this.paused) {
      await this.release(row, 0, this.stopping ? 'worker stopped' : 'sending paused');
      return 'released';
    }
    if (row.attempts > this.opts.maxAttempts) {
      // Only reachable through expired leases (a worker died on this row again and again).
      await this.finish(row, { status: 'failed', failure_reason: `gave up after ${row.attempts - 1} attempts: lease expired`, last_error: 'lease expired' });
      return 'failed';
    }
    if (!row.essential && (await this.isOptedOut(row.to_phone, row.kind))) {
      await this.finish(row, { status: 'cancelled', failure_reason: 'opted_out', attempts: row.attempts - 1 });
      return 'released';
    }

    const result: SendResult = await this.deps.sender.send({ to: row.to_phone, message: row.body });

    switch (result.outcome) {
      case 'sent':
        return { row, result };
      case 'permanent':
        await this.finish(row, {
          status: 'failed',
          failure_reason: result.reason.slice(0, 128),
          last_error: result.reason.slice(0, 200),
          at_status: result.status?.slice(0, 32) ?? null,
          at_status_code: result.statusCode ?? null,
        });
        logger.warn('sms failed permanently', { smsId: row.id, kind: row.kind, attempt: row.attempts, reason: result.reason });
        if (result.statusCode === 401 || result.statusCode === 402) {
          logger.error('AT refused a message for an account reason: check the sender id and the account', { reason: result.reason });
        }
        return 'failed';
      case 'pause':
        this.pause(result.reason);
        await this.release(row, this.opts.pauseMs, result.reason);
        return 'released';
      case 'transient': {
        if (row.attempts >= this.opts.maxAttempts) {
          await this.finish(row, {
            status: 'failed',
            failure_reason: `gave up after ${row.attempts} attempts: ${result.reason}`.slice(0, 128),
            last_error: result.reason.slice(0, 200),
            at_status: result.status?.slice(0, 32) ?? null,
            at_status_code: result.statusCode ?? null,
          });
          logger.warn('sms failed after retries', { smsId: row.id, kind: row.kind, attempts: row.attempts, reason: result.reason });
          return 'failed';
        }
        const delay = backoffMs(row.attempts, this.opts.retryBaseMs, this.opts.retryMaxMs, this.opts.random);
        await this.finish(row, {
          status: 'queued',
          next_attempt_at: new Date(this.opts.now() + delay),
          last_error: result.reason.slice(0, 200),
          at_status: result.status?.slice(0, 32) ?? null,
          at_status_code: result.statusCode ?? null,
        });
        logger.info('sms will be retried', { smsId: row.id, attempt: row.attempts, inMs: delay, reason: result.reason });
        return 'retrying';
      }
    }
  }

  private pause(reason: string): void {
    const wasPaused = this.paused;
    this.pausedUntil = this.opts.now() + this.opts.pauseMs;
    if (!wasPaused) {
      this.deps.logger.error('SMS sending paused: Africa\'s Talking refuses every message until an operator acts', {
        reason,
        pauseMs: this.opts.pauseMs,
        hint: reason.startsWith('HTTP 401') ? 'check AT_USERNAME / AT_API_KEY (a sandbox key with a live username or the reverse)' : 'top up the AT account',
      });
    }
  }

  /** Back to the queue without counting the attempt. */
  private async release(row: ClaimedSms, delayMs: number, why: string): Promise<void> {
    await this.finish(row, {
      status: 'queued',
      attempts: row.attempts - 1,
      next_attempt_at: new Date(this.opts.now() + delayMs),
      last_error: why.slice(0, 200),
    });
  }

  /** Records a result only if the row is still this attempt's (its lease may have ended and another worker taken it). */
  private async finish(row: ClaimedSms, patch: Record<string, unknown>): Promise<boolean> {
    const n = await this.deps.db('sms_outbound')
      .where({ id: row.id, status: 'sending', attempts: row.attempts })
      .update({ ...patch, updated_at: this.deps.db.fn.now() });
    if (n === 0) this.deps.logger.warn('sms result arrived after the lease ended; a newer attempt owns the row', { smsId: row.id, attempt: row.attempts });
    return n > 0;
  }

  private async run(): Promise<void> {
    let nextScrub = 0;
    while (!this.stopping) {
      let wait = 0;
      try {
        if (this.opts.now() >= nextScrub) {
          nextScrub = this.opts.now() + 60_000;
          const n = await scrubOneTimeCodes(this.deps.db, this.opts.scrubAfterMs);
          if (n > 0) this.deps.logger.info('one-time codes wiped from sent messages', { messages: n });
          await clearExpiredSealedCodes(this.deps.db, new Date(this.opts.now()));
        }
        const r = await this.runOnce();
        if (r.claimed === 0) wait = r.waitMs > 0 ? Math.min(r.waitMs, this.opts.pollMs * 10) : this.opts.pollMs;
      } catch (err) {
        this.deps.logger.error('sms worker round failed', { error: (err as Error).message });
        wait = this.opts.pollMs;
      }
      if (wait > 0 && !this.stopping) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** The worker the gateway and `npm run worker` run: AT (or the fake) per config, the throttle in the store. */
export function createSmsWorker(deps: {
  config: Config;
  db: Knex;
  /** Where the shared throttle lives (null: a bucket of this process only). */
  store: Store | null;
  logger: Logger;
  sender?: SmsSender;
  /** STOP: non-essential messages to these phones are cancelled at send time (see SmsWorkerDeps). */
  isOptedOut?: (phone: string, kind: string) => Promise<boolean>;
  options?: Partial<SmsWorkerOptions>;
}): SmsWorker {
  const { config, logger } = deps;
  let sender = deps.sender;
  if (!sender) {
    if (!config.AT_API_KEY) throw new Error('AT_API_KEY is not set: the SMS worker has no Africa\'s Talking credentials');
    sender = new AfricasTalkingSender({
      baseUrl: atBaseUrl(config),
      username: config.AT_USERNAME,
      apiKey: config.AT_API_KEY,
      senderId: config.AT_SENDER_ID,
      timeoutMs: config.AT_TIMEOUT_MS,
    });
  }
  let warned = false;
  const throttle = createThrottle(deps.store, 'sms:throttle', config.SMS_MAX_PER_SECOND, (err) => {
    if (!warned) logger.warn('sms throttle: store unavailable, limiting per process', { error: err.message });
    warned = true;
  });
  const batchSize = config.SMS_MAX_PER_SECOND > 0 ? Math.max(1, Math.min(50, Math.ceil(config.SMS_MAX_PER_SECOND))) : 50;
  const concurrency = 16;
  return new SmsWorker({
    db: deps.db,
    sender,
    logger,
    throttle,
    ...(deps.isOptedOut ? { isOptedOut: deps.isOptedOut } : {}),
    options: {
      batchSize,
      concurrency,
      // A round is at most ceil(batch / concurrency) sends back to back, each bounded by the timeout.
      leaseMs: Math.max(60_000, 2 * config.AT_TIMEOUT_MS * Math.ceil(batchSize / concurrency)),
      maxAttempts: config.SMS_MAX_ATTEMPTS,
      retryBaseMs: config.SMS_RETRY_BASE_MS,
      ...deps.options,
    },
  });
}
