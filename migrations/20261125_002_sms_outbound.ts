import type { Knex } from 'knex';

/**
 * The SMS outbox. A message is written here in the same transaction as the change that causes it
 * (a reset code, a booking), so the two commit or roll back together; a worker drains the table
 * with FOR UPDATE SKIP LOCKED. The row is both the job and the message's record: AT's messageId,
 * per-recipient status, attempts and the delivery report all live on it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sms_outbound', (t) => {
    t.bigIncrements('id');
    t.string('to_phone', 16).notNullable();
    t.text('body').notNullable();
    /** What the message is for: login_code, booking, reminder, alert, reply, consent … */
    t.string('kind', 32).notNullable();
    /** Essential messages (a code the citizen asked for) go out even to a phone that opted out of notifications. */
    t.boolean('essential').notNullable().defaultTo(true);
    /** queued → sending → sent → delivered | failed; cancelled (a reminder of a cancelled booking). */
    t.string('status', 16).notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    /** Not before: the first send (a reminder at 18:00) and every retry's backoff. */
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** Makes an enqueue idempotent (e.g. one reminder per booking). */
    t.string('dedupe_key', 128).unique();
    /** What caused it, e.g. booking:42; lets a cancellation cancel its reminder. */
    t.string('ref', 64).index();
    t.string('at_message_id', 64).unique();
    t.string('at_status', 32);
    t.integer('at_status_code');
    t.string('failure_reason', 128);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['status', 'next_attempt_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sms_outbound');
}
