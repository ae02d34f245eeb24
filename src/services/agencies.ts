import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/** Bearer tokens for agency back offices. Only SHA-256 hashes are stored; a token is shown once, when issued. */
export class AgencyService {
  constructor(private readonly db: Knex) {}

  private static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  async issueToken(agency: string, label?: string): Promise<string> {
    const token = `simu_${agency}_${randomBytes(24).toString('base64url')}`;
    await this.db('agency_tokens').insert({ agency, token_hash: AgencyService.hash(token), label: label ?? null });
    return token;
  }

  /** The agency a token belongs to, with the two-digit code its references start with; null if unknown or revoked. */
  async authenticate(token: string): Promise<{ agency: string; agencyCode: string } | null> {
    const row = await this.db('agency_tokens as t')
      .join('agencies as a', 'a.code', 't.agency')
      .where('t.token_hash', AgencyService.hash(token))
      .whereNull('t.revoked_at')
      .first('a.code', 'a.agency_code');
    return row ? { agency: row.code, agencyCode: row.agency_code } : null;
  }
}
