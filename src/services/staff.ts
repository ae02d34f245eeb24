import { createHash, randomBytes } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types';
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
  /** When acting with an API token: which one, and who issued it (null: the command line). */
  token?: { id: number; issuedBy: number | null };
}

export const actorOf = (s: StaffMember, channel: 'staff' | 'api', token?: Actor['token']): Actor => ({
  staffId: s.id, username: s.username, role: s.role, centreCode: s.centreCode, channel, ...(token ? { token } : {}),
});

/** The audit detail naming the token an action was done with (issue 10, finding 4): `{}` in the console. */
export const tokenDetail = (actor: Actor | null | undefined): Record<string, unknown> => (actor?.token ? { token: actor.token } : {});

export type LoginResult =
  | { kind: 'ok'; staff: StaffMember }
  /** Wrong username or password, or a deactivated account: one answer for all. */
  | { kind: 'bad' }
  | { kind: 'locked' }
  /** Too many attempts from this address, or across the deployment: nothing was checked. */
  | { kind: 'throttled' };

/** Budgets of login attempts besides the per-account lock (config STAFF_LOGIN_PER_IP, STAFF_LOGIN_GLOBAL_PER_MIN). */
export interface LoginLimits {
  /** Failed attempts per client address per LOCK_MINUTES. */
  perIp: number;
  /** Failed attempts across the deployment per minute. */
  globalPerMin: number;
}
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIp: 30, globalPerMin: 120 };

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

export type IssueResult = { kind: 'issued'; id: number; token: string; expiresAt: Date } | { kind: 'not_found' } | { kind: 'not_own' };

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
 * hashes; a token is kept as its SHA-256. Password attempts are counted in the store per username
 * (keyed hash), the same way for known and unknown names, so the answers do not tell which exist.
 */
export class StaffService {
  private readonly attempts: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly global: RateLimiterAbstract;
  private readonly now: () => Date;

