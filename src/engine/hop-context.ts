import type { Lang } from '../../flows/types';

/**
 * Who is on the line during one hop. Flow actors need the dialling phone for their lookups, but
 * the phone must not enter the flow's context: the context is persisted in Redis, and phone
 * numbers are kept out of Redis. So the engine runs each step of a flow inside `runInHop`, and the
 * actor implementations (src/engine/actors.ts) read it with `currentHop()`.
 *
 * XState starts an invoked actor synchronously, inside the `send` or `start` that entered its
 * state, so a plain variable set around that synchronous call is enough. (An AsyncLocalStorage did
 * this before; on Node 20 it hooks every promise of the process, for no use here.) An actor must
 * therefore read `currentHop()` before its first `await`; one that reads it later throws instead of
 * seeing another hop's phone.
 */
export interface Hop {
  phone: string;
  lang: Lang;
  channel: 'ussd' | 'sms';
  sessionId: string;
}

let current: Hop | undefined;

export function runInHop<T>(hop: Hop, fn: () => T): T {
  const outer = current;
  current = hop;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

export function currentHop(): Hop {
  if (!current) throw new Error('flow actor called outside a hop (or after its first await)');
  return current;
}
