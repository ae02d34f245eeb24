import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../db';
import { audit } from './audit';
import type { BlindIndex } from './blind-index';
import { dummyHash, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords';

export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** After this many wrong passwords in a row, the account is locked for LOCK_MINUTES. */
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MINUTES = 15;
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export interface StaffMember {
  id: number;
  username: string;
  name: string;
  role: Role;
  centreCode: string;
  centreName: string;
  active: boolean;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
}

/** Who is acting, and through which door (the console or the JSON API): every audit row says both. */
export interface Actor {
  staffId: number;
  username: string;
  role: Role;
  centreCode: string;
  channel: 'staff' | 'api';
}

export const actorOf = (s: StaffMember, channel: 'staff' | 'api'): Actor => ({ staffId: s.id, username: s.username, role: s.role, centreCode: s.centreCode, channel });

export type LoginResult =
  | { kind: 'ok'; staff: StaffMember }
  /** Wrong username or password: one answer for both. */
  | { kind: 'bad' }
  | { kind: 'locked' }
  | { kind: 'inactive' };

export type CreateResult =
  | { kind: 'created'; staff: StaffMember }
  | { kind: 'bad_username' | 'username_taken' | 'bad_role' | 'unknown_centre' | 'too_short' | 'too_long' | 'same_as_username' | 'bad_name' };

export interface NewStaff {
  username: string;
  name: string;
  role: string;
  centreCode: string;
  password: string;
}

export interface TokenInfo {
  id: number;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** SHA-256 of a bearer token: tokens are 32 random bytes, nothing to brute-force, so no slow hash. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Staff accounts: creation, password login with lockout, and API tokens. Passwords are argon2id
 * hashes; a token is kept as its SHA-256. Unknown usernames are rate-limited in Redis exactly like
 * known ones are locked in Postgres, so the login answers do not tell which usernames exist.
 */
export class StaffService {
  private readonly unknownUsers: RateLimiterRedis;
  private readonly now: () => Date;

  constructor(private readonly deps: { db: Db; redis: Redis; redisPrefix: string; blind: BlindIndex; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
    this.unknownUsers = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: `${deps.redisPrefix}rl:staff-login-unknown`,
      points: MAX_FAILED_LOGINS,
      duration: LOCK_MINUTES * 60,
    });
  }

  private query() {
    return this.deps.db('staff as s')
      .join('centres as c', 'c.code', 's.centre_code')
      .select('s.id', 's.username', 's.name', 's.role', 's.centre_code', 'c.name as centre_name', 's.active', 's.locked_until', 's.last_login_at', 's.password_hash', 's.failed_logins');
  }

  private static toMember(r: Record<string, unknown>): StaffMember {
    return {
      id: Number(r.id),
      username: String(r.username),
      name: String(r.name),
      role: r.role as Role,
      centreCode: String(r.centre_code),
      centreName: String(r.centre_name),
      active: Boolean(r.active),
      lockedUntil: r.locked_until ? new Date(r.locked_until as string) : null,
      lastLoginAt: r.last_login_at ? new Date(r.last_login_at as string) : null,
    };
  }

  async byId(id: number): Promise<StaffMember | null> {
    const row = await this.query().where('s.id', id).first();
    return row ? StaffService.toMember(row) : null;
  }

  async byUsername(username: string): Promise<StaffMember | null> {
    const row = await this.query().whereRaw('lower(s.username) = ?', [username.trim().toLowerCase()]).first();
    return row ? StaffService.toMember(row) : null;
  }

  async list(opts: { centreCode?: string } = {}): Promise<StaffMember[]> {
    const q = this.query().orderBy([{ column: 's.centre_code' }, { column: 's.username' }]);
    if (opts.centreCode) q.where('s.centre_code', opts.centreCode);
    return (await q).map(StaffService.toMember);
  }

  async centres(): Promise<Array<{ code: string; name: string }>> {
    return this.deps.db('centres').where({ status: 'operational' }).orderBy('name').select('code', 'name');
  }

  /** Creates an account. `by` is the admin doing it (null from the command line). */
  async create(input: NewStaff, by: Actor | null): Promise<CreateResult> {
    const username = input.username.trim().toLowerCase();
    const name = input.name.trim();
    if (!USERNAME.test(username)) return { kind: 'bad_username' };
    if (name.length < 2 || name.length > 120) return { kind: 'bad_name' };
    if (!(ROLES as readonly string[]).includes(input.role)) return { kind: 'bad_role' };
    const problem = passwordProblem(input.password, username);
    if (problem) return { kind: problem };
    const { db } = this.deps;
    if (!(await db('centres').where({ code: input.centreCode }).first('code'))) return { kind: 'unknown_centre' };
    if (await this.byUsername(username)) return { kind: 'username_taken' };
    const passwordHash = await hashPassword(input.password);
    let id: number;
    try {
      const [row] = await db('staff')
        .insert({ username, name, role: input.role, centre_code: input.centreCode, password_hash: passwordHash, created_by: by?.staffId ?? null })
        .returning('id');
      id = Number(row.id);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return { kind: 'username_taken' };
      throw err;
    }
    await audit(db, {
      actorType: by ? 'staff' : 'system', staffId: by?.staffId, centreCode: by?.centreCode, channel: by?.channel ?? 'staff',
      action: 'staff_create', outcome: 'ok', detail: { staffId: id, username, role: input.role, centre: input.centreCode },
    });
    return { kind: 'created', staff: (await this.byId(id)) as StaffMember };
  }

  /**
   * Password login. Five wrong passwords in a row lock the account for 15 minutes (counted in one
   * UPDATE, so parallel guesses cannot slip past the limit); a lock is not extended by more tries.
   */
  async login(usernameRaw: string, password: string, meta: { ip?: string } = {}): Promise<LoginResult> {
    const { db, blind } = this.deps;
    const username = usernameRaw.trim().toLowerCase().slice(0, 64);
    const row = username ? await this.query().whereRaw('lower(s.username) = ?', [username]).first() : undefined;
    const now = this.now();
    const log = (staffId: number | undefined, centreCode: string | undefined, outcome: string) =>
      audit(db, { actorType: 'staff', staffId, centreCode, channel: 'staff', action: 'staff_login', outcome, detail: meta.ip ? { ip: meta.ip } : undefined });

    if (!row) {
      await verifyPassword(await dummyHash(), password); // the same time as a known username
      const key = blind.text(`staff-user:${username}`);
      try {
        await this.unknownUsers.consume(key);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        await log(undefined, undefined, 'locked');
        return { kind: 'locked' };
      }
      await log(undefined, undefined, 'bad_password');
      return { kind: 'bad' };
    }

    const member = StaffService.toMember(row);
    if (member.lockedUntil && member.lockedUntil > now) {
      await log(member.id, member.centreCode, 'locked');
      return { kind: 'locked' };
    }
    if (!(await verifyPassword(String(row.password_hash), password))) {
      const [after] = await db('staff')
        .where({ id: member.id })
        .update({
          failed_logins: db.raw('CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END', [MAX_FAILED_LOGINS]),
          locked_until: db.raw(`CASE WHEN failed_logins + 1 >= ? THEN ?::timestamptz ELSE locked_until END`, [MAX_FAILED_LOGINS, new Date(now.getTime() + LOCK_MINUTES * 60_000)]),
          updated_at: now,
        })
        .returning(['locked_until']);
      const lockedNow = after?.locked_until && new Date(after.locked_until) > now;
      await log(member.id, member.centreCode, lockedNow ? 'locked_now' : 'bad_password');
      return lockedNow ? { kind: 'locked' } : { kind: 'bad' };
    }
    if (!member.active) {
      await log(member.id, member.centreCode, 'inactive');
      return { kind: 'inactive' };
    }
    const update: Record<string, unknown> = { failed_logins: 0, locked_until: null, last_login_at: now, updated_at: now };
    if (needsRehash(String(row.password_hash))) update.password_hash = await hashPassword(password);
    await db('staff').where({ id: member.id }).update(update);
    await log(member.id, member.centreCode, 'ok');
    return { kind: 'ok', staff: { ...member, lastLoginAt: now } };
  }

  async logout(actor: Actor): Promise<void> {
    await audit(this.deps.db, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action: 'staff_logout', outcome: 'ok' });
  }

  /**
   * A staff member changes their own password: the current one is asked again (a counter PC left
   * logged in must not let a passer-by take the account), the new one meets the same rules as at
   * creation. A wrong current password counts toward the lockout like a failed login.
   */
  async changePassword(actor: Actor, current: string, next: string): Promise<'ok' | 'bad_current' | 'too_short' | 'too_long' | 'same_as_username' | 'not_found'> {
    const { db } = this.deps;
    const row = await db('staff').where({ id: actor.staffId }).first('username', 'password_hash');
    if (!row) return 'not_found';
    const log = (outcome: string) => audit(db, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action: 'password_change', outcome });
    if (!(await verifyPassword(String(row.password_hash), current))) {
      await db('staff').where({ id: actor.staffId }).update({ failed_logins: db.raw('failed_logins + 1'), updated_at: this.now() });
      await log('bad_current');
      return 'bad_current';
    }
    const problem = passwordProblem(next, String(row.username));
    if (problem) {
      await log(problem);
      return problem;
    }
    await db('staff').where({ id: actor.staffId }).update({ password_hash: await hashPassword(next), failed_logins: 0, updated_at: this.now() });
    await log('ok');
    return 'ok';
  }

  /** Admin changes: activate, deactivate, unlock. An admin cannot deactivate themselves (no lock-out of the last admin by accident). */
  async update(by: Actor, staffId: number, change: 'activate' | 'deactivate' | 'unlock'): Promise<'ok' | 'not_found' | 'self'> {
    const { db } = this.deps;
    const target = await this.byId(staffId);
    if (!target) return 'not_found';
    if (change === 'deactivate' && staffId === by.staffId) return 'self';
    const now = this.now();
    const values =
      change === 'unlock' ? { failed_logins: 0, locked_until: null } : { active: change === 'activate' };
    await db.transaction(async (trx) => {
      await trx('staff').where({ id: staffId }).update({ ...values, updated_at: now });
      // A deactivated member's API tokens stop working at once (sessions are checked on every request).
      if (change === 'deactivate') await trx('staff_tokens').where({ staff_id: staffId }).whereNull('revoked_at').update({ revoked_at: now });
      await audit(trx, { actorType: 'staff', staffId: by.staffId, centreCode: by.centreCode, channel: by.channel, action: `staff_${change}`, outcome: 'ok', detail: { staffId, username: target.username } });
    });
    return 'ok';
  }

  /** A new API token for a staff member, returned once; only its hash is kept. */
  async issueToken(by: Actor | null, staffId: number, label: string, ttlDays = 90): Promise<{ id: number; token: string; expiresAt: Date } | null> {
    const { db } = this.deps;
    const target = await this.byId(staffId);
    if (!target || !target.active) return null;
    const token = `simu_st_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.now().getTime() + ttlDays * 86_400_000);
    const cleanLabel = label.trim().slice(0, 80) || 'api';
    const id = await db.transaction(async (trx) => {
      const [row] = await trx('staff_tokens')
        .insert({ staff_id: staffId, token_hash: tokenHash(token), label: cleanLabel, created_by: by?.staffId ?? null, expires_at: expiresAt })
        .returning('id');
      await audit(trx, {
        actorType: by ? 'staff' : 'system', staffId: by?.staffId, centreCode: by?.centreCode, channel: by?.channel ?? 'staff',
        action: 'token_issue', outcome: 'ok', detail: { staffId, tokenId: Number(row.id), label: cleanLabel },
      });
      return Number(row.id);
    });
    return { id, token, expiresAt };
  }

  async tokens(staffId: number): Promise<TokenInfo[]> {
    const rows = await this.deps.db('staff_tokens').where({ staff_id: staffId }).orderBy('id', 'desc');
    return rows.map((r) => ({
      id: Number(r.id), label: r.label, createdAt: new Date(r.created_at),
      expiresAt: r.expires_at ? new Date(r.expires_at) : null, lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null, revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
    }));
  }

  async revokeToken(by: Actor, tokenId: number): Promise<'ok' | 'not_found'> {
    const { db } = this.deps;
    return db.transaction(async (trx) => {
      const n = await trx('staff_tokens').where({ id: tokenId }).whereNull('revoked_at').update({ revoked_at: this.now() });
      if (n === 0) return 'not_found';
      await audit(trx, { actorType: 'staff', staffId: by.staffId, centreCode: by.centreCode, channel: by.channel, action: 'token_revoke', outcome: 'ok', detail: { tokenId } });
      return 'ok';
    });
  }

  /** The active staff member a bearer token belongs to, or null (unknown, revoked, expired, or the member is inactive). */
  async authenticateToken(token: string): Promise<StaffMember | null> {
    if (!/^simu_st_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const { db } = this.deps;
    const now = this.now();
    const row = await db('staff_tokens')
      .where({ token_hash: tokenHash(token) })
      .whereNull('revoked_at')
      .where((q) => void q.whereNull('expires_at').orWhere('expires_at', '>', now))
      .first('id', 'staff_id', 'last_used_at');
    if (!row) return null;
    const member = await this.byId(Number(row.staff_id));
    if (!member || !member.active) return null;
    // Record use at most once a minute: no write per request.
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > 60_000) {
      await db('staff_tokens').where({ id: row.id }).update({ last_used_at: now });
    }
    return member;
  }
}
