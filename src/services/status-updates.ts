import type { Knex } from 'knex';
import type { Lang } from '../../flows/types';
import { statusScreen, type AppSummary } from '../../flows/check-status';
import { translate } from '../i18n';
import { enqueueSms, enqueueSmsMany } from '../sms/outbox';
import type { BlindIndex } from './blind-index';
import demo from '../../seeds/data/demo.json';

/** Statuses a citizen must act on: these send an SMS to the applicant and to subscribers. */
export const NOTIFY_STATUSES: ReadonlySet<string> = new Set(['READY_FOR_COLLECTION', 'QUERY_RAISED', 'REJECTED', 'APPROVED']);
export const STATUSES: ReadonlySet<string> = new Set(Object.keys(demo.statuses));
/** Reason codes an agency may send (the reference data's, plus `other`: "visit a Huduma Centre"). */
export const REASONS: ReadonlySet<string> = new Set([...Object.keys(demo.reasons), 'other']);

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
  constructor(private readonly db: Knex, private readonly blind: BlindIndex) {}

  /**
   * What is wrong with a change's status, reason or collection centre, in words for the agency's
   * developer, or null. Checked before `apply`, so an unknown centre is a 400, not a foreign-key error.
   */
  async problem(change: StatusChange): Promise<string | null> {
    if (!STATUSES.has(change.status)) return `unknown status; one of: ${[...STATUSES].join(', ')}`;
    if (change.reason != null && !REASONS.has(change.reason)) return `unknown reason; one of: ${[...REASONS].join(', ')}, or null`;
    if (change.collectionCentre != null && !(await this.db('centres').where({ code: change.collectionCentre }).first('code'))) {
      return 'unknown collection_centre: use a Huduma Centre code (e.g. nairobi-gpo), or null';
    }
    return null;
  }

  /** `agencyCode` is the two-digit code the reference must start with (null: any, for the import CLI run by an operator). */
  async apply(change: StatusChange, agencyCode: string | null): Promise<{ outcome: ChangeOutcome; notified: number }> {
    const counts = await this.applyMany([change], { agencyCode });
    const outcome = (['updated', 'unchanged', 'not_found', 'forbidden', 'invalid'] as const).find((o) => counts[o] > 0) ?? 'invalid';
    return { outcome, notified: counts.notified };
  }

  /**
   * Applies many changes, up to `batchSize` per transaction, refusing references of another agency
   * when `agencyCode` is given. Each batch costs a fixed handful of queries whatever its size, so
   * an import of 100,000 changes is minutes of work for Postgres, not hours. A reference that
   * appears twice starts a new batch, so both changes reach the history in order.
   */
  async applyMany(
    changes: StatusChange[],
    opts: { agencyCode?: string | null; onProgress?: (done: number) => void; batchSize?: number } = {},
  ): Promise<Record<ChangeOutcome, number> & { notified: number }> {
    const batchSize = opts.batchSize ?? 500;
    const counts = { updated: 0, unchanged: 0, not_found: 0, forbidden: 0, invalid: 0, notified: 0 };
    let batch: StatusChange[] = [];
    let seen = new Set<string>();
    let done = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      const r = await this.db.transaction((trx) => this.applyBatch(trx, current));
      for (const k of Object.keys(r) as Array<keyof typeof counts>) counts[k] += r[k];
      done += current.length;
      opts.onProgress?.(done);
      batch = [];
      seen = new Set();
    };
    for (const change of changes) {
      if (!STATUSES.has(change.status)) {
        counts.invalid++;
        done++;
      } else if (opts.agencyCode && change.reference.slice(0, 2) !== opts.agencyCode) {
        counts.forbidden++;
        done++;
      } else {
        if (seen.has(change.reference) || batch.length >= batchSize) await flush();
        batch.push(change);
        seen.add(change.reference);
      }
    }
    await flush();
    return counts;
  }

  /** One transaction's worth of changes, each reference at most once. */
  private async applyBatch(trx: Knex.Transaction, changes: StatusChange[]): Promise<Record<ChangeOutcome, number> & { notified: number }> {
    const counts = { updated: 0, unchanged: 0, not_found: 0, forbidden: 0, invalid: 0, notified: 0 };
    const apps = await trx('applications as a')
      .join('citizens as c', 'c.id', 'a.citizen_id')
      .whereIn('a.reference', changes.map((c) => c.reference))
      .forUpdate()
      .select('a.id', 'a.reference', 'a.type', 'a.status', 'a.reason', 'a.collection_centre', 'c.phone');
    const byRef = new Map(apps.map((a) => [a.reference as string, a]));

    const updates: Array<{ id: number; status: string; reason: string | null; centre: string | null; at: Date; summary: AppSummary & { centreCode: string | null }; phone: string }> = [];
    for (const change of changes) {
      const app = byRef.get(change.reference);
      if (!app) {
        counts.not_found++;
        continue;
      }
      const reason = change.reason === undefined ? app.reason : change.reason;
      const centre = change.collectionCentre === undefined ? app.collection_centre : change.collectionCentre;
      if (app.status === change.status && app.reason === reason && app.collection_centre === centre) {
        counts.unchanged++;
        continue;
      }
      const summary = { reference: change.reference, type: app.type, status: change.status, reason, centre: null, centreCode: centre };
      updates.push({ id: app.id, status: change.status, reason, centre, at: change.at ?? new Date(), summary, phone: app.phone });
    }
    counts.updated = updates.length;
    if (updates.length === 0) return counts;

    await trx.raw(
      `UPDATE applications AS a SET status = v.status, reason = v.reason, collection_centre = v.centre, updated_at = v.at
       FROM jsonb_to_recordset(?::jsonb) AS v(id int, status text, reason text, centre text, at timestamptz) WHERE a.id = v.id`,
      [JSON.stringify(updates.map((u) => ({ id: u.id, status: u.status, reason: u.reason, centre: u.centre, at: u.at })))],
    );
    await trx('application_status_history')
      .insert(updates.map((u) => ({ application_id: u.id, status: u.status, reason: u.reason, at: u.at })))
      .onConflict(['application_id', 'status', 'at'])
      .ignore();

    const notify = updates.filter((u) => NOTIFY_STATUSES.has(u.status));
    if (notify.length > 0) counts.notified = await this.queueAlerts(trx, notify);
    return counts;
  }

  /** The alerts for changes a citizen must act on: applicant and subscribers, in each phone's language, skipping opted-out phones. */
  private async queueAlerts(trx: Knex.Transaction, changes: Array<{ id: number; status: string; at: Date; phone: string; summary: AppSummary & { centreCode: string | null } }>): Promise<number> {
    const subs = await trx('subscriptions').whereIn('application_id', changes.map((c) => c.id)).select('application_id', 'phone');
    const recipients = changes.map((c) => ({ change: c, phones: [...new Set<string>([c.phone, ...subs.filter((s) => s.application_id === c.id).map((s) => s.phone as string)])] }));
    const hashes = new Map<string, string>();
    for (const r of recipients) for (const p of r.phones) if (!hashes.has(p)) hashes.set(p, this.blind.phone(p));
    const all = [...hashes.values()];
    const optedOut = new Set<string>(await trx('opt_outs').whereIn('phone_hash', all).pluck('phone_hash'));
    const langs = new Map<string, Lang>((await trx('preferences').whereIn('phone_hash', all).select('phone_hash', 'language')).map((r) => [r.phone_hash, r.language as Lang]));
    const centreCodes = [...new Set(changes.map((c) => c.summary.centreCode).filter((c): c is string => !!c))];
    const centres = new Map<string, string>(centreCodes.length ? (await trx('centres').whereIn('code', centreCodes).select('code', 'name')).map((r) => [r.code, r.name]) : []);

    const rows: Array<Parameters<typeof enqueueSms>[1]> = [];
    for (const { change, phones } of recipients) {
      const app: AppSummary = { ...change.summary, centre: change.summary.centreCode ? (centres.get(change.summary.centreCode) ?? null) : null };
      for (const phone of phones) {
        const hash = hashes.get(phone) as string;
        if (optedOut.has(hash)) continue;
        rows.push({
          to: phone,
          body: alertText(langs.get(hash) ?? 'en', app),
          kind: 'alert',
          essential: false,
          dedupeKey: `alert:${change.id}:${change.status}:${change.at.toISOString()}:${hash.slice(0, 16)}`,
          ref: `application:${change.id}`,
        });
      }
    }
    return enqueueSmsMany(trx, rows);
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
