/**
 * The screen and SMS budget, counted by the tests themselves (not with src/engine/gsm7.ts, the code
 * under test): a text costs 7 bits a character in the GSM 03.38 default alphabet (14 for a character
 * of its extension table), and 16 bits a UTF-16 unit as soon as one character is in neither (UCS-2).
 * A budget of `limit` GSM-7 characters is `7 × limit` bits: 160 → 140 bytes → 70 UCS-2 characters.
 */

// GSM 03.38 default alphabet, row by row as the standard's table lists it (0x00–0x7F); 0x1B is the escape.
const GSM7_ROWS = [
  '@£$¥èéùìòÇ\nØø\rÅå',
  'Δ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ',
  ' !"#¤%&\'()*+,-./',
  '0123456789:;<=>?',
  '¡ABCDEFGHIJKLMNO',
  'PQRSTUVWXYZÄÖÑÜ§',
  '¿abcdefghijklmno',
  'pqrstuvwxyzäöñüà',
];
const ESCAPE = '\u001b';
if (GSM7_ROWS.some((row) => [...row].length !== 16)) throw new Error('GSM-7 table: every row has 16 characters');
const DEFAULT_ALPHABET = new Set([...GSM7_ROWS.join('')].filter((c) => c !== ESCAPE));
// Reached through the escape: two septets each.
const EXTENSION = new Set(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);

/** Bits the text costs on the air. */
export function airBits(text: string): number {
  let septets = 0;
  for (const ch of text) {
    if (DEFAULT_ALPHABET.has(ch)) septets += 1;
    else if (EXTENSION.has(ch)) septets += 2;
    else return 16 * (Buffer.byteLength(text, 'utf16le') / 2);
  }
  return 7 * septets;
}

/** Does the text fit a budget of `limit` GSM-7 characters? */
export const withinBudget = (text: string, limit: number): boolean => airBits(text) <= 7 * limit;
