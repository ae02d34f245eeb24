import { randomInt } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../db';
import type { Lang } from '../../flows/types';
import type { PrepareResult, ResetResult } from '../../flows/reset-code';
import { translate } from '../i18n';
import { enqueueSms } from '../sms/outbox';
import { audit, type AuditEntry } from './audit';
import type { BlindIndex } from './blind-index';
import type { Sealer } from './sealer';
import type { Store } from '../store/types';

const CODE_VALID_MS = 10 * 60 * 1000;
const DAY_S = 24 * 60 * 60;
export const MAX_FAILED_PER_DAY = 3;
export const MAX_RESETS_PER_DAY = 3;

export interface ResetDeps {
  db: Db;
  store: Store;
  blind: BlindIndex;
  sealer: Sealer;
  now?: () => Date;
}

/** "14:05" in Nairobi time. */
export const nairobiTime = (d: Date): string =>
  new Intl.DateTimeFormat('en-GB', { timeZone: 'Africa/Nairobi', hour: '2-digit', minute: '2-digit', hour12: false }).format(d);

/**
 * Resetting the e-Citizen login code from a phone. Three factors: the ID number and year of birth
 * (knowledge) and the dialling phone, asserted by the mobile network (possession). All three must
 * match; answers never reveal which one did not, nor whether an ID number exists. Failed attempts
 * are limited per ID number and per phone, successful resets per account, each per 24 hours.
 */
export class ResetService {
  private readonly failures: RateLimiterAbstract;
  private readonly resets: RateLimiterAbstract;
  private readonly now: () => Date;

  constructor(private readonly deps: ResetDeps) {
    this.now = deps.now ?? (() => new Date());
    this.failures = deps.store.rateLimiter({ keyPrefix: 'rl:reset-fail', points: MAX_FAILED_PER_DAY, duration: DAY_S });
    this.resets = deps.store.rateLimiter({ keyPrefix: 'rl:reset-ok', points: MAX_RESETS_PER_DAY, duration: DAY_S });
  }

  private failureKeys(idRef: string, phone: string): string[] {
    return [`id:${idRef}`, `ph:${this.deps.blind.phone(phone)}`];
  }

  private async lockedOut(keys: string[]): Promise<boolean> {
    const states = await Promise.all(keys.map((k) => this.failures.get(k)));
    return states.some((s) => s !== null && s.consumedPoints >= MAX_FAILED_PER_DAY);
  }

  /**
   * Takes one failure point from every key before anything is checked (each consume is atomic in
   * the store), so however many attempts race, at most MAX_FAILED_PER_DAY per key are evaluated; a
   * success gives its points back. False: a key's limit is spent, refuse without looking further.
   */
  private async reserveAttempt(keys: string[]): Promise<boolean> {
    const taken = await Promise.allSettled(keys.map((k) => this.failures.consume(k)));
    for (const r of taken) if (r.status === 'rejected' && !(r.reason instanceof RateLimiterRes)) throw r.reason; // a store error is not a refusal
    return taken.every((r) => r.status === 'fulfilled');
  }

