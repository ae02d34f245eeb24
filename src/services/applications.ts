import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types';
import type { Db } from '../db';
import { prepare, type Prepared } from '../db/prepared';
import type { BlindIndex } from './blind-index';
import type { AppSummary, LookupResult, VerifyResult } from '../../flows/check-status';

const DAY_S = 24 * 60 * 60;
/** Wrong applicant ID numbers (or unknown references) per application reference, per 24 hours. */
export const MAX_ID_FAILURES_PER_REFERENCE = 3;
/** Wrong applicant ID numbers (or unknown references) per phone, per 24 hours, whatever the references. */
export const MAX_ID_FAILURES_PER_PHONE = 5;

/**
 * Application status look-ups. The rules of who may see what live here, not in the flow:
 * the registered phone sees its own applications; anyone else must give the applicant's ID number,
 * and an unknown reference answers exactly like a known one with the wrong ID number. Guesses of
 * the ID number are limited per reference and per phone (both channels call `verify`).
 */
export class ApplicationService {
  /** The status look-ups of the USSD hot path, compiled once (see src/db/prepared.ts). */
  private readonly byReference: Prepared<{ reference: string }, Record<string, unknown>>;
  private readonly byPhone: Prepared<{ phone: string }, Record<string, unknown>>;

  private readonly idFailures: { reference: RateLimiterAbstract; phone: RateLimiterAbstract };

  constructor(private readonly db: Db, private readonly blind: BlindIndex, limits: { store: Store }) {
    const limiter = (name: string, points: number) => limits.store.rateLimiter({ keyPrefix: `rl:status-id-${name}`, points, duration: DAY_S });
    this.idFailures = { reference: limiter('ref', MAX_ID_FAILURES_PER_REFERENCE), phone: limiter('ph', MAX_ID_FAILURES_PER_PHONE) };
    this.byReference = prepare(db, 'application_by_reference', ['reference'], (p) => this.summaries().where('a.reference', p.reference).limit(1));
    this.byPhone = prepare(db, 'applications_by_phone', ['phone'], (p) =>
      this.summaries().where('c.phone', p.phone).orderBy([{ column: 'a.submitted_on', order: 'desc' }, { column: 'a.id', order: 'desc' }]),
    );
  }

  private summaries() {
    return this.db('applications as a')
      .join('citizens as c', 'c.id', 'a.citizen_id')
      .leftJoin('centres as k', 'k.code', 'a.collection_centre')
      .select('a.reference', 'a.type', 'a.status', 'a.reason', 'k.name as centre', 'c.phone', 'c.id_hash');
  }

  private static toSummary(row: Record<string, unknown>): AppSummary {
    return {
      reference: String(row.reference),
      type: String(row.type),
      status: String(row.status),
      reason: (row.reason as string | null) ?? null,
      centre: (row.centre as string | null) ?? null,
    };
  }

  /** Newest first. */
  async listByPhone(phone: string): Promise<AppSummary[]> {
    const rows = await this.byPhone({ phone });
    return rows.map(ApplicationService.toSummary);
  }

  async lookup(reference: string, phone: string): Promise<LookupResult> {
    const [row] = await this.byReference({ reference });
    if (row && row.phone === phone) return { kind: 'found', app: ApplicationService.toSummary(row) };
    return { kind: 'needId' };
  }

  /**
   * The applicant's ID number for a reference, typed from `phone`. One failure point is taken from
   * the reference's and the phone's limits before anything is looked up (atomic in the store: racing
   * guesses cannot all slip in), and given back on a match. An unknown reference and a wrong ID
   * number take the very same path, so they answer alike and in the same time.
   */
  async verify(reference: string, idNumber: string, phone: string): Promise<VerifyResult> {
    // Keyed hashes: the rate-limit keys in the store hold neither the reference nor the phone number.
    const keys: Array<[RateLimiterAbstract, string]> = [
      [this.idFailures.reference, this.blind.text(`ref:${reference}`)],
      [this.idFailures.phone, this.blind.phone(phone)],
    ];
    const taken = await Promise.allSettled(keys.map(([l, k]) => l.consume(k)));
    for (const r of taken) if (r.status === 'rejected' && !(r.reason instanceof RateLimiterRes)) throw r.reason; // a store error is not a refusal
    if (taken.some((r) => r.status === 'rejected')) return { kind: 'locked' };
    const [row] = await this.byReference({ reference });
    if (row && row.id_hash === this.blind.idNumber(idNumber)) {
      await Promise.all(keys.map(([l, k]) => l.reward(k, 1)));
      return { kind: 'found', app: ApplicationService.toSummary(row) };
    }
    return { kind: 'nomatch' };
  }

  /**
   * A resumed "My applications" asks the ID number again: is `idNumber` the registered holder's of
   * `phone`? Each try takes a point from the same per-phone limit as `verify` first (whoever holds
   * the phone could otherwise test one guess of its owner's ID number per redial), given back on a match.
   */
  async verifyHolder(phone: string, idNumber: string): Promise<'yes' | 'no' | 'locked'> {
    const key = this.blind.phone(phone);
    try {
      await this.idFailures.phone.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) return 'locked';
      throw err; // a store error is not a refusal
    }
    const row = await this.db('citizens').where({ id_hash: this.blind.idNumber(idNumber), phone }).first('id');
    if (row === undefined) return 'no';
    await this.idFailures.phone.reward(key, 1);
    return 'yes';
  }
}
