import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO } from '../helpers/kit';
import { dumpStore, storeTtlS } from '../helpers/store';

/**
 * Engine rule 6: a session that drops mid-way (no END) can be resumed: a redial from the same
 * phone within RESUME_TTL_S offers "1. Continue 2. Start again". Screens with personal data
 * (tagged `personal`) ask for the ID number again before showing anything.
 */
describe('engine rule 6: a dropped session can be resumed from the same phone', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const OFFER_EN = 'CON You did not finish last time.\n1. Continue where you left off\n2. Start again';
  const MAIN_EN = 'CON Simu e-Citizen\n1. Application status\n2. Reset login code\n3. Book Huduma appointment\n4. My appointments\n5. Language';
  const ASK_REF = 'CON Enter the 13-digit application number:\n0 Back\n00 Home';

  const phoneAt = async (number: string, lang: 'en' | 'sw' = 'en') => {
    await t.rt.services.preferences.setLanguage(number, lang);
    return new UssdPhone(t.app, number);
  };

  test('Continue lands on the screen where the session dropped, and it goes on from there', async () => {
    const phone = await phoneAt(DEMO.kiprono.phone);
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2'); // dropped here: no END
    expect(await phone.dial()).toBe(OFFER_EN);
    expect(await phone.reply('1')).toBe(ASK_REF);
    expect(await phone.reply('12345')).toBe(`CON The number must have 13 digits.\n${ASK_REF.slice(4)}`);
    expect(await phone.reply('0')).toBe('CON Application status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
    await phone.reply('00');
  });

  test('the resume pointer lives RESUME_TTL_S', async () => {
    const phone = await phoneAt('+254700000901');
    await phone.dial();
    await phone.reply('1');
    const pointers = (await dumpStore(t)).filter((k) => k.key.includes('ussd:resume:') && k.value.includes(phone.sessionId));
    expect(pointers).toHaveLength(1);
    const ttl = await storeTtlS(t, (pointers[0] as { key: string }).key.slice(t.config.REDIS_PREFIX.length));
    expect(ttl).toBeGreaterThan(t.config.RESUME_TTL_S - 5);
    expect(ttl).toBeLessThanOrEqual(t.config.RESUME_TTL_S);
  });

  test('Start again goes to the main menu, and the next dial offers nothing', async () => {
    const phone = await phoneAt('+254700000902');
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    expect(await phone.dial()).toBe(OFFER_EN);
    expect(await phone.reply('2')).toBe(MAIN_EN);
    expect(await phone.dial()).toBe(MAIN_EN);
  });

  test('a wrong answer to the offer asks again; dropping on the offer offers it again on the next dial', async () => {
    const phone = await phoneAt('+254700000903');
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    await phone.dial();
    expect(await phone.reply('0')).toBe(`CON Invalid choice. Try again.\n${OFFER_EN.slice(4)}`);
    expect(await phone.dial()).toBe(OFFER_EN);
    expect(await phone.reply('1')).toBe(ASK_REF);
    await phone.reply('00');
  });

  test('after END there is nothing to resume', async () => {
    const phone = await phoneAt(DEMO.amina.phone);
    await phone.dial();
    await phone.reply('1');
    await phone.reply('1');
    expect(await phone.reply('1')).toBe("END Birth cert. 3026110400779\nRejected\nA copy of a parent's ID is missing.");
    expect(await phone.dial()).toBe(MAIN_EN);
  });

  test('a session dropped on the main menu or the language screen offers nothing', async () => {
    const phone = await phoneAt('+254700000904');
    await phone.dial();
    expect(await phone.dial()).toBe(MAIN_EN);
    await phone.reply('5');
    expect(await phone.dial()).toBe(MAIN_EN);
  });

  test('the offer is in the language of the dropped session', async () => {
    const phone = await phoneAt('+254700000905', 'sw');
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    expect(await phone.dial()).toBe('CON Hukumaliza mara iliyopita.\n1. Endelea ulipoachia\n2. Anza upya');
    expect(await phone.reply('1')).toBe('CON Weka nambari ya ombi yenye tarakimu 13:\n0 Rudi\n00 Mwanzo');
    await phone.reply('00');
  });

  test('a dial-through skips the offer and starts where it says', async () => {
    const phone = await phoneAt('+254700000906');
    await phone.dial();
    await phone.reply('1');
    await phone.reply('2');
    expect(await phone.dial('1')).toBe('CON Application status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
    await phone.reply('00');
  });

  describe('a session dropped on "My applications" (personal) asks for the ID number again', () => {
    const drop = async () => {
      const phone = await phoneAt(DEMO.hussein.phone);
      await phone.dial();
      await phone.reply('1');
      await phone.reply('1');
      await phone.reply('98'); // dropped on the second page of the list
      expect(await phone.dial()).toBe(OFFER_EN);
      expect(await phone.reply('1')).toBe('CON Welcome back. For privacy, enter your ID number:\n0 Back\n00 Home');
      return phone;
    };

    test('the right ID number shows the list again', async () => {
      const phone = await drop();
      expect(await phone.reply(DEMO.hussein.id)).toBe(
        'CON Your applications:\n1. ID replacement: In review\n2. Death cert.: Unpaid\n3. Tax compliance: Received\n4. Birth cert.: Printing\n98 More\n0 Back\n00 Home',
      );
      expect(await phone.reply('8')).toBe('END Passport 1026091006001\nCollected');
    });

    test('a wrong ID number gets the not-found answer, and the session ends', async () => {
      const phone = await drop();
      expect(await phone.reply(DEMO.amina.id)).toBe('END We found no application with those details. Check the numbers and try again.');
      expect(await phone.dial()).toBe(MAIN_EN);
    });

    test('another citizen\'s right ID number is still wrong on this phone', async () => {
      const phone = await drop();
      expect(await phone.reply(DEMO.wanjiku.id)).toBe('END We found no application with those details. Check the numbers and try again.');
    });

    test('Back from the ID prompt goes to the status menu, not to the list', async () => {
      const phone = await drop();
      expect(await phone.reply('0')).toBe('CON Application status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
      await phone.reply('00');
    });
  });
});