  /** The details were right and the phone registered: the reserved attempt was no failure. */
  private async refundAttempt(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => this.failures.reward(k, 1)));
  }

  /** Step 1: the ID number becomes a blind-index reference the flow can carry (the number itself is dropped). */
  async prepare(phone: string, idNumber: string, channel: 'ussd' | 'sms'): Promise<PrepareResult> {
    const idRef = this.deps.blind.idNumber(idNumber);
    if (await this.lockedOut(this.failureKeys(idRef, phone))) {
      await audit(this.deps.db, { actorType: 'citizen', idHash: idRef, phone, channel, action: 'login_reset', outcome: 'locked' });
      return { kind: 'locked' };
    }
    return { kind: 'ok', idRef };
  }

  /** Step 2: check the year of birth and the phone; issue a code when all match. */
  async reset(phone: string, idRef: string, birthYear: number, channel: 'ussd' | 'sms', lang: Lang): Promise<ResetResult> {
    const { db } = this.deps;
    const keys = this.failureKeys(idRef, phone);
    const log = (outcome: string, citizenId?: number) => audit(db, { actorType: 'citizen', citizenId: citizenId ?? null, idHash: idRef, phone, channel, action: 'login_reset', outcome });

    // The attempt is counted before the details are looked at: nothing below runs past the limit.
    if (!(await this.reserveAttempt(keys))) {
      await log('locked');
      return { kind: 'locked' };
    }
    const citizen = await db('citizens').where({ id_hash: idRef }).first('id', 'phone', db.raw('extract(year from birth_date)::int as birth_year'));
    if (!citizen || Number(citizen.birth_year) !== birthYear) {
      await log('mismatch', citizen?.id);
      return { kind: 'mismatch' };
    }
    if (citizen.phone !== phone) {
      // The details are right but the phone is not the registered one: only a Huduma Centre can help.
      // It stays a failure: from another phone, this answer confirms an ID number and year.
      await log('wrong_phone', citizen.id);
      return { kind: 'wrong_phone' };
    }
    await this.refundAttempt(keys);
    try {
      await this.resets.consume(`acct:${citizen.id}`);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await log('too_many_resets', citizen.id);
      return { kind: 'too_many_resets' };
    }

    const { code, validUntil } = await this.issue(citizen.id, phone, channel, lang, { actorType: 'citizen', citizenId: citizen.id, idHash: idRef, phone, channel, action: 'login_reset', outcome: 'issued' });
    return { kind: 'issued', code, validUntil, smsSent: channel !== 'sms' };
  }

  /**
   * A reset issued by Huduma Centre staff for a citizen at the counter who proved their registered
   * phone by reading back a consent code (src/services/assist.ts). The code goes to that phone by
   * SMS only: the result carries no code, so staff never see it. The same per-account daily limit
   * applies; the audit row names the staff member and their centre.
   */
  async staffReset(
    citizen: { citizenId: number; idHash: string; phone: string },
    staff: { staffId: number; centreCode: string; channel: 'staff' | 'api' },
    lang: Lang,
  ): Promise<{ kind: 'issued'; validUntil: string } | { kind: 'too_many_resets' }> {
    const entry = { actorType: 'staff' as const, staffId: staff.staffId, centreCode: staff.centreCode, citizenId: citizen.citizenId, idHash: citizen.idHash, phone: citizen.phone, channel: staff.channel, action: 'login_reset' };
    try {
      await this.resets.consume(`acct:${citizen.citizenId}`);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await audit(this.deps.db, { ...entry, outcome: 'too_many_resets' });
      return { kind: 'too_many_resets' };
    }
    const { validUntil } = await this.issue(citizen.citizenId, citizen.phone, staff.channel, lang, { ...entry, outcome: 'issued' });
    return { kind: 'issued', validUntil };
  }

  /** A new code in one transaction: old codes revoked, the code stored hashed (and sealed for 10 minutes), its SMS queued, the account unlocked, the audit row. */
  private async issue(citizenId: number, phone: string, channel: string, lang: Lang, entry: AuditEntry): Promise<{ code: string; validUntil: string }> {
    const now = this.now();
    const expires = new Date(now.getTime() + CODE_VALID_MS);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const validUntil = nairobiTime(expires);
    await this.deps.db.transaction(async (trx) => {
      // The old codes stop working, and their sealed copies go.
      await trx('login_codes').where({ citizen_id: citizenId }).whereNull('revoked_at').whereNull('used_at').update({ revoked_at: now, code_sealed: null });
      const [row] = await trx('login_codes')
        .insert({ citizen_id: citizenId, code_hash: this.deps.blind.text(`code:${citizenId}:${code}`), code_sealed: this.deps.sealer.seal(code), expires_at: expires, channel })
        .returning('id');
      // Over SMS the conversation's own reply carries the code; one SMS with a code is enough.
      if (channel !== 'sms') {
        const smsId = await enqueueSms(trx, { to: phone, body: translate(lang, { key: 'reset.sms', params: { code, until: validUntil } }), kind: 'login_code', essential: true, ref: `login_code:${row.id}` });
        await trx('login_codes').where({ id: row.id }).update({ sms_id: smsId });
      }
      await trx('accounts').where({ citizen_id: citizenId }).update({ login_state: 'ACTIVE', updated_at: now });
      await audit(trx, entry);
    });
    return { code, validUntil };
  }
}
