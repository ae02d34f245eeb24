import type { Db } from './index';

/**
 * Why the gateway's database role could rewrite history (issue 10, finding 16), or nothing. The
 * audit log's triggers stop UPDATE, DELETE and TRUNCATE, but a superuser can turn triggers off
 * (`session_replication_role`) and the table's owner can `DISABLE TRIGGER`: the gateway must run
 * as a role that is neither (README "Database roles"). Checked at start in production.
 */
export async function auditRoleProblems(db: Db): Promise<string[]> {
  const { rows } = await db.raw(`
    SELECT current_user AS role, r.rolsuper AS superuser,
           (SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = to_regclass('audit_log')) AS owns_audit_log
      FROM pg_roles r WHERE r.rolname = current_user`);
  const r = rows[0] as { role: string; superuser: boolean; owns_audit_log: boolean | null } | undefined;
  if (!r) return [];
  const problems: string[] = [];
  if (r.superuser) problems.push(`the database role "${r.role}" is a superuser: it can switch off the triggers that keep audit_log append-only`);
  if (r.owns_audit_log) problems.push(`the database role "${r.role}" owns audit_log (or is a member of its owner): it can disable its triggers and rewrite the log`);
  return problems;
}
