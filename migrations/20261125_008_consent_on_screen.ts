import type { Knex } from 'knex';

/**
 * The consent code can also be shown on the citizen's own screen when they dial the short code
 * while the code is pending (issue 6): a sealed (AES-GCM) copy for the minutes it is valid, cleared
 * once it is verified, the visit closes or a new code replaces it. The HMAC stays the only thing
 * the check compares against.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('consents', (t) => {
    t.text('code_sealed');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('consents', (t) => {
    t.dropColumn('code_sealed');
  });
}
