import type { Knex } from 'knex';

export type SmsKind = 'login_code' | 'booking' | 'reminder' | 'alert' | 'reply' | 'consent' | 'notice';

export interface OutboundSms {
  to: string;
  body: string;
  kind: SmsKind;
  /** Default true: a reply or a code the citizen asked for. Notifications and reminders pass false (STOP applies). */
  essential?: boolean;
  /** Not before this time (reminders). Default: now. */
  sendAfter?: Date;
  /** Enqueue at most once per key; a second enqueue with the same key is a no-op. */
  dedupeKey?: string;
  ref?: string;
}

/**
 * `next_attempt_at` of a message to send as soon as possible: long past on every clock, so the
 * worker's clock (see claimDueSms) finds it due whatever it reads, and it goes ahead of messages
 * scheduled for a time.
 */
export const SEND_AT_ONCE = new Date(0);

const row = (sms: OutboundSms) => ({
  to_phone: sms.to,
  body: sms.body,
  kind: sms.kind,
  essential: sms.essential ?? true,
  next_attempt_at: sms.sendAfter ?? SEND_AT_ONCE,
  dedupe_key: sms.dedupeKey ?? null,
  ref: sms.ref ?? null,
});

/**
 * Puts a message in the outbox. Call it with the transaction of the change that causes the
 * message: they commit together, and the worker sends after the commit. Returns the row id, or
 * null when `dedupeKey` was already used.
 */
export async function enqueueSms(db: Knex | Knex.Transaction, sms: OutboundSms): Promise<number | null> {
  const rows = await db('sms_outbound').insert(row(sms)).onConflict('dedupe_key').ignore().returning('id');
  const first = rows[0] as { id: string | number } | undefined;
  return first ? Number(first.id) : null;
}

/** Many messages in one statement (a batch of status alerts). Returns how many were new (not deduplicated away). */
export async function enqueueSmsMany(db: Knex | Knex.Transaction, messages: OutboundSms[]): Promise<number> {
  if (messages.length === 0) return 0;
  const rows = await db('sms_outbound').insert(messages.map(row)).onConflict('dedupe_key').ignore().returning('id');
  return rows.length;
}

/** Kinds whose body carries a one-time code (login code, consent or phone-change code). */
export const CODE_KINDS = ['login_code', 'consent'] as const;
export const SCRUBBED_BODY = '[one-time code removed after sending]';

/**
 * The outbox keeps every message's text, and some texts are one-time codes. Once a message is final
 * (delivered, failed or cancelled, or sent and left alone) for `afterMs`, its code has expired and
 * serves no one: the body is replaced. The row (who, when, status) stays for the record. A code
 * that must be shown again after a failed SMS is read from its own sealed copy, never from here.
 */
export async function scrubOneTimeCodes(db: Knex, afterMs: number): Promise<number> {
  return db('sms_outbound')
    .whereIn('kind', CODE_KINDS as unknown as string[])
    .whereIn('status', ['sent', 'delivered', 'failed', 'cancelled'])
    .where('updated_at', '<', db.raw(`now() - (? * interval '1 millisecond')`, [afterMs]))
    .whereNot('body', SCRUBBED_BODY)
    .update({ body: SCRUBBED_BODY });
}
