import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { MessageKey } from '../../i18n';
import type { Store } from '../../store/types';

/** A message for the next page (post/redirect/get), kept as a catalogue key so it follows the language. */
export interface Flash {
  level: 'ok' | 'error';
  key: MessageKey;
  params?: Record<string, string | number>;
}

export interface StaffSession {
  /** The signed-in member: there are no anonymous sessions (the login form's token is a cookie). */
  staffId: number;
  /** The synchroniser token every POST form carries. */
  csrf: string;
  createdAt: number;
  flash?: Flash;
}

/** Idle timeout: a counter PC left alone logs out after 30 minutes. */
export const IDLE_S = 30 * 60;
/** Absolute limit: a working day. */
export const ABSOLUTE_S = 12 * 60 * 60;

/**
 * Console sessions in the store (Redis or PostgreSQL): the cookie carries 32 random bytes, the
 * store's keys carry only their SHA-256, so a dump of the store cannot be replayed as cookies. A session exists only
 * once a login succeeded: the login form's CSRF token is a double-submit cookie, so an anonymous
 * visitor writes nothing to the store (issue 10, finding 7). A new id is issued at login (no session
 * fixation), the key is deleted at logout, and a password change ends every older session.
 */
export class StaffSessions {
  /** The login form's token cookie (`__Host-` in production, like the session's). */
  readonly loginCookieName: string;

  constructor(private readonly store: Store, readonly cookieName: string, private readonly secure: boolean) {
    this.loginCookieName = `${cookieName}_login`;
  }

  private key(sid: string): string {
    return `staff:sess:${createHash('sha256').update(sid).digest('hex')}`;
  }

  /** Sessions of this member created before the instant stored here are dead (set by a password change). */
  private sinceKey(staffId: number): string {
    return `staff:since:${staffId}`;
  }

  /** Ends every session of a member created before now (kept as long as a session can live). */
  async endAllBefore(staffId: number, at = Date.now()): Promise<void> {
    await this.store.set(this.sinceKey(staffId), String(at), ABSOLUTE_S * 1000);
  }

  /**
   * The login form's CSRF token: the value of its own cookie (HttpOnly, SameSite=Strict), set
   * when missing. A cross-site form can neither read nor set it, and nothing is stored server-side.
   */
  loginToken(req: Request, res: Response): string {
    const have = cookies(req)[this.loginCookieName];
    if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
    const token = randomBytes(32).toString('base64url');
    res.cookie(this.loginCookieName, token, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: '/' });
    return token;
  }

  /** Constant-time check of the login form's submitted token against its cookie. */
  loginTokenMatches(req: Request, submitted: unknown): boolean {
    const have = cookies(req)[this.loginCookieName];
    if (!have || typeof submitted !== 'string') return false;
    const a = Buffer.from(have);
    const b = Buffer.from(submitted);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async create(staffId: number): Promise<{ sid: string; session: StaffSession }> {
    const sid = randomBytes(32).toString('base64url');
    const session: StaffSession = { staffId, csrf: randomBytes(32).toString('base64url'), createdAt: Date.now() };
    await this.store.set(this.key(sid), JSON.stringify(session), IDLE_S * 1000);
    return { sid, session };
  }

  /** The session, its idle timeout renewed; null when unknown, expired or past the absolute limit. */
  async load(sid: string): Promise<StaffSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sid)) return null;
    const raw = await this.store.get(this.key(sid));
    if (!raw) return null;
    const session = JSON.parse(raw) as StaffSession;
    const since = Number(await this.store.get(this.sinceKey(session.staffId)));
    if (Date.now() - session.createdAt > ABSOLUTE_S * 1000 || session.createdAt < since) {
      await this.destroy(sid);
      return null;
    }
    await this.store.expire(this.key(sid), IDLE_S * 1000);
    return session;
  }

  async save(sid: string, session: StaffSession): Promise<void> {
    await this.store.set(this.key(sid), JSON.stringify(session), IDLE_S * 1000);
  }

  async destroy(sid: string): Promise<void> {
    await this.store.del(this.key(sid));
  }

  /** HttpOnly, SameSite=Lax, Path=/, Secure (and the __Host- name) in production; no Max-Age: it ends with the browser. */
  setCookie(res: Response, sid: string): void {
    res.cookie(this.cookieName, sid, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/' });
  }

  clearCookie(res: Response): void {
    res.clearCookie(this.cookieName, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/' });
  }
}

/** The request's cookies (a few lines instead of a dependency: we read two cookies). */
export function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

/** Constant-time check of a submitted CSRF token against the session's. */
export function csrfMatches(session: StaffSession | null, submitted: unknown): boolean {
  if (!session || typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
