import type { RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import type { Logger } from '../log';
import { SourceAllowList } from './addresses';

/**
 * The two checks every Africa's Talking callback passes before its body is read (USSD, USSD
 * end-of-session events, inbound SMS, delivery reports). AT signs nothing, so:
 * 1. the source address must be in `AT_CALLBACK_ALLOW` (when set) — the client address express
 *    computes under `TRUST_PROXY`, so a spoofed X-Forwarded-For counts only behind a trusted proxy;
 * 2. the `?token=` must be one of the webhook secrets (the current one, and the previous one during
 *    a rotation).
 */
export interface AtCallbackAccess {
  secrets: readonly string[];
  /** Null or empty: any source (the token alone guards the callbacks). */
  allow?: readonly string[] | null;
  logger?: Logger;
  /** Clock for the refusal log's rate limit (tests). */
  now?: () => number;
}

/** The secrets a callback may carry: WEBHOOK_SECRET, and WEBHOOK_SECRET_PREVIOUS while a rotation runs. */
export function webhookSecrets(config: Pick<Config, 'WEBHOOK_SECRET' | 'WEBHOOK_SECRET_PREVIOUS'>): string[] {
  return config.WEBHOOK_SECRET_PREVIOUS ? [config.WEBHOOK_SECRET, config.WEBHOOK_SECRET_PREVIOUS] : [config.WEBHOOK_SECRET];
}

export function atCallbackChecks(access: AtCallbackAccess): RequestHandler[] {
  const checks: RequestHandler[] = [];
  if (access.allow && access.allow.length > 0) checks.push(requireAllowedSource(access.allow, access.logger, access.now));
  checks.push(requireToken(access.secrets));
  return checks;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `?token=` must equal one of `secrets`. Compared as SHA-256 digests with timingSafeEqual, so the
 * time taken says nothing about the token's content or length; every secret is compared every time.
 */
export function requireToken(secrets: readonly string[]): RequestHandler {
  if (secrets.length === 0) throw new Error('requireToken needs at least one secret');
  const expected = secrets.map(digest);
  return (req, res, next) => {
    const given = digest(typeof req.query.token === 'string' ? req.query.token : '');
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(given, e) || ok;
    if (ok) return next();
    res.status(401).type('text/plain').send('unauthorized');
  };
}

/** How often a refused source is logged: one warning a minute at most (with the count since), so a flood cannot fill the log. */
const WARN_EVERY_MS = 60_000;

/** 403 for a source outside the allow-list. Logs the address and path (not the query: it holds the token), never the body (phone numbers). */
export function requireAllowedSource(entries: readonly string[], logger?: Logger, now: () => number = Date.now): RequestHandler {
  const allowList = new SourceAllowList(entries);
  let lastWarn = -Infinity;
  let refusedSince = 0;
  return (req, res, next) => {
    if (allowList.allows(req.ip)) return next();
    refusedSince++;
    if (now() - lastWarn >= WARN_EVERY_MS) {
      logger?.warn('AT callback refused: source not in AT_CALLBACK_ALLOW', { ip: req.ip, path: req.baseUrl + req.path, refusedSinceLastWarning: refusedSince });
      lastWarn = now();
      refusedSince = 0;
    }
    res.status(403).type('text/plain').send('forbidden');
  };
}
