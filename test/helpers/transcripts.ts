import { readFileSync } from 'node:fs';

/**
 * Transcript files (test/transcripts/*.txt) are whole USSD conversations written as data:
 *
 *   ## Wanjiku checks her passport by number        <- a case; its name
 *   phone: +254712345678                             <- the dialling phone
 *   lang: en                                         <- optional: saved language set before dialling
 *   clock: 2026-11-25T06:00:00Z                      <- optional: the services' clock stands still at this instant
 *   >                                                <- dial (a new session)
 *   CON Simu e-Citizen                               <- the exact reply, one or more lines
 *   1. Application status
 *   > 1                                              <- type 1
 *   CON ...
 *   > !retry                                         <- re-send the last request unchanged
 *   END Your code is {{code}}.                       <- {{name}}: a word that varies (a fresh code)
 *
 * Blank lines and lines starting with `#` (one hash) are ignored. Adding a case needs no code.
 * A step may leave its reply out (navigation the next reply shows the result of), but not the last
 * step of a case: nothing would check it, and the file is refused.
 */
export interface Step {
  input: string | null; // null = dial
  retry?: boolean;
  expect: string;
  line: number;
}
export interface TranscriptCase {
  name: string;
  phone: string;
  lang?: 'en' | 'sw';
  /** ISO instant the services' clock is fixed at for this case (appointment days depend on it). */
  clock?: string;
  steps: Step[];
}

export function parseTranscript(file: string): TranscriptCase[] {
  const cases: TranscriptCase[] = [];
  let current: TranscriptCase | null = null;
  let step: Step | null = null;
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (line.startsWith('## ')) {
      current = { name: line.slice(3).trim(), phone: '', steps: [] };
      cases.push(current);
      step = null;
      return;
    }
    if (!current) return;
    const c: TranscriptCase = current;
    if (line === '' || (line.startsWith('#') && !line.startsWith('##'))) return;
    if (!step && line.startsWith('phone:')) return void (c.phone = line.slice(6).trim());
    if (!step && line.startsWith('lang:')) return void (c.lang = line.slice(5).trim() as 'en' | 'sw');
    if (!step && line.startsWith('clock:')) return void (c.clock = line.slice(6).trim());
    if (line === '>' || line.startsWith('> ')) {
      const input = line === '>' ? null : line.slice(2);
      step = input === '!retry' ? { input: null, retry: true, expect: '', line: i + 1 } : { input, expect: '', line: i + 1 };
      c.steps.push(step);
      return;
    }
    if (!step) throw new Error(`${file}:${i + 1}: expected '>' before a reply line`);
    const s: Step = step;
    s.expect = s.expect === '' ? line : `${s.expect}\n${line}`;
  });
  // A step with no reply under it is checked by the next step's reply; the last step has none.
  for (const c of cases) {
    const last = c.steps[c.steps.length - 1];
    if (last && last.expect === '') throw new Error(`${file}:${last.line}: the last step of "${c.name}" has no expected reply, so nothing checks it`);
  }
  return cases;
}
