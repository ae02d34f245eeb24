/**
 * Application reference numbers: 2-digit agency code, YYMMDD, 4-digit serial and a Luhn check
 * digit — 13 digits, easy to type on a keypad (see seeds/data/demo.json `_about`). Checking the
 * format and the check digit first means a typo is caught without touching the database.
 */
import { luhnValid } from './luhn';

export { luhnValid };

export const AGENCY_CODES = ['10', '20', '30', '40', '50', '60', '70'] as const;

export type ReferenceProblem = 'not_digits' | 'wrong_length' | 'bad_check_digit' | 'unknown_agency';

/** Spaces and dashes people add when reading a number aloud are ignored. */
export function normaliseReference(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export function checkReference(raw: string): ReferenceProblem | null {
  const ref = normaliseReference(raw);
  if (!/^\d+$/.test(ref)) return 'not_digits';
  if (ref.length !== 13) return 'wrong_length';
  if (!luhnValid(ref)) return 'bad_check_digit';
  if (!(AGENCY_CODES as readonly string[]).includes(ref.slice(0, 2))) return 'unknown_agency';
  return null;
}
