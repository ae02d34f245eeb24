import centres from '../../seeds/data/huduma_centres.json';
import { translate, type MessageKey } from '../../src/i18n';
import { encodingOf, septets } from '../../src/engine/gsm7';

/**
 * Every SMS the staff console causes fits one GSM-7 SMS (160 septets) in both languages, with the
 * longest centre name in the data, a 6-digit code, a masked phone and a date: a second part costs
 * the citizen's operator twice, and one non-GSM character would halve the budget.
 */
const KEYS: MessageKey[] = ['staff.sms.consent', 'staff.sms.new_phone_code', 'staff.sms.phone_changed_old', 'staff.sms.phone_changed_new', 'staff.sms.push_intro'];
const longest = centres.map((c) => c.name).reduce((a, b) => (b.length > a.length ? b : a));

test.each(KEYS.flatMap((key) => (['en', 'sw'] as const).map((lang) => [key, lang] as const)))('%s (%s) fits one SMS', (key, lang) => {
  const text = translate(lang, { key, params: { centre: longest, code: '123456', minutes: 10, newPhone: '+2547****2333', day: '2026-11-25' } });
  expect(text).not.toMatch(/\{\w+\}/);
  expect(encodingOf(text)).toBe('gsm7');
  expect(septets(text)).toBeLessThanOrEqual(160);
});
