import type { Lang, Msg, Screen } from '../../flows/types';
import { translate } from '../i18n';
import { fits, plainPunctuation } from './gsm7';

export interface RenderOptions {
  lang: Lang;
  /** Budget of one page, in GSM-7 characters (USSD_SCREEN_LIMIT). */
  limit: number;
  /** A final screen shows no Back/Home: the session is over. */
  final: boolean;
  /** Shown first, e.g. "Invalid choice. Try again." from the engine. */
  notice?: Msg;
  /** Over SMS, 00 ends the conversation rather than going home. Default: ussd. */
  channel?: 'ussd' | 'sms';
}

/**
 * Renders a screen into pages that each fit the budget. Items are numbered 1..n across all pages,
 * so a citizen's choice means the same whatever page it was typed on. A page that is not the last
 * ends with "98 More"; every page after the first offers "0 Back" to the page before, except the
 * last page of a final screen, which ends the session. Nothing is
 * ever cut mid-word: a line too long for one page continues on the next.
 */
export function renderPages(screen: Screen, opts: RenderOptions): string[] {
  const t = (m: Msg) => plainPunctuation(translate(opts.lang, m));
  const head: string[] = [];
  if (opts.notice) head.push(t(opts.notice));
  if (screen.error) head.push(t(screen.error));
  for (const line of screen.lines) head.push(t(line));
  const items = (screen.items ?? []).map((m, i) => `${i + 1}. ${t(m)}`);

  const nav = !opts.final && (screen.nav ?? 'full') === 'full';
  const footer = (first: boolean, last: boolean): string[] => {
    const f: string[] = [];
    if (!last) f.push(t({ key: 'nav.more' }));
    // The last page of a final screen ends the session: there is nothing to go back to.
    if (nav || (!first && !(opts.final && last))) f.push(t({ key: 'nav.back' }));
    if (nav) f.push(t({ key: opts.channel === 'sms' ? 'nav.end' : 'nav.home' }));
    return f;
  };
  return paginate([...head, ...items], footer, opts.limit);
}

function paginate(blocks: string[], footer: (first: boolean, last: boolean) => string[], limit: number): string[] {
  const pages: string[] = [];
  const queue = [...blocks];
  while (queue.length > 0 || pages.length === 0) {
    const first = pages.length === 0;
    const page = (body: string[], last: boolean) => [...body, ...footer(first, last)].join('\n');
    if (fits(page(queue, true), limit)) {
      pages.push(page(queue, true));
      break;
    }
    const body: string[] = [];
    while (queue.length > 0) {
      const next = queue[0] as string;
      if (fits(page([...body, next], false), limit)) {
        body.push(next);
        queue.shift();
        continue;
      }
      if (body.length === 0) {
        // A single line longer than a page: split it between words.
        const [head, rest] = splitToFit(next, (part) => fits(page([part], false), limit));
        body.push(head);
        queue[0] = rest;
      }
      break;
    }
    pages.push(page(body, false));
  }
  return pages;
}

/** The longest run of whole words that fits, and the rest. A single word too long is cut (never seen with real text). */
function splitToFit(line: string, ok: (part: string) => boolean): [string, string] {
  const words = line.split(' ');
  let n = 0;
  while (n < words.length && ok(words.slice(0, n + 1).join(' '))) n++;
  if (n === 0) {
    let c = 1;
    while (c < line.length && ok(line.slice(0, c + 1))) c++;
    return [line.slice(0, c), line.slice(c)];
  }
  return [words.slice(0, n).join(' '), words.slice(n).join(' ')];
}
