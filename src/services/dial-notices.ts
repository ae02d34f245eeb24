import type { Db } from '../db';
import type { Lang } from '../../flows/types';
import type { PendingConsent } from '../../flows/main-menu';
import type { BlindIndex } from './blind-index';
import type { Sealer } from './sealer';

/**
 * What a dial must show before the main menu, found in the same single query as the phone's
 * language: a login code whose SMS failed (see ResetService.undeliveredCode) and a consent code a
 * Huduma Centre agent is waiting for right now (the citizen may be at the counter without the SMS).
 */
export class DialNotices {
  private readonly now: () => Date;

  constructor(private readonly deps: { db: Db; blind: BlindIndex; sealer: Sealer; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
  }

  async dialContext(phone: string): Promise<{ lang: Lang | null; undeliveredCode: boolean; consentCode: boolean }> {
    const now = this.now();
    const { rows } = await this.deps.db.raw(
      `SELECT (SELECT language FROM preferences WHERE phone_hash = ?) AS lang,
              EXISTS (SELECT 1 FROM login_codes lc JOIN citizens c ON c.id = lc.citizen_id JOIN sms_outbound s ON s.id = lc.sms_id
                      WHERE c.phone = ? AND s.status = 'failed' AND lc.expires_at > ? AND lc.revoked_at IS NULL
                        AND lc.used_at IS NULL AND lc.shown_again_at IS NULL AND lc.code_sealed IS NOT NULL) AS undelivered,
              EXISTS (SELECT 1 FROM consents v JOIN citizens c ON c.id = v.citizen_id
                      WHERE c.phone = ? AND v.code_sealed IS NOT NULL AND v.code_expires_at > ?
                        AND v.verified_at IS NULL AND v.closed_at IS NULL) AS consent`,
      [this.deps.blind.phone(phone), phone, now, phone, now],
    );
    const row = rows[0] as { lang: Lang | null; undelivered: boolean; consent: boolean };
    return { lang: row.lang, undeliveredCode: row.undelivered, consentCode: row.consent };
  }

  /** The newest consent code waiting for this phone's citizen, with the centre that asked. */
  async pendingConsent(phone: string): Promise<PendingConsent | null> {
    const row = await this.deps.db('consents as v')
      .join('citizens as c', 'c.id', 'v.citizen_id')
      .join('centres as k', 'k.code', 'v.centre_code')
      .where('c.phone', phone)
      .whereNotNull('v.code_sealed')
      .where('v.code_expires_at', '>', this.now())
      .whereNull('v.verified_at')
      .whereNull('v.closed_at')
      .orderBy('v.id', 'desc')
      .first('v.code_sealed', 'k.name as centre');
    return row ? { code: this.deps.sealer.open(row.code_sealed), centre: String(row.centre) } : null;
  }
}
