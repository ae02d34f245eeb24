import type { Lang, Msg, Param } from '../../flows/types';
import * as common from './common';
import * as status from './status';
import * as reset from './reset';
import * as sms from './sms';
import * as booking from './booking';
import * as staff from './staff';

/**
 * The language catalogues: one module per area, each with `en` and `sw` side by side. A new area
 * (a new flow's screens) is one new module added to `modules` below.
 */
const modules = [common, status, reset, booking, sms, staff] as const;

type Module = (typeof modules)[number];
type KeysOf<M> = M extends { en: infer E } ? keyof E : never;
export type MessageKey = KeysOf<Module>;

function merge(lang: Lang): Record<MessageKey, string> {
  const out: Record<string, string> = {};
  for (const m of modules) {
    for (const [k, v] of Object.entries(m[lang])) {
      if (k in out) throw new Error(`catalogue key defined twice: ${k}`);
      out[k] = v;
    }
  }
  return out as Record<MessageKey, string>;
}

export const catalogues: Record<Lang, Record<MessageKey, string>> = { en: merge('en'), sw: merge('sw') };

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(catalogues.en, key);
}

/** One message in one language, with `{param}` filled in. A missing parameter is left visible, not blank. */
export function translate(lang: Lang, m: Msg): string {
  if ('text' in m) return m.text;
  const template = catalogues[lang][m.key];
  if (!m.params) return template;
  const params = m.params;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const p: Param | undefined = params[name];
    if (p === undefined) return whole;
    return typeof p === 'object' ? translate(lang, p) : String(p);
  });
}
