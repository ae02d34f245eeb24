import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { createDb, migrate } from '../../src/db';
import { auditRoleProblems } from '../../src/db/role-check';

/**
 * Issue 10, finding 16: a gateway running as the owner of audit_log, or as a superuser, can switch
 * off the triggers that keep the log append-only. The start-up check names both; a role with only
 * the grants of README "Database roles" passes it.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

test('the postgres superuser (which also owns audit_log here) is reported', async () => {
  const problems = await auditRoleProblems(t.rt.db);
  expect(problems.join('\n')).toMatch(/"postgres" is a superuser/);
  expect(problems.join('\n')).toMatch(/owns audit_log/);
});

test('an application role with the documented grants passes, and cannot rewrite the log', async () => {
  const role = `simu_app_${randomBytes(4).toString('hex')}`;
  await t.rt.db.raw(`CREATE ROLE ${role} LOGIN`);
  const url = new URL(t.config.DATABASE_URL);
  url.username = role;
  const app = createDb(url.toString());
  try {
    // The grants of README "Database roles".
    await t.rt.db.raw(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await t.rt.db.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await t.rt.db.raw(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM ${role}`);
    await t.rt.db.raw(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    expect(await auditRoleProblems(app)).toEqual([]);
    await migrate(app); // the start-up migration finds nothing to do and needs no more rights
    await app('audit_log').insert({ actor_type: 'system', channel: 'staff', action: 'role_test', outcome: 'ok' });
    await expect(app('audit_log').where({ action: 'role_test' }).update({ outcome: 'changed' })).rejects.toThrow(/permission denied/);
    await expect(app.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change')).rejects.toThrow(/must be owner/);
    // Made the owner, the same role is reported.
    await t.rt.db.raw(`ALTER TABLE audit_log OWNER TO ${role}`);
    expect((await auditRoleProblems(app)).join('\n')).toMatch(new RegExp(`"${role}" owns audit_log`));
    await t.rt.db.raw('ALTER TABLE audit_log OWNER TO postgres');
  } finally {
    await app.destroy();
    await t.rt.db.raw(`DROP OWNED BY ${role}`);
    await t.rt.db.raw(`DROP ROLE ${role}`);
  }
});
