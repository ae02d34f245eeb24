import type { Knex } from 'knex';

/**
 * Huduma Centre staff (issue 6): accounts, API tokens, citizen consents and phone changes.
 *
 * - `staff`: a password hash only (argon2id, PHC string), never the password. `failed_logins` and
 *   `locked_until` implement the lockout. Usernames are compared lower-case (a unique index on
 *   lower(username)).
 * - `staff_tokens`: bearer tokens for the JSON API, stored as SHA-256 of the token. A token is 32
 *   random bytes, so a fast hash is enough: there is nothing to brute-force. Shown once at issue.
 * - `consents`: one row per visit of a citizen to a staff member's counter. It starts when the staff
 *   member finds the citizen by ID number (the row holds the citizen id and the blind index, never
 *   the number), a 6-digit code goes by SMS to the registered phone (only its HMAC is kept here),
 *   and the visit is open once the citizen reads the code back: until `expires_at` (30 minutes).
 *   A consent belongs to the staff member who started it, at their centre.
 * - `phone_changes`: a new registered phone for a citizen who lost theirs. The agent types the new
 *   number after checking the ID card in person; a code sent to the new phone proves the citizen holds
 *   it (`unverified` → `pending`); a supervisor of the same centre approves or rejects it.
 *
 * `audit_log` was made append-only by a row trigger (UPDATE, DELETE) in 003. Row triggers do not
 * fire on TRUNCATE, so a statement trigger refuses that too, and the privileges to change rows are
 * revoked from PUBLIC. A role that does not own the table (see README "Database roles") then has
 * no way to change the log; the owner could only by altering the table itself (DDL, not DML).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('staff', (t) => {
    t.increments('id');
    t.string('username', 64).notNullable();
    t.string('name', 120).notNullable();
    t.text('password_hash').notNullable();
    t.string('role', 16).notNullable();
    t.string('centre_code').notNullable().references('centres.code');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('last_login_at', { useTz: true });
    t.integer('created_by').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['centre_code']);
  });
  await knex.raw("ALTER TABLE staff ADD CONSTRAINT staff_role_ck CHECK (role IN ('agent', 'supervisor', 'admin'))");
  await knex.raw("ALTER TABLE staff ADD CONSTRAINT staff_username_ck CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$')");
  await knex.raw('CREATE UNIQUE INDEX staff_username_uq ON staff (lower(username))');

  await knex.schema.createTable('staff_tokens', (t) => {
    t.increments('id');
    t.integer('staff_id').notNullable().references('staff.id').onDelete('CASCADE').index();
    t.string('token_hash', 64).notNullable().unique();
    t.string('label', 80).notNullable();
    t.integer('created_by').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
  });

  await knex.schema.createTable('consents', (t) => {
    t.bigIncrements('id');
    t.integer('staff_id').notNullable().references('staff.id');
    t.string('centre_code').notNullable().references('centres.code');
    t.integer('citizen_id').notNullable().references('citizens.id');
    t.string('id_hash', 64).notNullable();
    /** HMAC of the code (blind index `text`), null until a code is sent. */
    t.string('code_hash', 64);
    t.bigInteger('sms_id').references('sms_outbound.id');
    t.integer('code_attempts').notNullable().defaultTo(0);
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('code_expires_at', { useTz: true });
    t.timestamp('verified_at', { useTz: true });
    /** End of the visit: set when the code is verified (verified_at + 30 minutes). */
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['staff_id', 'created_at']);
    t.index(['citizen_id', 'created_at']);
  });

  await knex.schema.createTable('phone_changes', (t) => {
    t.bigIncrements('id');
    t.integer('citizen_id').notNullable().references('citizens.id');
    t.string('id_hash', 64).notNullable();
    t.bigInteger('consent_id').references('consents.id');
    t.string('old_phone', 16).notNullable();
    t.string('new_phone', 16).notNullable();
    t.string('centre_code').notNullable().references('centres.code');
    t.integer('requested_by').notNullable().references('staff.id');
    t.integer('approved_by').references('staff.id');
    /** unverified (code sent to the new phone) → pending → approved | rejected; cancelled. */
    t.string('status', 12).notNullable().defaultTo('unverified');
    t.string('code_hash', 64);
    t.integer('code_attempts').notNullable().defaultTo(0);
    t.timestamp('code_expires_at', { useTz: true });
    t.timestamp('verified_at', { useTz: true });
    t.timestamp('decided_at', { useTz: true });
    t.string('decision_note', 200);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['centre_code', 'status']);
    t.index(['citizen_id']);
  });
  await knex.raw("ALTER TABLE phone_changes ADD CONSTRAINT phone_changes_status_ck CHECK (status IN ('unverified', 'pending', 'approved', 'rejected', 'cancelled'))");
  // One open request per citizen: a second agent cannot race a first one.
  await knex.raw("CREATE UNIQUE INDEX phone_changes_one_open_uq ON phone_changes (citizen_id) WHERE status IN ('unverified', 'pending')");
  // Four eyes: whoever requested a change cannot approve it.
  await knex.raw('ALTER TABLE phone_changes ADD CONSTRAINT phone_changes_four_eyes_ck CHECK (approved_by IS NULL OR approved_by <> requested_by)');

  await knex.raw(`
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
  `);
  await knex.schema.alterTable('audit_log', (t) => {
    t.index(['staff_id', 'at']);
    t.index(['at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['staff_id', 'at']);
    t.dropIndex(['at']);
  });
  await knex.raw('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log');
  for (const table of ['phone_changes', 'consents', 'staff_tokens', 'staff']) await knex.schema.dropTableIfExists(table);
}
