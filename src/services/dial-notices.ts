import type { Db } from '../db';
import { prepare, type Prepared } from '../db/prepared';
import type { Lang } from '../../flows/types';
import type { PendingConsent } from '../../flows/main-menu';
import type { UndeliveredCode } from '../../flows/reset-code';
import type { BlindIndex } from './blind-index';
import { nairobiTime } from './reset';
import type { Sealer } from './sealer';
import { clearExpiredSealedCodes } from './sealed-codes';

/**
 * What a dial must show before the main menu: a login code whose SMS failed (the one journey across
 * USSD and SMS, see ResetService) and a consent code a Huduma Centre agent is waiting for right now
 * (the citizen may be at the counter without the SMS). Whether there is one is found in the same
 * single query as the phone's language; only then is it fetched. Each notice's conditions are
 * written once (the two query builders below) and serve both the check and the fetch.
 */
export class DialNotices {
  private readonly now: () => Date;

  /** Every dial runs it: compiled once (see src/db/prepared.ts). */
  private readonly dialQuery: Prepared<{ phoneHash: string; phone: string; now: Date }, { lang: Lang | null; undelivered: boolean; consent: boolean }>;

  constructor(private readonly deps: { db: Db; blind: BlindIndex; sealer: Sealer; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
    const { db } = deps;
    this.dialQuery = prepare(db, 'dial_context', ['phoneHash', 'phone', 'now'], (p) =>
      db.select(
        db('preferences').where({ phone_hash: p.phoneHash }).select('language').as('lang'),
        db.raw('exists ? as undelivered', [this.undeliveredCodes(p.phone, p.now).select(db.raw('1'))]),
        db.raw('exists ? as consent', [this.pendingConsents(p.phone, p.now).select(db.raw('1'))]),
      ),
    );
  }

  /** Still-valid login codes of this phone's citizen whose SMS AT reported failed, not yet shown again. */
  private undeliveredCodes(phone: string, now: Date) {
    return this.deps.db('login_codes as lc')
      .join('citizens as c', 'c.id', 'lc.citizen_id')
      .join('sms_outbound as s', 's.id', 'lc.sms_id')
      .where('c.phone', phone)
      .where('s.status', 'failed')
      .where('lc.expires_at', '>', now)
      .whereNull('lc.revoked_at')
      .whereNull('lc.used_at')
      .whereNull('lc.shown_again_at')
      .whereNotNull('lc.code_sealed');
  }

  /** Consent codes sent to this phone's citizen that an agent is still waiting for. */
  private pendingConsents(phone: string, now: Date) {
    return this.deps.db('consents as v')
      .join('citizens as c', 'c.id', 'v.citizen_id')
      .where('c.phone', phone)
      .whereNotNull('v.code_sealed')
      .where('v.code_expires_at', '>', now)
      .whereNull('v.verified_at')
      .whereNull('v.closed_at');
  }

  async dialContext(phone: string): Promise<{ lang: Lang | null; undeliveredCode: boolean; consentCode: boolean }> {
    const [row] = await this.dialQuery({ phoneHash: this.deps.blind.phone(phone), phone, now: this.now() });
    return { lang: row?.lang ?? null, undeliveredCode: row?.undelivered ?? false, consentCode: row?.consent ?? false };
  }

  /** The expired sealed copies of this phone's citizen go whenever a dial reads the valid ones. */
  private async clearExpired(phone: string, now: Date): Promise<void> {
    const citizen = await this.deps.db('citizens').where({ phone }).first('id');
    if (citizen) await clearExpiredSealedCodes(this.deps.db, now, Number(citizen.id));
  }

  /** The newest undelivered login code, shown once: its sealed copy is dropped as it is read. */
  async undeliveredCode(phone: string): Promise<UndeliveredCode | null> {
    const { db } = this.deps;
    const now = this.now();
    await this.clearExpired(phone, now);
    const row = await this.undeliveredCodes(phone, now).orderBy('lc.id', 'desc').first('lc.id', 'lc.code_sealed', 'lc.expires_at');
    if (!row) return null;
    await db('login_codes').where({ id: row.id }).update({ shown_again_at: now, code_sealed: null });
    return { code: this.deps.sealer.open(row.code_sealed), validUntil: nairobiTime(new Date(row.expires_at)) };
  }

  /** The newest consent code waiting for this phone's citizen, with the centre that asked. */
  async pendingConsent(phone: string): Promise<PendingConsent | null> {
    const now = this.now();
    await this.clearExpired(phone, now);
    const row = await this.pendingConsents(phone, now)
      .join('centres as k', 'k.code', 'v.centre_code')
      .orderBy('v.id', 'desc')
      .first('v.code_sealed', 'k.name as centre');
    return row ? { code: this.deps.sealer.open(row.code_sealed), centre: String(row.centre) } : null;
  }
}
