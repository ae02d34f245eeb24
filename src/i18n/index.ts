import { en, type MessageKey } from './en';
import { sw } from './sw';
import type { Lang, Msg, Param } from '../../flows/types';

export type { MessageKey } from './en';

const catalogues: Record<Lang, Record<MessageKey, string>> = { en, sw };

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
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
