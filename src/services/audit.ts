import type { Knex } from 'knex';
import { maskPhone } from '../log';

export interface AuditEntry {
  actorType: 'citizen' | 'staff' | 'system';
  staffId?: number;
  centreCode?: string;
  citizenId?: number | null;
  idHash?: string | null;
  phone?: string;
  channel: 'ussd' | 'sms' | 'staff' | 'api';
  action: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

/** Writes one audit row (append-only: the table refuses UPDATE and DELETE). The phone is stored masked. */
export async function audit(db: Knex | Knex.Transaction, e: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor_type: e.actorType,
    staff_id: e.staffId ?? null,
    centre_code: e.centreCode ?? null,
    citizen_id: e.citizenId ?? null,
    id_hash: e.idHash ?? null,
    phone_masked: e.phone ? maskPhone(e.phone) : null,
    channel: e.channel,
    action: e.action,
    outcome: e.outcome,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  });
}
