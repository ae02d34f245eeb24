import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * A fault in the test's own database: every INSERT into `table` (matching `when`, an SQL condition
 * on NEW) fails with an error, as a full disk or a broken constraint would. This is how a test proves
 * that two writes share a transaction: fail the later one and look for the earlier one.
 * Returns a function that removes the fault.
 */
export async function failInserts(db: Knex, table: string, when = 'true'): Promise<() => Promise<void>> {
  const name = `test_fault_${randomBytes(4).toString('hex')}`;
  await db.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test fault: insert into ${table} refused'; END $$`);
  await db.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
  return async () => {
    await db.raw(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
    await db.raw(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}
