import type { Knex } from 'knex';
import type { Db } from '../db';
import { audit } from './audit';
import type { BlindIndex } from './blind-index';
import type { Actor } from './staff';

export interface AuditFilters {
  /** 'YYYY-MM-DD', Nairobi days, inclusive. */
  from?: string;
  to?: string;
  action?: string;
  outcome?: string;
  /** A staff username. */
  staff?: string;
  /** Admins only: a centre code. Supervisors always see their own centre. */
  centre?: string;
  /** Typed at the desk, hashed at once: rows of that citizen. Only ever sent in a POST body, never in a URL. */
  idNumber?: string;
  /** The blind index of an ID number (what links carry instead of the number). */
  idHash?: string;
  channel?: string;
}

export interface AuditRow {
  id: number;
  at: Date;
  actorType: string;
  staffId: number | null;
  staffUsername: string | null;
  centreCode: string | null;
  citizenId: number | null;
  idHash: string | null;
  phoneMasked: string | null;
  channel: string;
  action: string;
  outcome: string;
  detail: Record<string, unknown> | null;
}

export const AUDIT_PAGE = 50;
export const AUDIT_EXPORT_MAX = 50_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Who may read the audit log, and how much of it: supervisors their centre, admins everything. */
export const canReadAudit = (a: Actor): boolean => a.role === 'supervisor' || a.role === 'admin';

/**
 * Reading the audit log (it is written by `audit()` in ./audit.ts). Every read of it is itself
 * audited, with the filters used (an ID number filter appears only as its hash).
 */
export class AuditQuery {
  constructor(private readonly deps: { db: Db; blind: BlindIndex }) {}

  private base(actor: Actor, f: AuditFilters): Knex.QueryBuilder {
    const { db, blind } = this.deps;
    const q = db('audit_log as l').leftJoin('staff as s', 's.id', 'l.staff_id');
    if (actor.role !== 'admin') q.where('l.centre_code', actor.centreCode);
    else if (f.centre) q.where('l.centre_code', f.centre);
    // Days are Nairobi days: the counter's calendar, not UTC's.
    if (f.from && DAY.test(f.from)) q.whereRaw("l.at >= (?::date)::timestamp AT TIME ZONE 'Africa/Nairobi'", [f.from]);
    if (f.to && DAY.test(f.to)) q.whereRaw("l.at < ((?::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi')", [f.to]);
    if (f.action) q.where('l.action', f.action);
    if (f.outcome) q.where('l.outcome', f.outcome);
    if (f.channel) q.where('l.channel', f.channel);
    if (f.staff) q.whereRaw('lower(s.username) = ?', [f.staff.trim().toLowerCase()]);
    if (f.idNumber && /\d/.test(f.idNumber)) q.where('l.id_hash', blind.idNumber(f.idNumber));
    else if (f.idHash && /^[0-9a-f]{64}$/.test(f.idHash)) q.where('l.id_hash', f.idHash);
    return q;
  }

  private static toRow(r: Record<string, unknown>): AuditRow {
    return {
      id: Number(r.id),
      at: new Date(r.at as string),
      actorType: String(r.actor_type),
      staffId: r.staff_id === null ? null : Number(r.staff_id),
      staffUsername: (r.username as string | null) ?? null,
      centreCode: (r.centre_code as string | null) ?? null,
      citizenId: r.citizen_id === null ? null : Number(r.citizen_id),
      idHash: (r.id_hash as string | null) ?? null,
      phoneMasked: (r.phone_masked as string | null) ?? null,
      channel: String(r.channel),
      action: String(r.action),
      outcome: String(r.outcome),
      detail: (r.detail as Record<string, unknown> | null) ?? null,
    };
  }

  private logRead(actor: Actor, action: string, f: AuditFilters, extra: Record<string, unknown>) {
    const { idNumber, ...rest } = f;
    return audit(this.deps.db, {
      actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action, outcome: 'ok',
      ...(idNumber ? { idHash: this.deps.blind.idNumber(idNumber) } : {}),
      detail: { filters: rest, ...extra },
    });
  }

  /** One page, newest first; `before` is the id of the last row of the previous page. */
  async page(actor: Actor, f: AuditFilters, before?: number): Promise<{ rows: AuditRow[]; next: number | null }> {
    const q = this.base(actor, f).select('l.*', 's.username').orderBy('l.id', 'desc').limit(AUDIT_PAGE + 1);
    if (before && Number.isSafeInteger(before)) q.where('l.id', '<', before);
    const raw = await q;
    const rows = raw.slice(0, AUDIT_PAGE).map(AuditQuery.toRow);
    await this.logRead(actor, 'audit_view', f, { rows: rows.length });
    return { rows, next: raw.length > AUDIT_PAGE ? (rows[rows.length - 1]?.id ?? null) : null };
  }

  /** Every matching row (up to AUDIT_EXPORT_MAX) as CSV text, oldest first. */
  async csv(actor: Actor, f: AuditFilters): Promise<string> {
    const raw = await this.base(actor, f).select('l.*', 's.username').orderBy('l.id', 'asc').limit(AUDIT_EXPORT_MAX);
    const rows = raw.map(AuditQuery.toRow);
    await this.logRead(actor, 'audit_export', f, { rows: rows.length });
    const header = ['id', 'at_utc', 'at_nairobi', 'actor_type', 'staff_id', 'staff_username', 'centre_code', 'citizen_id', 'id_hash', 'phone_masked', 'channel', 'action', 'outcome', 'detail'];
    const lines = [header.join(',')];
    for (const r of rows) {
      lines.push([
        r.id, r.at.toISOString(), nairobiStamp(r.at), r.actorType, r.staffId ?? '', r.staffUsername ?? '', r.centreCode ?? '', r.citizenId ?? '',
        r.idHash ?? '', r.phoneMasked ?? '', r.channel, r.action, r.outcome, r.detail ? JSON.stringify(r.detail) : '',
      ].map(csvCell).join(','));
    }
    return lines.join('\r\n') + '\r\n';
  }

  /** What a link may carry instead of an ID number. */
  idHashOf(idNumber: string): string {
    return this.deps.blind.idNumber(idNumber);
  }

  /** The actions present, for the filter's drop-down. */
  async actions(actor: Actor): Promise<string[]> {
    const rows = await this.base(actor, {}).distinct('l.action').orderBy('l.action');
    return rows.map((r: { action: string }) => r.action);
  }
}

/** RFC 4180 quoting, and no formula injection when the file is opened in a spreadsheet. */
export function csvCell(v: unknown): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** '2026-11-25 14:05' in Nairobi. */
export function nairobiStamp(d: Date): string {
  const p: Record<string, string> = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-GB', { timeZone: 'Africa/Nairobi', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(d)) p[type] = value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
