import type { Knex } from 'knex';

/**
 * Login and consent codes keep an AES-GCM sealed copy (src/services/sealer.ts) only while the code
 * is valid: a failed SMS may need it shown again on the next dial. Once the code expires the copy
 * has no use, so it goes. Run periodically (the SMS worker's loop) and when a dial reads copies.
 * `citizenId`: only that citizen's codes.
 */
export async function clearExpiredSealedCodes(db: Knex, now: Date, citizenId?: number): Promise<number> {
  const mine = (q: Knex.QueryBuilder) => (citizenId === undefined ? q : q.where({ citizen_id: citizenId }));
  const codes = await mine(db('login_codes').whereNotNull('code_sealed').where('expires_at', '<=', now)).update({ code_sealed: null });
  const consents = await mine(db('consents').whereNotNull('code_sealed').where('code_expires_at', '<=', now)).update({ code_sealed: null });
  return Number(codes) + Number(consents);
}
