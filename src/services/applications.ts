import type { Db } from '../db';
import type { BlindIndex } from './blind-index';
import type { AppSummary, LookupResult, VerifyResult } from '../../flows/check-status';

/**
 * Application status look-ups. The rules of who may see what live here, not in the flow:
 * the registered phone sees its own applications; anyone else must give the applicant's ID number,
 * and an unknown reference answers exactly like a known one with the wrong ID number.
 */
export class ApplicationService {
  constructor(private readonly db: Db, private readonly blind: BlindIndex) {}

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
    const rows = await this.summaries().where('c.phone', phone).orderBy([{ column: 'a.submitted_on', order: 'desc' }, { column: 'a.id', order: 'desc' }]);
    return rows.map(ApplicationService.toSummary);
  }

  async lookup(reference: string, phone: string): Promise<LookupResult> {
    const row = await this.summaries().where('a.reference', reference).first();
    if (row && row.phone === phone) return { kind: 'found', app: ApplicationService.toSummary(row) };
    return { kind: 'needId' };
  }

  async verify(reference: string, idNumber: string): Promise<VerifyResult> {
    const row = await this.summaries().where('a.reference', reference).first();
    if (row && row.id_hash === this.blind.idNumber(idNumber)) return { kind: 'found', app: ApplicationService.toSummary(row) };
    return { kind: 'nomatch' };
  }
}
