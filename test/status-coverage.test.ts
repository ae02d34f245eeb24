import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import demo from '../seeds/data/demo.json';
import { catalogues, isMessageKey } from '../src/i18n';
import { createTestApp, type TestApp } from './helpers/test-app';
import { UssdPhone } from './helpers/phone';
import { parseTranscript } from './helpers/transcripts';
import { insertApplication, insertCitizen, makeReference } from './helpers/kit';

/**
 * Every application status is said in plain words in both languages, and a citizen has heard each
 * one in at least one transcript. The demo data has no CANCELLED or EXPIRED_UNCOLLECTED
 * application: those are inserted here and checked over HTTP.
 */
const STATUSES = Object.keys(demo.statuses);
const NOT_IN_DEMO = ['CANCELLED', 'EXPIRED_UNCOLLECTED'];

describe('application statuses', () => {
  test.each(STATUSES)('%s has a full and a short label in English and Kiswahili', (status) => {
    for (const key of [`st.${status}`, `short.${status}`]) {
      expect(isMessageKey(key)).toBe(true);
      if (!isMessageKey(key)) continue;
      expect(catalogues.en[key].length).toBeGreaterThan(0);
      expect(catalogues.sw[key].length).toBeGreaterThan(0);
      expect(catalogues.sw[key]).not.toBe(catalogues.en[key]);
    }
  });

  test('every status of the demo data appears in full in at least one transcript, in both languages', () => {
    const dir = join(__dirname, 'transcripts');
    const screens = readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .flatMap((f) => parseTranscript(join(dir, f)).flatMap((c) => c.steps.map((s) => s.expect)));
    const heard = (text: string) => screens.some((screen) => screen.split('\n').includes(text));
    const missing = STATUSES.filter((s) => !NOT_IN_DEMO.includes(s)).flatMap((status) =>
      (['en', 'sw'] as const).filter((lang) => !heard(catalogues[lang][`st.${status}` as keyof typeof catalogues.en])).map((lang) => `${status} (${lang})`),
    );
    expect(missing).toEqual([]);
  });

  describe('CANCELLED and EXPIRED_UNCOLLECTED, inserted', () => {
    let t: TestApp;
    const phone = '+254700000950';
    const cancelled = makeReference('10', '261102', 7001);
    const expired = makeReference('20', '261101', 7002);
    beforeAll(async () => {
      t = await createTestApp();
      const citizenId = await insertCitizen(t, { idNumber: '41000950', phone });
      await insertApplication(t, { citizenId, reference: cancelled, type: 'passport', status: 'CANCELLED', submittedOn: '2026-11-02' });
      await insertApplication(t, { citizenId, reference: expired, type: 'id_card', status: 'EXPIRED_UNCOLLECTED', centre: 'nairobi-gpo', submittedOn: '2026-11-01' });
    });
    afterAll(async () => t.close());

    test.each([
      ['en', 'Your applications:\n1. Passport: Cancelled\n2. ID card: Expired\n0 Back\n00 Home', [`END Passport ${cancelled}\nCancelled`, `END ID card ${expired}\nNot collected in time`]],
      ['sw', 'Maombi yako:\n1. Pasipoti: Limefutwa\n2. Kitambulisho: Limepitwa na muda\n0 Rudi\n00 Mwanzo', [`END Pasipoti ${cancelled}\nLimefutwa`, `END Kitambulisho ${expired}\nHalikuchukuliwa kwa wakati`]],
    ] as const)('in %s: the list and each answer', async (lang, list, answers) => {
      await t.rt.services.preferences.setLanguage(phone, lang);
      const citizen = new UssdPhone(t.app, phone);
      for (const [i, answer] of answers.entries()) {
        await citizen.dial();
        await citizen.reply('1');
        expect(await citizen.reply('1')).toBe(`CON ${list}`);
        expect(await citizen.reply(String(i + 1))).toBe(answer);
      }
    });
  });
});
