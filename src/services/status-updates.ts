import type { Knex } from 'knex';
import type { Lang } from '../../flows/types';
import { statusScreen, type AppSummary } from '../../flows/check-status';
import { translate } from '../i18n';
import { enqueueSms } from '../sms/outbox';
import type { BlindIndex } from './blind-index';
import type { OptOutService } from './opt-outs';
import demo from '../../seeds/data/demo.json';

/** Statuses a citizen must act on: these send an SMS to the applicant and to subscribers. */
export const NOTIFY_STATUSES: ReadonlySet<string> = new Set(['READY_FOR_COLLECTION', 'QUERY_RAISED', 'REJECTED', 'APPROVED']);
export const STATUSES: ReadonlySet<string> = new Set(Object.keys(demo.statuses));

export interface StatusChange {
  reference: string;
  status: string;
  reason?: string | null;
  /** Code of the Huduma Centre where the document is collected (seeds/data/huduma_centres.json). */
  collectionCentre?: string | null;
  at?: Date;
}

export type ChangeOutcome = 'updated' | 'unchanged' | 'not_found' | 'forbidden' | 'invalid';

/**
 * Status changes pushed by agency back offices (API and CSV import). Each change is stored in the
 * history and, in the same transaction, queues an SMS to the applicant and to the phones that
 * subscribed, when the new status is one the citizen must act on — unless the phone opted out.
 */
export class StatusUpdateService {
  constructor(private readonly db: Knex, private readonly blind: BlindIndex, private readonly optOuts: OptOutService) {}

  /** `agencyCode` is the two-digit code the reference must start with (null: any, for the import CLI run by an operator). */
  async apply(change: StatusChange, agencyCode: string | null): Promise<{ outcome: ChangeOutcome; notified: number }> {
    if (!STATUSES.has(change.status)) return { outcome: 'invalid', notified: 0 };
    if (agencyCode !== null && change.reference.slice(0, 2) !== agencyCode) return { outcome: 'forbidden', notified: 0 };
    return this.db.transaction((trx) => this.applyIn(trx, change));
  }

  /** Applies many changes, `batchSize` per transaction. Returns counts by outcome. */
  async applyMany(changes: StatusChange[], onProgress?: (done: number) => void, batchSize = 500): Promise<Record<ChangeOutcome, number> & { notified: number }> {
    const counts = { updated: 0, unchanged: 0, not_found: 0, forbidden: 0, invalid: 0, notified: 0 };
    for (let i = 0; i < changes.length; i += batchSize) {
      const batch = changes.slice(i, i + batchSize);
      await this.db.transaction(async (trx) => {
        for (const change of batch) {
          const r = STATUSES.has(change.status) ? await this.applyIn(trx, change) : { outcome: 'invalid' as const, notified: 0 };
          counts[r.outcome]++;
          counts.notified += r.notified;
        }
      });
      onProgress?.(Math.min(i + batchSize, changes.length));
    }
    return counts;
  }

  private async applyIn(trx: Knex.Transaction, change: StatusChange): Promise<{ outcome: ChangeOutcome; notified: number }> {
    const app = await trx('applications as a')
      .join('citizens as c', 'c.id', 'a.citizen_id')
      .where('a.reference', change.reference)
      .forUpdate()
      .first('a.id', 'a.type', 'a.status', 'a.reason', 'a.collection_centre', 'c.phone');
    if (!app) return { outcome: 'not_found', notified: 0 };
    const reason = change.reason === undefined ? app.reason : change.reason;
    const centre = change.collectionCentre === undefined ? app.collection_centre : change.collectionCentre;
    if (app.status === change.status && app.reason === reason && app.collection_centre === centre) return { outcome: 'unchanged', notified: 0 };

    const at = change.at ?? new Date();
    await trx('applications').where({ id: app.id }).update({ status: change.status, reason, collection_centre: centre, updated_at: at });
    await trx('application_status_history').insert({ application_id: app.id, status: change.status, reason, at }).onConflict(['application_id', 'status', 'at']).ignore();
    if (!NOTIFY_STATUSES.has(change.status)) return { outcome: 'updated', notified: 0 };

    const centreName = centre ? ((await trx('centres').where({ code: centre }).first('name'))?.name ?? null) : null;
    const summary: AppSummary = { reference: change.reference, type: app.type, status: change.status, reason, centre: centreName };
    const subscribers = await trx('subscriptions').where({ application_id: app.id }).pluck('phone');
    let notified = 0;
    for (const phone of new Set<string>([app.phone, ...subscribers])) {
      if (await this.optOuts.isOptedOut(phone, trx)) continue;
      const pref = await trx('preferences').where({ phone_hash: this.blind.phone(phone) }).first('language');
      const id = await enqueueSms(trx, {
        to: phone,
        body: alertText((pref?.language as Lang | undefined) ?? 'en', summary),
        kind: 'alert',
        essential: false,
        dedupeKey: `alert:${app.id}:${change.status}:${at.toISOString()}:${this.blind.phone(phone).slice(0, 16)}`,
        ref: `application:${app.id}`,
      });
      if (id !== null) notified++;
    }
    return { outcome: 'updated', notified };
  }

  /** "SMS me when this changes" after a status check. */
  async subscribe(reference: string, phone: string, channel: 'ussd' | 'sms'): Promise<boolean> {
    const app = await this.db('applications').where({ reference }).first('id');
    if (!app) return false;
    await this.db('subscriptions').insert({ application_id: app.id, phone, channel }).onConflict(['application_id', 'phone']).ignore();
    return true;
  }
}

/** "Simu: update on your application / Passport 1026100200488 / READY for collection / … / Send STOP to stop alerts." */
export function alertText(lang: Lang, app: AppSummary): string {
  const lines = [translate(lang, { key: 'alert.intro' }), ...statusScreen(app).lines.map((m) => translate(lang, m)), translate(lang, { key: 'alert.footer' })];
  return lines.join('\n');
}
