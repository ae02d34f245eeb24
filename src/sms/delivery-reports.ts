import type { Knex } from 'knex';

/**
 * AT's delivery reports applied to sms_outbound. A status never moves backwards:
 * rank 1 (Sent, Submitted, Buffered, and any status we do not know) < rank 2 (Success → delivered;
 * Failed, Rejected, Expired, AbsentSubscriber → failed). A final state is final, so a duplicate or a
 * late "Sent" after "Success" changes nothing. Reports for ids we have not recorded are kept in
 * sms_delivery_unmatched (AT can report before the worker has stored the messageId, see
 * `applyWaitingReports`).
 */
export interface DeliveryReport {
  id: string;
  status: string;
  phoneNumber?: string | undefined;
  networkCode?: string | undefined;
  failureReason?: string | undefined;
  retryCount?: number | undefined;
}

const DELIVERED = new Set(['Success']);
const FAILED = new Set(['Failed', 'Rejected', 'Expired', 'AbsentSubscriber']);
/** The order of intermediate reports (AT: sent by AT → submitted to the operator → buffered by it). */
const INTERMEDIATE_RANK: Record<string, number> = { Sent: 1, Submitted: 2, Buffered: 3 };
const FINAL_RANK = 9;

export function isFinalDeliveryStatus(status: string): boolean {
  return DELIVERED.has(status) || FAILED.has(status);
}

function rank(status: string): number {
  return isFinalDeliveryStatus(status) ? FINAL_RANK : (INTERMEDIATE_RANK[status] ?? 1);
}
const RANK_SQL = `CASE dlr_status ${Object.entries(INTERMEDIATE_RANK).map(([s, n]) => `WHEN '${s}' THEN ${n}`).join(' ')} ELSE 1 END`;

export type ApplyOutcome = 'updated' | 'ignored' | 'unmatched';

/** One report → one conditional UPDATE (only forwards); returns whether it changed the message. */
async function update(db: Knex | Knex.Transaction, r: DeliveryReport): Promise<boolean> {
  const patch: Record<string, unknown> = { dlr_status: r.status, dlr_at: db.fn.now(), updated_at: db.fn.now() };
  if (r.networkCode) patch.network_code = r.networkCode.slice(0, 8);
  if (DELIVERED.has(r.status)) Object.assign(patch, { status: 'delivered', delivered_at: db.fn.now() });
  if (FAILED.has(r.status)) Object.assign(patch, { status: 'failed', failure_reason: (r.failureReason || r.status).slice(0, 128) });
  const changed = await db('sms_outbound')
    .where('at_message_id', r.id)
    .whereNotIn('status', ['delivered', 'failed'])
    .where((q) => q.whereNull('dlr_status').orWhereRaw(`${RANK_SQL} < ?`, [rank(r.status)]))
    .update(patch);
  return changed > 0;
}

export async function applyDeliveryReport(db: Knex, r: DeliveryReport): Promise<ApplyOutcome> {
  if (await update(db, r)) return 'updated';
  const known = await db('sms_outbound').where('at_message_id', r.id).first('id');
  if (known) return 'ignored'; // duplicate, or older than what we have
  await db('sms_delivery_unmatched')
    .insert({
      at_message_id: r.id,
      status: r.status,
      phone: r.phoneNumber?.slice(0, 16) ?? null,
      network_code: r.networkCode?.slice(0, 8) ?? null,
      failure_reason: r.failureReason?.slice(0, 128) ?? null,
      retry_count: r.retryCount ?? null,
    })
    .onConflict(['at_message_id', 'status'])
    .ignore();
  // Committed the unmatched row; if the worker stored this messageId meanwhile, it may have looked
  // before our insert: look again (one of the two sides always sees the other; applying twice is harmless).
  if (await db('sms_outbound').where('at_message_id', r.id).first('id')) {
    await applyWaitingReports(db, r.id);
    return 'updated';
  }
  return 'unmatched';
}

/** Applies reports that arrived before the messageId was recorded (final ones last wins by rank). */
export async function applyWaitingReports(db: Knex, atMessageId: string): Promise<number> {
  const waiting = await db('sms_delivery_unmatched').where('at_message_id', atMessageId).whereNull('matched_at').orderBy('id');
  if (waiting.length === 0) return 0;
  // Intermediate first, then final: the order AT meant, whatever order they came in.
  waiting.sort((a, b) => Number(isFinalDeliveryStatus(a.status)) - Number(isFinalDeliveryStatus(b.status)));
  for (const w of waiting) {
    await update(db, {
      id: atMessageId,
      status: w.status,
      networkCode: w.network_code ?? undefined,
      failureReason: w.failure_reason ?? undefined,
    });
  }
  await db('sms_delivery_unmatched').whereIn('id', waiting.map((w) => w.id)).update({ matched_at: db.fn.now() });
  return waiting.length;
}
