import type { Msg, Param, Screen } from '../../flows/types';
import type { MessageKey } from '../i18n';

/**
 * One-time codes on USSD screens (a new login code, a login code whose SMS failed, a Huduma
 * Centre consent code) are shown once and never kept in clear in Redis: the session saves its last
 * reply with the code masked (a retried hop answers the same screen, masked: the code also went by
 * SMS) and its flow snapshot without it (a screen drawn again from the session shows the mask).
 */
export const CODE_MASK = '******';

/** Messages whose `{code}` is a one-time code (a booking code, also `{code}`, is not secret). */
const ONE_TIME_CODE_MESSAGES: ReadonlySet<MessageKey> = new Set<MessageKey>(['reset.issued', 'reset.issued_here', 'notice.undelivered_code', 'notice.consent_code']);

const isParamMsg = (p: Param): p is Msg => typeof p === 'object';

function codesIn(m: Msg | undefined, out: Set<string>): void {
  if (!m || !('key' in m)) return;
  const code = m.params?.code;
  if (ONE_TIME_CODE_MESSAGES.has(m.key) && typeof code === 'string' && code !== '' && code !== CODE_MASK) out.add(code);
  for (const p of Object.values(m.params ?? {})) if (isParamMsg(p)) codesIn(p, out);
}

/** The one-time codes a screen shows. */
export function oneTimeCodesOf(screen: Screen): string[] {
  const out = new Set<string>();
  for (const m of [screen.error, ...screen.lines, ...(screen.items ?? [])]) codesIn(m, out);
  return [...out];
}

/** The reply as a retry may see it again: every code replaced by the mask. */
export function maskCodes(text: string, codes: readonly string[]): string {
  return codes.reduce((t, code) => t.split(code).join(CODE_MASK), text);
}

/**
 * A copy of a persisted snapshot with every string that is exactly one of the codes replaced by
 * the mask (whole values only: a reference that happens to contain the digits is left alone).
 */
export function forgetCodes<T>(snapshot: T, codes: readonly string[]): T {
  if (codes.length === 0) return snapshot;
  const secret = new Set(codes);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return secret.has(v) ? CODE_MASK : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(snapshot) as T;
}
