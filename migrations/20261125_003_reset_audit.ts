import type { Knex } from 'knex';

/**
 * Login-code resets and the audit log.
 *
 * `login_codes` keeps a code only as an HMAC (`code_hash`), plus a sealed (AES-GCM) copy for the
 * ten minutes it is valid, so that if AT reports its SMS undelivered the next dial can show it on
 * screen. The sealed copy is cleared once shown or superseded.
 *
 * `audit_log` is append-only: a trigger refuses UPDATE and DELETE for everyone, the application
 * included. Rows name the citizen by id and hashed ID number, the phone masked, never in full.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_codes', (t) => {
    t.bigIncrements('id');
    t.integer('citizen_id').notNullable().references('citizens.id').onDelete('CASCADE').index();
    t.string('code_hash', 64).notNullable();
    t.text('code_sealed');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('used_at', { useTz: true });
    t.timestamp('shown_again_at', { useTz: true });
    t.bigInteger('sms_id').references('sms_outbound.id');
    t.string('channel', 16).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('actor_type', 16).notNullable(); // citizen | staff | system
    t.integer('staff_id');
    t.string('centre_code');
    t.integer('citizen_id').references('citizens.id');
    t.string('id_hash', 64);
    t.string('phone_masked', 20);
    t.string('channel', 16).notNullable(); // ussd | sms | staff | api
    t.string('action', 48).notNullable();
    t.string('outcome', 32).notNullable();
    t.jsonb('detail');
    t.index(['citizen_id', 'at']);
    t.index(['centre_code', 'at']);
  });
  await knex.raw(`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
    CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
  await knex.raw('DROP FUNCTION IF EXISTS audit_log_append_only()');
  await knex.schema.dropTableIfExists('login_codes');
}
