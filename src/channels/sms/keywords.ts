import type { Lang } from '../../../flows/types';

/**
 * The SMS keywords, English and Kiswahili. The first word decides, in any case and with or without
 * accents or punctuation ("Hali," = "HALI"). A keyword's language is the language of the reply; the
 * neutral ones (HELP-like words shared by both) reply in the phone's saved language.
 */
export type Command = 'status' | 'mine' | 'book' | 'reset' | 'cancel' | 'help' | 'stop' | 'start';

const KEYWORDS: Record<string, { command: Command; lang: Lang }> = {
  STATUS: { command: 'status', lang: 'en' },
  HALI: { command: 'status', lang: 'sw' },
  MY: { command: 'mine', lang: 'en' },
  MINE: { command: 'mine', lang: 'en' },
  YANGU: { command: 'mine', lang: 'sw' },
  BOOK: { command: 'book', lang: 'en' },
  MIADI: { command: 'book', lang: 'sw' },
  RESET: { command: 'reset', lang: 'en' },
  BADILISHA: { command: 'reset', lang: 'sw' },
  CODE: { command: 'reset', lang: 'en' },
  CANCEL: { command: 'cancel', lang: 'en' },
  FUTA: { command: 'cancel', lang: 'sw' },
  GHAIRI: { command: 'cancel', lang: 'sw' },
  HELP: { command: 'help', lang: 'en' },
  MSAADA: { command: 'help', lang: 'sw' },
  USAIDIZI: { command: 'help', lang: 'sw' },
  STOP: { command: 'stop', lang: 'en' },
  ACHA: { command: 'stop', lang: 'sw' },
  ONDOKA: { command: 'stop', lang: 'sw' },
  TOKA: { command: 'stop', lang: 'sw' },
  SITISHA: { command: 'stop', lang: 'sw' },
  START: { command: 'start', lang: 'en' },
  ANZA: { command: 'start', lang: 'sw' },
};

export interface ParsedSms {
  command: Command;
  /** The keyword as read (STATUS, HALI …): what `sms_inbound` keeps of a message, never the rest. */
  keyword: string;
  /** The language the keyword was written in. */
  lang: Lang;
  /** The words after the keyword, as typed (digits with spaces inside a number are joined by the handler). */
  args: string[];
}

const normalise = (word: string) =>
  word
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toUpperCase();

/**
 * The keyword and its arguments, or null when the first word is no keyword. STOP and START count
 * only as the whole message ("STOP" opts out, "stop 1234" does not): a reply in a conversation must
 * never opt a citizen out by accident.
 */
export function parseSms(text: string): ParsedSms | null {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (!first) return null;
  const keyword = normalise(first);
  const hit = KEYWORDS[keyword];
  if (!hit) return null;
  if ((hit.command === 'stop' || hit.command === 'start') && words.length > 1) return null;
  return { command: hit.command, keyword, lang: hit.lang, args: words.slice(1) };
}
