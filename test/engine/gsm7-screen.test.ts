import { encodingOf, fits, plainPunctuation, septets } from '../../src/engine/gsm7';
import { renderPages } from '../../src/engine/screen';
import type { Screen } from '../../flows/types';

/** Unit tests of the screen budget (gsm7.ts) and of paging (screen.ts), the pure half of engine rule 4. */
describe('gsm7: a screen is counted in the encoding it travels in', () => {
  test('GSM-7 basic characters cost one septet, the extension table two', () => {
    expect(septets('Simu e-Citizen')).toBe(14);
    expect(septets('€[]{}|~^\\')).toBe(18);
    expect(septets('Murang\u2019a')).toBeNull();
    expect(encodingOf('Hali ya ombi: TAYARI')).toBe('gsm7');
    expect(encodingOf('\u014C')).toBe('ucs2');
    expect(encodingOf('é ñ ü à')).toBe('gsm7');
  });

  test.each([
    ['160 GSM-7 characters fit 160', 'a'.repeat(160), 160, true],
    ['161 do not', 'a'.repeat(161), 160, false],
    ['80 euro signs (160 septets) fit 160', '€'.repeat(80), 160, true],
    ['81 do not', '€'.repeat(81), 160, false],
    ['one Ō makes it UCS-2: 70 characters fit 160', `\u014C${'a'.repeat(69)}`, 160, true],
    ['71 do not', `\u014C${'a'.repeat(70)}`, 160, false],
    ['UCS-2 at 80: 35 characters fit', `\u014C${'a'.repeat(34)}`, 80, true],
    ['UCS-2 at 80: 36 do not', `\u014C${'a'.repeat(35)}`, 80, false],
    ['an emoji costs two UTF-16 units', `\u{1F600}${'a'.repeat(69)}`, 160, false],
  ])('%s', (_label, text, limit, expected) => {
    expect(fits(text, limit)).toBe(expected);
  });

  test('typographic punctuation becomes its plain twin; letters are never changed', () => {
    expect(plainPunctuation('Murang\u2019a \u201CGPO\u201D \u2013 9\u201317h\u2026\u00A0ok')).toBe('Murang\'a "GPO" - 9-17h... ok');
    expect(plainPunctuation('Huduma Centre \u014C')).toBe('Huduma Centre \u014C');
  });
});

describe('renderPages: lists are paged to the limit, never cut mid-word', () => {
  const item = (text: string) => ({ text });
  const list = (n: number, label = 'Application with a fairly long label'): Screen => ({
    lines: [{ key: 'status.mine_title' }],
    items: Array.from({ length: n }, (_, i) => item(`${label} ${i + 1}`)),
  });

  test('a short screen is one page with Back and Home', () => {
    expect(renderPages({ lines: [{ key: 'status.ask_ref' }] }, { lang: 'en', limit: 160, final: false })).toEqual([
      'Enter the 13-digit application number:\n0 Back\n00 Home',
    ]);
  });

  test('a final screen has no footer; a first screen (nav none) has none either', () => {
    expect(renderPages({ lines: [{ key: 'status.not_found' }] }, { lang: 'sw', limit: 160, final: true })).toEqual([
      'Hatukupata ombi lenye maelezo hayo. Angalia nambari kisha ujaribu tena.',
    ]);
    expect(renderPages({ nav: 'none', lines: [{ key: 'language.first' }], items: [{ key: 'language.en' }, { key: 'language.sw' }] }, { lang: 'en', limit: 160, final: false })).toEqual([
      'Welcome to Simu / Karibu Simu\n1. English\n2. Kiswahili',
    ]);
  });

  test.each([160, 120, 80])('a long list at limit %i: every page fits, items numbered across pages, 98 on all but the last, 0 on all but the first page of a first screen', (limit) => {
    for (const lang of ['en', 'sw'] as const) {
      const pages = renderPages(list(12), { lang, limit, final: false });
      expect(pages.length).toBeGreaterThan(1);
      const more = lang === 'en' ? '98 More' : '98 Zaidi';
      const back = lang === 'en' ? '0 Back' : '0 Rudi';
      pages.forEach((p, i) => {
        expect(fits(p, limit)).toBe(true);
        expect(p.split('\n').includes(more)).toBe(i < pages.length - 1);
        expect(p.split('\n').includes(back)).toBe(true);
      });
      const items = pages.flatMap((p) => p.split('\n')).filter((l) => /^\d+\. /.test(l));
      expect(items).toEqual(Array.from({ length: 12 }, (_, i) => `${i + 1}. Application with a fairly long label ${i + 1}`));
    }
  });

  test('a line longer than a page continues on the next page between words', () => {
    const words = 'Tafadhali tembelea Kituo cha Huduma kilicho karibu nawe ukiwa na kitambulisho chako na risiti ya malipo ili upate maelezo zaidi kuhusu ombi lako'.split(' ');
    const pages = renderPages({ lines: [{ text: words.join(' ') }] }, { lang: 'sw', limit: 60, final: true });
    expect(pages.length).toBeGreaterThan(2);
    const body = pages.map((p) => p.split('\n').filter((l) => !/^(98 Zaidi|0 Rudi|00 Mwanzo)$/.test(l)).join(' '));
    for (const b of body) for (const w of b.split(' ')) expect(words).toContain(w);
    expect(body.join(' ')).toBe(words.join(' '));
    for (const p of pages) expect(fits(p, 60)).toBe(true);
    // Pages of a final screen: 98 More until the last; Back on the middle ones; the last one ends the session, no Back.
    expect(pages[0]?.endsWith('\n98 Zaidi')).toBe(true);
    expect(pages[pages.length - 1]).not.toMatch(/0 Rudi|98 Zaidi/);
  });

  test('a UCS-2 item makes its page UCS-2 and that page holds less', () => {
    const screen: Screen = { lines: [{ text: 'Chagua kituo' }], items: [item('Huduma Centre Murang\u2019a \u014C'), ...Array.from({ length: 5 }, (_, i) => item(`Huduma Centre ${i}`))] };
    const pages = renderPages(screen, { lang: 'sw', limit: 160, final: false });
    expect(pages[0]).toContain("Murang'a \u014C");
    expect(encodingOf(pages[0] as string)).toBe('ucs2');
    expect((pages[0] as string).length).toBeLessThanOrEqual(70);
    for (const p of pages) expect(fits(p, 160)).toBe(true);
  });

  test('a notice goes first, above the error and the screen', () => {
    const pages = renderPages({ error: { key: 'status.ref_wrong_length' }, lines: [{ key: 'status.ask_ref' }] }, { lang: 'en', limit: 160, final: false, notice: { key: 'session.restarted' } });
    expect(pages).toEqual(['Sorry, we had to start again.\nThe number must have 13 digits.\nEnter the 13-digit application number:\n0 Back\n00 Home']);
  });
});
