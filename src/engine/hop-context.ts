import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lang } from '../../flows/types';

/**
 * Who is on the line during one hop. Flow actors need the dialling phone for their lookups, but
 * the phone must not enter the flow's context: the context is persisted in Redis, and phone
 * numbers are kept out of Redis. So the engine runs each hop inside this context, and the actor
 * implementations (src/engine/actors.ts) read it.
 */
export interface Hop {
  phone: string;
  lang: Lang;
  channel: 'ussd' | 'sms';
  sessionId: string;
}

const storage = new AsyncLocalStorage<Hop>();

export function runInHop<T>(hop: Hop, fn: () => T): T {
  return storage.run(hop, fn);
}

export function currentHop(): Hop {
  const hop = storage.getStore();
  if (!hop) throw new Error('flow actor called outside a hop');
  return hop;
}
