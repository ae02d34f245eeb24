import type { Knex } from 'knex';

/**
 * Issue 10, finding 2: `sms_inbound` kept every SMS's text and sender in full, forever, so the ID
 * numbers, years of birth and phone numbers that citizens text (`STATUS <number> <ID number>`, the
 * answers of the RESET conversation, even messages refused by the flood limit) were at rest in
 * clear. A row now keeps only what deduplication and the record need:
 *
 * - `at_id` (AT's id: a redelivered message is recognised), `outcome`, the times, AT's routing
 *   fields (`to_code`, `link_id`, `network_code`, `at_date`);
 * - `keyword`: the SMS keyword the message began with, as the router read it (STATUS, HALI, RESET,
 *   STOP …), or null for anything else (an answer in a conversation, free text). Never the rest of the text;
 * - `from_hash`: the sender as a keyed hash (`BlindIndex.phone`, as for opt-outs and preferences):
 *   support can find a phone's messages by hashing the number, a dump cannot read it.
 *
 * The text and the full number of rows stored before this migration are dropped with their columns
 * (their `from_hash` stays null: the migration does not hold the key).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sms_inbound', (t) => {
    t.dropColumn('text');
    t.dropColumn('from_phone');
    t.string('from_hash', 64);
    t.string('keyword', 16);
    t.index(['from_hash', 'received_at']);
  });
}

/** Brings the columns back, empty: what was dropped cannot come back. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sms_inbound', (t) => {
    t.dropIndex(['from_hash', 'received_at']);
    t.dropColumn('keyword');
    t.dropColumn('from_hash');
    t.string('from_phone', 16);
    t.text('text');
  });
}