  constructor(private readonly deps: { db: Db; store: Store; blind: BlindIndex; now?: () => Date; limits?: LoginLimits }) {
    this.now = deps.now ?? (() => new Date());
    const limits = deps.limits ?? DEFAULT_LOGIN_LIMITS;
    const limiter = (name: string, points: number, duration: number) =>
      deps.store.rateLimiter({ keyPrefix: `rl:${name}`, points, duration });
    this.attempts = limiter('staff-login-account', MAX_FAILED_LOGINS, LOCK_MINUTES * 60);
    this.perIp = limiter('staff-login-ip', limits.perIp, LOCK_MINUTES * 60);
    this.global = limiter('staff-login-all', limits.globalPerMin, 60);
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

  /** The attempt counter of a username, the same for known and unknown names (no enumeration). */
  private accountKey(username: string): string {
    return this.deps.blind.text(`staff-user:${username.trim().toLowerCase().slice(0, 64)}`);
  }

  /**
   * Reserves one password check on an account before any verification (one atomic increment in the store),
   * so a burst of parallel guesses gets MAX_FAILED_LOGINS checks, not one per request. Returns the
   * attempt number, or null when the account is locked (nothing is verified then).
   */
  private async reserveAttempt(key: string): Promise<number | null> {
    try {
      return (await this.attempts.consume(key)).consumedPoints;
    } catch (err) {
      if (err instanceof RateLimiterRes) return null;
      throw err;
    }
  }

  /** After a right password: still locked if more attempts were reserved than allowed meanwhile (a burst). */
  private async lockedSince(key: string): Promise<boolean> {
    const r = await this.attempts.get(key);
    return !!r && r.consumedPoints > MAX_FAILED_LOGINS;
  }

  /** A wrong password (or a deactivated account): the attempt stays counted; the last allowed one locks. */
  private async recordFailure(key: string, attempt: number, staffId: number | null): Promise<boolean> {
    const lockedNow = attempt >= MAX_FAILED_LOGINS;
    if (lockedNow) await this.attempts.block(key, LOCK_MINUTES * 60);
    // Mirrored in Postgres for the admin page ("locked until", the unlock button); the store decides.
    // An unknown username runs the same UPDATE on no row: the same round trips either way.
    const now = this.now();
    await this.deps.db('staff').where({ id: staffId ?? 0 }).update({
      failed_logins: lockedNow ? 0 : attempt, updated_at: now,
      ...(lockedNow ? { locked_until: new Date(now.getTime() + LOCK_MINUTES * 60_000) } : {}),
    });
    return lockedNow;
  }

  /** Per-IP and deployment-wide budgets of login attempts, taken before any work; a success gives its point back. */
  private async throttled(ip: string | undefined): Promise<boolean> {
    try {
      if (ip) await this.perIp.consume(ip);
      await this.global.consume('all');
      return false;
    } catch (err) {
      if (err instanceof RateLimiterRes) return true;
      throw err;
    }
  }

  /**
   * Password login. MAX_FAILED_LOGINS wrong passwords lock the account for LOCK_MINUTES (a lock is
   * not extended by more tries). Every attempt is reserved atomically BEFORE the password is
   * checked, and a right password re-checks the lock after the (slow) check, so parallel guesses
   * cannot slip past the limit. Unknown usernames and deactivated accounts go through the same
   * steps (a dummy hash for unknown names) and get the same answers as a wrong password.
   */
  async login(usernameRaw: string, password: string, meta: { ip?: string } = {}): Promise<LoginResult> {
    const { db } = this.deps;
    const username = usernameRaw.trim().toLowerCase().slice(0, 64);
    const log = (staffId: number | undefined, centreCode: string | undefined, outcome: string) =>
      audit(db, { actorType: 'staff', staffId, centreCode, channel: 'staff', action: 'staff_login', outcome, detail: meta.ip ? { ip: meta.ip } : undefined });

    if (await this.throttled(meta.ip)) {
      await log(undefined, undefined, 'throttled');
      return { kind: 'throttled' };
    }
    const row = username ? await this.query().whereRaw('lower(s.username) = ?', [username]).first() : undefined;
    const member = row ? StaffService.toMember(row) : null;
    const key = this.accountKey(username);
    const attempt = await this.reserveAttempt(key);
    if (attempt === null) {
      await log(member?.id, member?.centreCode, 'locked'); // refused without checking the password
      return { kind: 'locked' };
    }
    const right = await verifyPassword(row ? String(row.password_hash) : await dummyHash(), password);
    if (!right || !member || !member.active) {
      const lockedNow = await this.recordFailure(key, attempt, member?.id ?? null);
      await log(member?.id, member?.centreCode, right && member ? 'inactive' : lockedNow ? 'locked_now' : 'bad_password');
      return lockedNow ? { kind: 'locked' } : { kind: 'bad' };
    }
    if (await this.lockedSince(key)) {
      await log(member.id, member.centreCode, 'locked_after_check');
      return { kind: 'locked' };
    }
    await this.attempts.delete(key);
    if (meta.ip) await this.perIp.reward(meta.ip);
    await this.global.reward('all');
    const now = this.now();
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
   * creation. A wrong current password counts toward the lockout exactly like a failed login (the
   * same reserved attempts): the MAX_FAILED_LOGINS-th locks the account, and `locked` tells the
   * console to end the session. A change revokes every API token of the member (the console ends
   * their other sessions).
   */
  async changePassword(actor: Actor, current: string, next: string): Promise<'ok' | 'bad_current' | 'locked' | 'too_short' | 'too_long' | 'same_as_username' | 'not_found'> {
    const { db } = this.deps;
    const row = await db('staff').where({ id: actor.staffId }).first('username', 'password_hash');
    if (!row) return 'not_found';
    const log = (outcome: string, detail?: Record<string, unknown>) =>
      audit(db, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action: 'password_change', outcome, detail: { ...tokenDetail(actor), ...detail } });
    const key = this.accountKey(String(row.username));
    const attempt = await this.reserveAttempt(key);
    if (attempt === null) {
      await log('locked');
      return 'locked';
    }
    if (!(await verifyPassword(String(row.password_hash), current))) {
      const lockedNow = await this.recordFailure(key, attempt, actor.staffId);
      await log(lockedNow ? 'locked_now' : 'bad_current');
      return lockedNow ? 'locked' : 'bad_current';
    }
    if (await this.lockedSince(key)) {
      await log('locked_after_check');
      return 'locked';
    }
    await this.attempts.delete(key);
    const problem = passwordProblem(next, String(row.username));
    if (problem) {
      await log(problem);
      return problem;
    }
    const now = this.now();
    const hash = await hashPassword(next);
    await db.transaction(async (trx) => {
      await trx('staff').where({ id: actor.staffId }).update({ password_hash: hash, failed_logins: 0, locked_until: null, updated_at: now });
      // Whoever knew the old password may hold a token: they all stop working now.
      const revoked = await trx('staff_tokens').where({ staff_id: actor.staffId }).whereNull('revoked_at').update({ revoked_at: now });
      await audit(trx, { actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action: 'password_change', outcome: 'ok', detail: { ...tokenDetail(actor), tokensRevoked: revoked } });
    });
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
    if (change === 'unlock') await this.attempts.delete(this.accountKey(target.username));
    await db.transaction(async (trx) => {
      await trx('staff').where({ id: staffId }).update({ ...values, updated_at: now });
      // A deactivated member's API tokens stop working at once (sessions are checked on every request).
      if (change === 'deactivate') await trx('staff_tokens').where({ staff_id: staffId }).whereNull('revoked_at').update({ revoked_at: now });
      await audit(trx, { actorType: 'staff', staffId: by.staffId, centreCode: by.centreCode, channel: by.channel, action: `staff_${change}`, outcome: 'ok', detail: { staffId, username: target.username, ...tokenDetail(by) } });
    });
    return 'ok';
  }

  /**
   * A new API token, returned once; only its hash is kept. A staff member gets tokens only for
   * themselves (`by` null: the command line, `npm run staff:add -- --token`): an admin minting a
   * supervisor's token could act as that supervisor (issue 10, finding 4). The refusal is audited.
   */
  async issueToken(by: Actor | null, staffId: number, label: string, ttlDays = 90): Promise<IssueResult> {
    const { db } = this.deps;
    if (by && by.staffId !== staffId) {
      await audit(db, { actorType: 'staff', staffId: by.staffId, centreCode: by.centreCode, channel: by.channel, action: 'token_issue', outcome: 'denied', detail: { staffId, reason: 'not_own', ...tokenDetail(by) } });
      return { kind: 'not_own' };
    }
    const target = await this.byId(staffId);
    if (!target || !target.active) return { kind: 'not_found' };
    const token = `simu_st_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.now().getTime() + ttlDays * 86_400_000);
    const cleanLabel = label.trim().slice(0, 80) || 'api';
    const id = await db.transaction(async (trx) => {
      const [row] = await trx('staff_tokens')
        .insert({ staff_id: staffId, token_hash: tokenHash(token), label: cleanLabel, created_by: by?.staffId ?? null, expires_at: expiresAt })
        .returning('id');
      await audit(trx, {
        actorType: by ? 'staff' : 'system', staffId: by?.staffId, centreCode: by?.centreCode, channel: by?.channel ?? 'staff',
        action: 'token_issue', outcome: 'ok', detail: { staffId, tokenId: Number(row.id), label: cleanLabel, ...tokenDetail(by) },
      });
      return Number(row.id);
    });
    return { kind: 'issued', id, token, expiresAt };
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
      await audit(trx, { actorType: 'staff', staffId: by.staffId, centreCode: by.centreCode, channel: by.channel, action: 'token_revoke', outcome: 'ok', detail: { tokenId, ...tokenDetail(by) } });
      return 'ok';
    });
  }

  /**
   * The active staff member a bearer token belongs to, with the token's id and issuer, or null
   * (unknown, revoked, expired, the member is inactive, or the token was minted by someone else
   * for them before tokens became own-only: such a token would let its issuer act as the member).
   */
  async authenticateToken(token: string): Promise<{ member: StaffMember; token: NonNullable<Actor['token']> } | null> {
    if (!/^simu_st_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const { db } = this.deps;
    const now = this.now();
    const row = await db('staff_tokens')
      .where({ token_hash: tokenHash(token) })
      .whereNull('revoked_at')
      .where((q) => void q.whereNull('expires_at').orWhere('expires_at', '>', now))
      .first('id', 'staff_id', 'created_by', 'last_used_at');
    if (!row) return null;
    const issuedBy = row.created_by === null ? null : Number(row.created_by);
    if (issuedBy !== null && issuedBy !== Number(row.staff_id)) return null;
    const member = await this.byId(Number(row.staff_id));
    if (!member || !member.active) return null;
    // Record use at most once a minute: no write per request.
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > 60_000) {
      await db('staff_tokens').where({ id: row.id }).update({ last_used_at: now });
    }
    return { member, token: { id: Number(row.id), issuedBy } };
  }
}
