/**
 * How much of a USSD/SMS budget a text costs, in the encoding it will travel in.
 * GSM 03.38 default alphabet: 1 septet a character; its extension table (^{}\[~]|€) costs 2.
 * One character outside both makes the whole message UCS-2, where each UTF-16 unit costs 16 bits:
 * a 160-septet budget (140 bytes) then holds 70 characters.
 */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENDED = '^{}\\[~]|€\f';

const basic = new Set(BASIC);
const extended = new Set(EXTENDED);

export type Encoding = 'gsm7' | 'ucs2';

export function encodingOf(text: string): Encoding {
  for (const ch of text) if (!basic.has(ch) && !extended.has(ch)) return 'ucs2';
  return 'gsm7';
}

/** Septets the text needs in GSM-7, or null when it cannot be sent in GSM-7. */
export function septets(text: string): number | null {
  let n = 0;
  for (const ch of text) {
    if (basic.has(ch)) n += 1;
    else if (extended.has(ch)) n += 2;
    else return null;
  }
  return n;
}

/** Does `text` fit a budget of `limit` GSM-7 characters, counted in the encoding it will use? */
export function fits(text: string, limit: number): boolean {
  const s = septets(text);
  if (s !== null) return s <= limit;
  return text.length <= Math.floor((limit * 7) / 16);
}

/**
 * Typographic punctuation that phones and editors slip in (curly quotes, dashes, ellipsis) has a
 * plain twin in GSM-7. Replacing it keeps "Murang’a" from halving a screen's budget. Letters are
 * never changed: a name with an accent stays as it is and is counted as UCS-2.
 */
export function plainPunctuation(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201A\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201E\u2033]/g, '"')
    .replace(/[\u2013\u2014\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/\u00A0/g, ' ');
}
