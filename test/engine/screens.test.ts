import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, expectFits, insertApplication, insertCitizen, makeReference, pageOf } from '../helpers/kit';
import { encodingOf, fits } from '../../src/engine/gsm7';

/**
 * Engine rule 4: `0` Back and `00` Home on every screen that is not the first, `98` More pages a
 * long list; every screen fits USSD_SCREEN_LIMIT in the encoding it travels in, and lists are
 * paginated, never cut mid-word.
 */
const HUSSEIN_EN = [
  '1. ID replacement: In review',
  '2. Death cert.: Unpaid',
  '3. Tax compliance: Received',
  '4. Birth cert.: Printing',
  '5. Business name: In review',
  '6. Driving licence: READY',
  '7. Good conduct: Approved',
  '8. Passport: Collected',
];
const HUSSEIN_SW = [
  '1. Kitambulisho kipya: Ukaguzi',
  '2. Cheti cha kifo: Halijalipwa',
  '3. Cheti cha ushuru: Limepokelewa',
  '4. Cheti cha kuzaliwa: Linachapishwa',
  '5. Jina la biashara: Ukaguzi',
  '6. Leseni ya udereva: TAYARI',
  '7. Cheti cha maadili: Limeidhinishwa',
  '8. Pasipoti: Limechukuliwa',
];
const FOOTERS = new Set(['98 More', '0 Back', '00 Home', '98 Zaidi', '0 Rudi', '00 Mwanzo']);

/** A phone that checks every screen it is shown against the limit. */
class CheckedPhone extends UssdPhone {
  constructor(app: TestApp['app'], phone: string, private readonly limit: number) {
    super(app, phone);
  }
  override async post(text: string): Promise<string> {
    const body = await super.post(text);
    expectFits(body, this.limit);
    return body;
  }
}

/** Pages through a list with 98 until the last page; returns every page shown. */
async function allPages(phone: UssdPhone, first: string, more: string): Promise<string[]> {
  const pages = [first];
  for (let i = 0; pages[pages.length - 1]?.includes(`\n${more}`) && i < 20; i++) pages.push(await phone.reply('98'));
  return pages;
}

