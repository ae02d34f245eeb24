import type { Knex } from 'knex';

/**
 * The core: citizens, their applications and status history, e-Citizen accounts, Huduma Centres,
 * bookable services, language preferences and USSD end-of-session events.
 *
 * Privacy: no ID number column exists. `id_hash` is an HMAC blind index (key ID_HASH_KEY) that
 * allows lookup by ID number without storing it. Language preferences are keyed by a hash of the
 * phone number: nothing needs the number back from that table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('centres', (t) => {
    t.string('code').primary();
    t.string('name').notNullable();
    t.string('county').notNullable();
    t.string('county_code', 3).notNullable();
    t.string('town');
    t.string('region').notNullable();
    t.string('location_hint');
    t.string('huduma_code');
    t.string('status').notNullable(); // operational | planned
  });

  await knex.schema.createTable('services', (t) => {
    t.string('code').primary();
    t.string('agency').notNullable();
    t.string('name').notNullable();
    t.integer('minutes').notNullable();
  });

  await knex.schema.createTable('citizens', (t) => {
    t.increments('id');
    t.string('id_hash', 64).notNullable().unique();
    t.string('first_name').notNullable();
    t.string('last_name').notNullable();
    t.date('birth_date').notNullable();
    t.string('phone', 16).notNullable().index(); // E.164, the registered phone
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('accounts', (t) => {
    t.integer('citizen_id').primary().references('citizens.id').onDelete('CASCADE');
    t.string('login_state').notNullable(); // ACTIVE | VERIFICATION_CODE_PENDING | LOCKED
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('applications', (t) => {
    t.increments('id');
    t.string('reference', 13).notNullable().unique();
    t.integer('citizen_id').notNullable().references('citizens.id').index();
    t.string('type').notNullable();
    t.string('status').notNullable();
    t.string('reason');
    t.string('collection_centre').references('centres.code');
    t.date('submitted_on').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('application_status_history', (t) => {
    t.increments('id');
    t.integer('application_id').notNullable().references('applications.id').onDelete('CASCADE').index();
    t.string('status').notNullable();
    t.string('reason');
    t.timestamp('at', { useTz: true }).notNullable();
    t.unique(['application_id', 'status', 'at']);
  });

  await knex.schema.createTable('preferences', (t) => {
    t.string('phone_hash', 64).primary();
    t.string('language', 2).notNullable(); // en | sw
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('ussd_events', (t) => {
    t.bigIncrements('id');
    t.string('session_id').notNullable().index();
    t.string('status').notNullable(); // Success | Incomplete | Failed | other
    t.integer('duration_ms');
    t.integer('hops');
    t.string('network_code', 8);
    t.string('error_message');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['ussd_events', 'preferences', 'application_status_history', 'applications', 'accounts', 'citizens', 'services', 'centres']) {
    await knex.schema.dropTableIfExists(table);
  }
}
