import type { Knex } from 'knex';

/**
 * The SMS worker decides what is due by its own clock, the services' (src/sms/worker.ts
 * claimDueSms), not by the database's now(). A row inserted without a time is meant "at once":
 * its default is now the epoch, due on any clock, like SEND_AT_ONCE in src/sms/outbox.ts. (With
 * now() as the default, a row inserted in the same millisecond as a claim could miss it, the
 * database's clock having microseconds and the worker's milliseconds.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE sms_outbound ALTER COLUMN next_attempt_at SET DEFAULT '1970-01-01T00:00:00Z'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sms_outbound ALTER COLUMN next_attempt_at SET DEFAULT now()');
}
