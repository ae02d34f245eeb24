import type { Db } from '../db';
import { prepare, type Prepared } from '../db/prepared';
import type { BlindIndex } from './blind-index';
import type { AppSummary, LookupResult, VerifyResult } from '../../flows/check-status';

/**
 * Application status look-ups. The rules of who may see what live here, not in the flow:
 * the registered phone sees its own applications; anyone else must give the applicant's ID number,
 * and an unknown reference answers exactly like a known one with the wrong ID number.
 */
export class ApplicationService {
  /** The status look-ups of the USSD hot path, compiled once (see src/db/prepared.ts). */
  private readonly byReference: Prepared<{ reference: string }, Record<string, unknown>>;
  private readonly byPhone: Prepared<{ phone: string }, Record<string, unknown>>;

  constructor(private readonly db: Db, private readonly blind: BlindIndex) {
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

  async verify(reference: string, idNumber: string): Promise<VerifyResult> {
    const [row] = await this.byReference({ reference });
    if (row && row.id_hash === this.blind.idNumber(idNumber)) return { kind: 'found', app: ApplicationService.toSummary(row) };
    return { kind: 'nomatch' };
  }
}
