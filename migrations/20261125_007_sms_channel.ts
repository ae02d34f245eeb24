import type { Knex } from 'knex';

/**
 * SMS as a channel of its own: inbound messages (deduplicated by AT's id), opt-outs, subscriptions
 * to an application's status, and the agencies whose back offices push status changes.
 *
 * Opt-outs are kept by a hash of the phone number (nothing needs the number back from there).
 * Agency API tokens are stored only as SHA-256 hashes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sms_inbound', (t) => {
    t.bigIncrements('id');
    t.string('at_id', 128).notNullable().unique(); // AT retries for ~10 minutes: the same id comes again
    t.string('from_phone', 16).notNullable();
    t.string('to_code', 32);
    t.text('text').notNullable();
    t.string('link_id', 128);
    t.string('network_code', 8);
    t.string('at_date', 40);
    t.string('outcome', 32); // what the router did: keyword name, conversation, rate_limited …
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('handled_at', { useTz: true });
  });

  await knex.schema.createTable('opt_outs', (t) => {
    t.string('phone_hash', 64).primary();
    t.string('keyword', 16).notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('subscriptions', (t) => {
    t.bigIncrements('id');
    t.integer('application_id').notNullable().references('applications.id').onDelete('CASCADE');
    t.string('phone', 16).notNullable(); // where to send: kept in full, like a citizen's registered phone
    t.string('channel', 8).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['application_id', 'phone']);
  });

  await knex.schema.createTable('agencies', (t) => {
    t.string('code').primary(); // immigration, nrb, civil_registration, dci, ntsa, brs, kra
    t.string('name').notNullable();
    t.string('agency_code', 2).notNullable(); // the first two digits of its application references
  });

  await knex.schema.createTable('agency_tokens', (t) => {
    t.bigIncrements('id');
    t.string('agency').notNullable().references('agencies.code');
    t.string('token_hash', 64).notNullable().unique();
    t.string('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['agency_tokens', 'agencies', 'subscriptions', 'opt_outs', 'sms_inbound']) await knex.schema.dropTableIfExists(table);
}
