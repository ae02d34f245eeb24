import type { Knex } from 'knex';

/**
 * What the SMS worker and AT's delivery reports record beyond the outbox's first columns.
 *
 * - `sms_outbound.next_attempt_at` doubles as the lease of a row in status `sending`: a worker that
 *   claims a row pushes it into the future; if the worker dies mid-send, the row becomes claimable
 *   again when the lease ends (no separate column, and the (status, next_attempt_at) index serves both).
 * - `attempts` is the fencing token: a worker records its result only while the row still carries
 *   the attempt number it claimed, so a worker whose lease ran out cannot overwrite a newer attempt.
 * - Delivery reports for a messageId we do not (yet) know go to `sms_delivery_unmatched`; the worker
 *   applies any waiting there when it records the messageId (AT can report faster than we record).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sms_outbound', (t) => {
    /** AT's per-recipient cost, as AT writes it (`KES 0.8000`). */
    t.string('cost', 32);
    t.integer('message_parts');
    /** The last delivery-report status applied (Sent, Buffered, Success, Failed …). */
    t.string('dlr_status', 32);
    t.timestamp('dlr_at', { useTz: true });
    t.string('network_code', 8);
    /** Why the last attempt did not succeed (timeout, HTTP 500, InvalidPhoneNumber …); never the message text. */
    t.string('last_error', 200);
  });

  await knex.schema.createTable('sms_delivery_unmatched', (t) => {
    t.bigIncrements('id');
    t.string('at_message_id', 64).notNullable();
    t.string('status', 32).notNullable();
    t.string('phone', 16);
    t.string('network_code', 8);
    t.string('failure_reason', 128);
    t.integer('retry_count');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** Set when a message with this id was recorded later and the report applied to it. */
    t.timestamp('matched_at', { useTz: true });
    t.unique(['at_message_id', 'status']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sms_delivery_unmatched');
  await knex.schema.alterTable('sms_outbound', (t) => {
    t.dropColumns('cost', 'message_parts', 'dlr_status', 'dlr_at', 'network_code', 'last_error');
  });
}