describe('engine rule 4: navigation and screens that fit', () => {
  describe('at the default limit (160)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => t.close());

    test('98 on a screen with one page is a wrong choice, and nothing is lost', async () => {
      const phone = new CheckedPhone(t.app, DEMO.wanjiku.phone, 160);
      await phone.dial();
      await phone.reply('1');
      expect(await phone.reply('98')).toBe('CON Invalid choice. Try again.\nApplication status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
      expect(await phone.reply('2')).toBe('CON Enter the 13-digit application number:\n0 Back\n00 Home');
      await phone.reply('00');
    });

    test('0 on the first page of a list goes Back a screen; 00 from a later page goes Home', async () => {
      const phone = new CheckedPhone(t.app, DEMO.hussein.phone, 160);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
      await phone.dial();
      await phone.reply('1');
      await phone.reply('1');
      expect(await phone.reply('98')).toMatch(/^CON 5\. Business name/);
      expect(await phone.reply('00')).toMatch(/^CON Simu e-Citizen\n1\. Application status/);
      await phone.reply('1');
      await phone.reply('1');
      expect(await phone.reply('0')).toBe('CON Application status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
      await phone.reply('00');
    });

    test('98 on the last page of a list is a wrong choice shown on the first page', async () => {
      const phone = new CheckedPhone(t.app, DEMO.hussein.phone, 160);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
      await phone.dial();
      await phone.reply('1');
      await phone.reply('1');
      await phone.reply('98');
      const again = await phone.reply('98');
      expect(again).toMatch(/^CON Invalid choice\. Try again\.\nYour applications:\n1\. ID replacement/);
      // The notice took the room of an item on that page: paging on shows it, nothing is skipped.
      const lines = [again, await phone.reply('98')].flatMap((p) => pageOf(p).split('\n')).filter((l) => /^\d+\. /.test(l));
      expect(lines.map((l) => l.split('.')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
      // Back to the first page shows it as it was, notice included.
      expect(await phone.reply('0')).toBe(again);
      await phone.reply('00');
    });

    test('Back from the ID number prompt returns to the number prompt; 00 on the main menu is a wrong choice', async () => {
      const phone = new CheckedPhone(t.app, '+254700000701', 160);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
      await phone.dial();
      expect(await phone.reply('00')).toMatch(/^CON Invalid choice\. Try again\.\nSimu e-Citizen\n/);
      await phone.reply('1');
      await phone.reply('2');
      await phone.reply(DEMO.achieng.passport);
      expect(await phone.reply('0')).toBe('CON Enter the 13-digit application number:\n0 Back\n00 Home');
      await phone.reply('00');
    });

    test('a centre name with a curly quote is sent with a straight one and stays GSM-7 (one page)', async () => {
      await t.rt.db('centres').insert({ code: 'test-muranga', name: 'Huduma Centre Murang\u2019a', county: "Murang'a", county_code: '021', town: "Murang'a", region: 'Central', status: 'operational' });
      const citizenId = await insertCitizen(t, { idNumber: '41000001', phone: '+254700000702', lang: 'en' });
      const reference = makeReference('10', '261101', 9001);
      await insertApplication(t, { citizenId, reference, type: 'passport', status: 'READY_FOR_COLLECTION', centre: 'test-muranga' });
      const phone = new CheckedPhone(t.app, '+254700000702', 160);
      const body = await phone.dial('1', '2', reference);
      expect(body).toMatch(new RegExp(`^(CON|END) Passport ${reference}\nREADY for collection\nCollect at Huduma Centre Murang'a\\.`));
      expect(body).not.toContain('98 More');
      expect(encodingOf(pageOf(body))).toBe('gsm7');
    });

    test('a letter outside GSM-7 makes the screen UCS-2: at most 70 characters a page, paged, never cut mid-word', async () => {
      await t.rt.db('centres').insert({ code: 'test-muranga-o', name: 'Huduma Centre Murang\u2019a \u014C', county: "Murang'a", county_code: '021', town: "Murang'a", region: 'Central', status: 'operational' });
      const citizenId = await insertCitizen(t, { idNumber: '41000002', phone: '+254700000703', lang: 'en' });
      const reference = makeReference('10', '261101', 9002);
      await insertApplication(t, { citizenId, reference, type: 'passport', status: 'READY_FOR_COLLECTION', centre: 'test-muranga-o' });
      const phone = new CheckedPhone(t.app, '+254700000703', 160);
      await phone.dial();
      await phone.reply('1');
      await phone.reply('2');
      // The whole result is 80 characters with an Ō in it: over the 70 UCS-2 allows, so it is paged.
      expect(fits(`Passport ${reference}\nREADY for collection\nCollect at Huduma Centre Murang'a \u014C.`, 160)).toBe(false);
      const first = await phone.reply(reference);
      expect(first).toMatch(new RegExp(`^CON Passport ${reference}\nREADY for collection\n`));
      expect(first).toContain('\n98 More');
      const pages = await allPages(phone, first, '98 More');
      const withO = pages.filter((p) => p.includes('\u014C'));
      expect(withO).toHaveLength(1);
      expect(pageOf(withO[0] as string).split('\n')).toContain("Collect at Huduma Centre Murang'a \u014C.");
      expect(encodingOf(pageOf(withO[0] as string))).toBe('ucs2');
      expect(pageOf(withO[0] as string).length).toBeLessThanOrEqual(70);
    });
  });

  describe('at USSD_SCREEN_LIMIT=80', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ USSD_SCREEN_LIMIT: '80' });
    });
    afterAll(async () => t.close());

    test.each([
      ['en', HUSSEIN_EN, 'Your applications:', '98 More'],
      ['sw', HUSSEIN_SW, 'Maombi yako:', '98 Zaidi'],
    ] as const)('all 8 of Hussein\'s applications are shown across pages (%s), each line whole', async (lang, items, title, more) => {
      await t.rt.services.preferences.setLanguage(DEMO.hussein.phone, lang);
      const phone = new CheckedPhone(t.app, DEMO.hussein.phone, 80);
      await phone.dial();
      // Choices are numbered across pages: "1" works on whatever page of the menu is shown.
      await phone.reply('1');
      const first = await phone.reply('1');
      const pages = await allPages(phone, first, more);
      expect(pages.length).toBeGreaterThan(2);
      const lines = pages.flatMap((p) => pageOf(p).split('\n'));
      // Every line is the title, a whole item or a footer: nothing was cut.
      for (const line of lines) expect([title, ...items, ...FOOTERS]).toContain(line);
      expect(lines.filter((l) => /^\d+\. /.test(l))).toEqual([...items]);
      // The last page ends with END only when the screen is final; this is a list, so CON.
      expect(pages.every((p) => p.startsWith('CON '))).toBe(true);
      // An item chosen from the last page opens that application.
      expect(await phone.reply('8')).toMatch(lang === 'en' ? /^(CON|END) Passport 1026091006001\n/ : /^(CON|END) Pasipoti 1026091006001\n/);
    });

    test('a final message longer than one page is shown page by page, split between words; only the last page ends the session, and it offers no Back', async () => {
      const phone = new CheckedPhone(t.app, '+254700000704', 80);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
      await phone.dial();
      await phone.reply('1');
      expect(await phone.reply('1')).toBe('CON No applications are registered to this phone. Dial again and choose\n98 More');
      expect(await phone.reply('98')).toBe('END Enter an application number.');

      await phone.dial();
      await phone.reply('1');
      await phone.reply('1');
      // A wrong answer on the first page: the notice takes room, and what it pushes down is shown next.
      expect(await phone.reply('5')).toBe('CON Invalid choice. Try again.\n98 More');
      expect(await phone.reply('98')).toBe('CON No applications are registered to this phone. Dial again and\n98 More\n0 Back');
      expect(await phone.reply('98')).toBe('END choose Enter an application number.');
    });

    test('the main menu itself is paged, and its numbers work from any page', async () => {
      await t.rt.services.preferences.setLanguage(DEMO.wanjiku.phone, 'en');
      const phone = new CheckedPhone(t.app, DEMO.wanjiku.phone, 80);
      const first = await phone.dial();
      const pages = await allPages(phone, first, '98 More');
      const lines = pages.flatMap((p) => pageOf(p).split('\n'));
      expect(lines.filter((l) => /^\d+\. /.test(l))).toEqual(['1. Application status', '2. Reset login code', '3. Book Huduma appointment', '4. My appointments', '5. Language']);
      // The first page of the first screen offers neither Back nor Home; later pages Back to the page before.
      expect(pageOf(first)).not.toMatch(/\n0 Back|\n00 Home/);
      expect(await phone.reply('0')).toBe(pages[pages.length - 2]);
      expect(await phone.reply('5')).toMatch(/^CON Choose language\n/);
      await phone.reply('00');
    });
  });
});
