import { createActor, waitFor } from 'xstate';
import { createTestApp, type TestApp } from './helpers/test-app';
import { failInserts } from './helpers/db-faults';
import { UssdPhone } from './helpers/phone';
import { bookAppointment, ECITIZEN_SUPPORT_SERVICE } from '../flows/book-appointment';
import { flowActors } from '../src/engine/actors';
import { runInHop } from '../src/engine/hop-context';
import { renderPages } from '../src/engine/screen';
import { septets } from '../src/engine/gsm7';
import * as booking from '../src/i18n/booking';
import { msg } from '../flows/lib';
import { summaryMsg, codeText, dayMsg, serviceMsg } from '../flows/booking-common';
import { isBookingCode, luhnDigit, newBookingCode } from '../src/services/appointments';
import type { Lang, Screen } from '../flows/types';

/**
 * Appointments beyond the transcripts (test/transcripts/booking-*.txt): the reminder job with a
 * fixed clock, time zones in the database, closures, a slot or a day filled between the list and
 * the choice, a preselected service, screen sizes and the session record's size.
 * The services' clock stands still (t.setNow); 2026-11-25T06:00:00Z is Wed 25 Nov, 09:00 in Nairobi.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

let phoneSeq = 0;
async function newPhone(lang: Lang = 'en'): Promise<UssdPhone> {
  const number = `+2547113${String(++phoneSeq).padStart(5, '0')}`;
  await t.rt.services.preferences.setLanguage(number, lang);
  return new UssdPhone(t.app, number);
}

/** Dials, then types each input; returns the last reply. */
async function walk(phone: UssdPhone, ...inputs: string[]): Promise<string> {
  let reply = await phone.dial();
  for (const input of inputs) reply = await phone.reply(input);
  return reply;
}

const bookingsOf = (phone: UssdPhone) => t.rt.db('bookings').where({ phone: phone.phoneNumber }).orderBy('id');
const outboxOf = (id: number) => t.rt.db('sms_outbound').where({ ref: `booking:${id}` }).orderBy('id');
const seats = async (centre: string, service: string, startsAt: string): Promise<number> =>
  Number((await t.rt.db('slot_counts').where({ centre_code: centre, service_code: service, starts_at: new Date(startsAt) }).first('booked'))?.booked ?? 0);

// Book → services: 1 Passport; regions: 5 Nairobi and Central; centres: 3 GPO, 8 Nyeri, 1 City Square.
const PASSPORT_AT_GPO = ['3', '1', '5', '3'];

describe('reminder SMS at 18:00 Nairobi the evening before, as an outbox row (the SMS worker sends it when due)', () => {
  test('booking → reminder due 15:00Z the day before; cancel → reminder cancelled; move → reminder moved', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone();
    // Mon 30 Nov (4th day) at 09:00 (3rd time).
    expect(await walk(phone, ...PASSPORT_AT_GPO, '4', '3', '1')).toMatch(/^END Booked\. Your code is \d{4} \d{4}\.\nPassport\nHuduma Centre GPO\nMon 30 Nov at 09:00\n/);
    const [first] = await bookingsOf(phone);
    expect(first).toMatchObject({ status: 'active', made_by: 'citizen', channel: 'ussd', lang: 'en', service_code: 'passport', centre_code: 'nairobi-gpo' });
    expect(new Date(first.starts_at).toISOString()).toBe('2026-11-30T06:00:00.000Z');
    expect(isBookingCode(first.code)).toBe(true);
    expect(await seats('nairobi-gpo', 'passport', '2026-11-30T06:00:00Z')).toBe(1);

    let sms = await outboxOf(first.id);
    expect(sms.map((s) => s.kind)).toEqual(['booking', 'reminder']);
    const [confirmation, reminder] = sms;
    expect(confirmation.to_phone).toBe(phone.phoneNumber);
    expect(confirmation.essential).toBe(true);
    expect(confirmation.body).toBe(`Huduma appointment booked. Code ${codeText(first.code)}. Passport, Huduma Centre GPO (Teleposta Towers, Kenyatta Avenue), Mon 30 Nov at 09:00. Show this code at the gate. Bring your ID card and e-Citizen application receipt.`);
    // Sunday 29 Nov 18:00 in Nairobi.
    expect(new Date(reminder.next_attempt_at).toISOString()).toBe('2026-11-29T15:00:00.000Z');
    expect(reminder).toMatchObject({ kind: 'reminder', essential: false, status: 'queued', dedupe_key: `booking:${first.id}:reminder` });
    expect(reminder.body).toBe(`Reminder: Huduma appointment tomorrow, Mon 30 Nov at 09:00, Huduma Centre GPO (Teleposta Towers, Kenyatta Avenue). Passport. Code ${codeText(first.code)}. Bring your ID card and e-Citizen application receipt.`);

    // Cancel: My appointments → 1 → 1 Cancel it → 1 Yes.
    expect(await walk(phone, '4', '1', '1', '1')).toBe('END Your appointment is cancelled. We will send you an SMS.');
    sms = await outboxOf(first.id);
    expect(sms.map((s) => [s.kind, s.status])).toEqual([['booking', 'queued'], ['reminder', 'cancelled'], ['booking', 'queued']]);
    expect(sms[2].body).toBe(`Huduma appointment ${codeText(first.code)} (Passport, Huduma Centre GPO, Mon 30 Nov at 09:00) is cancelled.`);
    expect((await bookingsOf(phone))[0].status).toBe('cancelled');
    expect(await seats('nairobi-gpo', 'passport', '2026-11-30T06:00:00Z')).toBe(0);

    // Book again (1 GPO, her last visit; Tue 1 Dec 09:00), then move it to Wed 2 Dec 10:00.
    await walk(phone, '3', '1', '1', '5', '3', '1');
    const second = (await bookingsOf(phone))[1];
    expect(new Date((await outboxOf(second.id)).find((s) => s.kind === 'reminder').next_attempt_at).toISOString()).toBe('2026-11-30T15:00:00.000Z');
    expect(await walk(phone, '4', '1', '2', '6', '5', '1')).toMatch(/^END Moved to Wed 2 Dec at 10:00\. Your new code is \d{4} \d{4}\. We will send you an SMS\.$/);
    const [, old, moved] = await bookingsOf(phone);
    expect(old.status).toBe('moved');
    expect(moved).toMatchObject({ status: 'active', replaces_id: old.id });
    expect(new Date(moved.starts_at).toISOString()).toBe('2026-12-02T07:00:00.000Z');
    expect((await outboxOf(old.id)).map((s) => [s.kind, s.status])).toEqual([['booking', 'queued'], ['reminder', 'cancelled']]);
    const movedSms = await outboxOf(moved.id);
    expect(movedSms.map((s) => [s.kind, s.status])).toEqual([['booking', 'queued'], ['reminder', 'queued']]);
    expect(movedSms[0].body).toContain(`moved. New code ${codeText(moved.code)}. Passport, Huduma Centre GPO (Teleposta Towers, Kenyatta Avenue), Wed 2 Dec at 10:00.`);
    expect(new Date(movedSms[1].next_attempt_at).toISOString()).toBe('2026-12-01T15:00:00.000Z');
    // The old seat was freed, the new one taken, in the same transaction.
    expect(await seats('nairobi-gpo', 'passport', '2026-12-01T06:00:00Z')).toBe(0);
    expect(await seats('nairobi-gpo', 'passport', '2026-12-02T07:00:00Z')).toBe(1);
  });

  test('a booking for tomorrow made after 18:00 gets its confirmation but no reminder; Kiswahili SMS for a Kiswahili session', async () => {
    t.setNow('2026-11-25T16:00:00Z'); // Wed 25 Nov, 19:00 in Nairobi
    const phone = await newPhone('sw');
    expect(await walk(phone, ...PASSPORT_AT_GPO, '1', '1', '1')).toMatch(/^END Miadi imewekwa\. Nambari yako ni \d{4} \d{4}\.\nPasipoti\nKituo cha Huduma GPO\nAlhamisi 26 Nov saa 08:00\n/);
    const [b] = await bookingsOf(phone);
    const sms = await outboxOf(b.id);
    expect(sms.map((s) => s.kind)).toEqual(['booking']);
    expect(sms[0].body).toBe(`Miadi ya Huduma imewekwa. Nambari ${codeText(b.code)}. Pasipoti, Kituo cha Huduma GPO (Teleposta Towers, Kenyatta Avenue), Alhamisi 26 Nov saa 08:00. Onyesha nambari hii mlangoni. Leta kitambulisho chako na risiti ya ombi la e-Citizen.`);
  });
});

describe('time zone', () => {
  test('a booking made at 23:30 UTC is for the Nairobi day: Fri 27 Nov 08:00 is 05:00Z, and shows as Friday', async () => {
    t.setNow('2026-11-26T23:30:00Z'); // Fri 27 Nov, 02:30 in Nairobi
    const phone = await newPhone();
    expect(await walk(phone, ...PASSPORT_AT_GPO)).toMatch(/^CON Choose the day:\n1\. Fri 27 Nov\n2\. Mon 30 Nov\n/);
    await phone.reply('1');
    await phone.reply('1');
    expect(await phone.reply('1')).toMatch(/\nFri 27 Nov at 08:00\n/);
    const [b] = await bookingsOf(phone);
    expect(new Date(b.starts_at).toISOString()).toBe('2026-11-27T05:00:00.000Z');
    expect(await t.rt.services.appointments.listUpcoming(phone.phoneNumber)).toEqual([expect.objectContaining({ day: '2026-11-27', time: '08:00' })]);
    expect(await walk(phone, '4')).toBe('CON Your appointments:\n1. Passport Fri 27 Nov 08:00\n0 Back\n00 Home');
    // The reminder: Thursday 26 Nov 18:00 in Nairobi had already passed at 02:30 on Friday.
    expect((await outboxOf(b.id)).map((s) => s.kind)).toEqual(['booking']);
  });
});

describe('closures (late-gazetted holidays, one-off closures) from the closures table', () => {
  afterEach(async () => t.rt.db('closures').del());

  test('a closure for every centre and one for GPO only take those days out of the list; a row with open=true opens a holiday', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    await t.rt.db('closures').insert([
      { day: '2026-11-30', centre_code: null, reason: 'Idd-ul-Fitr (gazetted late)' },
      { day: '2026-11-26', centre_code: 'nairobi-gpo', reason: 'Power works at Teleposta Towers' },
    ]);
    const phone = await newPhone();
    expect(await walk(phone, ...PASSPORT_AT_GPO)).toBe('CON Choose the day:\n1. Wed 25 Nov\n2. Fri 27 Nov\n3. Tue 1 Dec\n4. Wed 2 Dec\n5. Thu 3 Dec\n6. Fri 4 Dec\n7. Mon 7 Dec\n8. Tue 8 Dec\n9. Wed 9 Dec\n98 More\n0 Back\n00 Home');
    // City Square is open on the 26th, not on the 30th.
    expect(await t.rt.services.appointments.listDays('passport', 'nairobi-city-square')).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-07', '2026-12-08', '2026-12-09']);
    // A closure added after the list was shown: the booking is refused like a full slot.
    const late = await newPhone();
    await walk(late, ...PASSPORT_AT_GPO, '2', '1'); // Fri 27 Nov 08:00, confirm screen
    await t.rt.db('closures').insert({ day: '2026-11-27', centre_code: null, reason: 'National day of mourning' });
    expect(await late.reply('1')).toMatch(/^CON Sorry, that day is now full\.\nChoose the day:\n1\. Wed 25 Nov\n2\. Tue 1 Dec\n/);
    expect(await bookingsOf(late)).toEqual([]);

    t.setNow('2026-12-21T06:00:00Z');
    expect(await t.rt.services.appointments.listDays('passport', 'nairobi-gpo')).not.toContain('2026-12-25');
    await t.rt.db('closures').insert({ day: '2026-12-25', centre_code: 'nairobi-gpo', open: true, reason: 'Christmas opening (test)' });
    expect(await t.rt.services.appointments.listDays('passport', 'nairobi-gpo')).toContain('2026-12-25');
  });

  test('a centre closed for the whole window says so, in both languages, and Back returns to the centres', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const days = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2026, 10, 25 + i)).toISOString().slice(0, 10));
    await t.rt.db('closures').insert(days.map((day) => ({ day, centre_code: 'nyeri', reason: 'Renovation' })));
    const en = await newPhone();
    expect(await walk(en, '3', '1', '5', '8')).toBe('CON Sorry, Huduma Centre Nyeri has no free time in the next 10 opening days. Go back to choose another centre.\n0 Back\n00 Home');
    expect(await en.reply('0')).toMatch(/^CON Choose the centre:\n1\. City Square\n/);
    const sw = await newPhone('sw');
    expect(await walk(sw, '3', '1', '5', '8')).toBe('CON Samahani, Kituo cha Huduma Nyeri hakina nafasi katika siku 10 za kazi zijazo. Rudi uchague kituo kingine.\n0 Rudi\n00 Mwanzo');
  });
});

describe('a slot or a day filled between the list and the choice', () => {
  beforeAll(async () => {
    await t.rt.db('centre_capacity').insert({ centre_code: 'nairobi-gpo', service_code: 'good_conduct', capacity_per_slot: 1 });
  });
  // Book → 4 Police clearance → 5 Nairobi and Central → 3 GPO.
  const GOOD_CONDUCT_AT_GPO = ['3', '4', '5', '3'];

  test.each([
    ['en', 'CON Sorry, that time was just taken. Choose another.\nThu 26 Nov. Choose the time:\n1. 08:30\n', /^END Booked\./],
    ['sw', 'CON Samahani, saa hiyo imechukuliwa sasa hivi. Chagua nyingine.\nAlhamisi 26 Nov. Chagua saa:\n1. 08:30\n', /^END Miadi imewekwa\./],
  ] as const)('%s: the last seat taken by someone else at the confirm screen → told so, the times again, another time books', async (lang, justTaken, booked) => {
    t.setNow('2026-11-25T06:00:00Z');
    const slow = await newPhone(lang);
    const quick = await newPhone(lang);
    // Each language starts from an empty slot.
    await t.rt.db('slot_counts').where({ centre_code: 'nairobi-gpo', service_code: 'good_conduct' }).del();
    await t.rt.db('bookings').where({ centre_code: 'nairobi-gpo', service_code: 'good_conduct' }).del();
    await walk(slow, ...GOOD_CONDUCT_AT_GPO, '2', '1'); // Thu 26 Nov 08:00, confirm
    expect(await walk(quick, ...GOOD_CONDUCT_AT_GPO, '2', '1', '1')).toMatch(booked);
    const answer = await slow.reply('1');
    expect(answer.slice(0, justTaken.length)).toBe(justTaken);
    expect(await slow.reply('1')).toMatch(lang === 'en' ? /\nThu 26 Nov at 08:30\n/ : /\nAlhamisi 26 Nov saa 08:30\n/);
    expect(await slow.reply('1')).toMatch(booked);
    expect(await seats('nairobi-gpo', 'good_conduct', '2026-11-26T05:00:00Z')).toBe(1);
  });

  test('the whole day filled meanwhile → "that day is now full" and the days again', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone();
    expect(await walk(phone, ...GOOD_CONDUCT_AT_GPO)).toMatch(/^CON Choose the day:\n1\. Wed 25 Nov\n2\. Thu 26 Nov\n3\. Fri 27 Nov\n/);
    // Others book every seat of Fri 27 Nov (capacity 1 per slot).
    const slots = t.rt.services.appointments.calendar.slotTimes().map((time) => t.rt.services.appointments.calendar.startOf('2026-11-27', time));
    await t.rt.db('slot_counts').insert(slots.map((starts_at) => ({ centre_code: 'nairobi-gpo', service_code: 'good_conduct', starts_at, booked: 1 }))).onConflict(['centre_code', 'service_code', 'starts_at']).merge();
    expect(await phone.reply('3')).toBe('CON Sorry, that day is now full.\nChoose the day:\n1. Wed 25 Nov\n2. Thu 26 Nov\n3. Mon 30 Nov\n4. Tue 1 Dec\n5. Wed 2 Dec\n6. Thu 3 Dec\n98 More\n0 Back\n00 Home');
    // Numbers stay global across pages: 7 is on the next page, Fri 4 Dec.
    expect(await phone.reply('98')).toMatch(/^CON 7\. Fri 4 Dec\n8\. Mon 7 Dec\n9\. Tue 8 Dec\n/);
  });
});

describe('rules', () => {
  test('a slot less than 30 minutes ahead is refused even from a stale screen', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone();
    await walk(phone, ...PASSPORT_AT_GPO, '1', '1'); // Wed 25 Nov 09:30, confirm (09:00 now)
    t.setNow('2026-11-25T06:10:00Z'); // 09:10: 09:30 is 20 minutes ahead
    expect(await phone.reply('1')).toMatch(/^CON Sorry, that time was just taken\. Choose another\.\nWed 25 Nov\. Choose the time:\n1\. 10:00\n/);
    expect(await bookingsOf(phone)).toEqual([]);
  });

  test('one active booking per phone and service is also enforced by the database', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone();
    await walk(phone, ...PASSPORT_AT_GPO, '3', '1', '1');
    const [b] = await bookingsOf(phone);
    await expect(t.rt.db('bookings').insert({ ...b, id: undefined, code: newBookingCode(), starts_at: new Date('2026-12-01T06:00:00Z') })).rejects.toThrow(/bookings_one_active_per_service_uq/);
  });

  test('when the reminder cannot be queued, the booking, its seat and its confirmation SMS all roll back', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone();
    const restore = await failInserts(t.rt.db, 'sms_outbound', "NEW.kind = 'reminder'");
    let screen: string;
    try {
      screen = await walk(phone, ...PASSPORT_AT_GPO, '4', '3', '1'); // Mon 30 Nov 09:00: a reminder is due
    } finally {
      await restore();
    }
    expect(screen).not.toMatch(/Booked/);
    expect(await bookingsOf(phone)).toEqual([]);
    expect(await t.rt.db('sms_outbound').where({ to_phone: phone.phoneNumber })).toEqual([]);
    expect(await seats('nairobi-gpo', 'passport', '2026-11-30T06:00:00Z')).toBe(0);
  });

  test('the daily limit holds at commit: four bookings confirmed at once from one phone, three are made', async () => {
    // The limit is first checked when the booking starts; four bookings started before any was
    // made all pass that check, so only the check in the booking's transaction can stop the fourth.
    t.setNow('2026-11-25T06:00:00Z');
    const phone = (await newPhone()).phoneNumber;
    const services = ['passport', 'id_card', 'birth_certificate', 'good_conduct'];
    const results = await Promise.all(
      services.map((service) => t.rt.services.appointments.book({ phone, lang: 'en', channel: 'ussd' }, { service, centre: 'nairobi-gpo', day: '2026-11-30', time: '10:00' })),
    );
    expect(results.map((r) => r.kind).sort()).toEqual(['booked', 'booked', 'booked', 'limit']);
    expect(await t.rt.db('bookings').where({ phone })).toHaveLength(3);
  });

  test('booking codes: 8 digits with a Luhn check digit', () => {
    for (let i = 0; i < 200; i++) {
      const code = newBookingCode();
      expect(code).toMatch(/^[1-9]\d{7}$/);
      expect(isBookingCode(code)).toBe(true);
      // A single mistyped digit is caught.
      const typo = code.slice(0, 3) + String((Number(code[3]) + 1) % 10) + code.slice(4);
      expect(isBookingCode(typo)).toBe(false);
    }
    // The textbook example: 7992739871 has the check digit 3.
    expect(luhnDigit('7992739871')).toBe('3');
  });
});

describe('preselected service (FlowInput.service): the login-code reset flow sends people to e-Citizen account help', () => {
  test('the service list is skipped; Back from the regions is the main menu', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const machine = bookAppointment.provide({ actors: flowActors(t.rt.services) as never });
    const hop = { phone: '+254711399999', lang: 'en' as const, channel: 'ussd' as const, sessionId: 'preselected' };
    const actor = runInHop(hop, () => createActor(machine, { input: { service: ECITIZEN_SUPPORT_SERVICE } }).start());
    const snap = await waitFor(actor, (s) => s.status !== 'active' || s.hasTag('prompt'));
    expect(snap.value).toBe('chooseRegion');
    expect(snap.context.service).toBe('ecitizen_support');
    expect(snap.context.regions).toContain('Nairobi and Central');
    expect(snap.can({ type: 'BACK' })).toBe(false);
    actor.stop();
  });
});

describe('sizes', () => {
  test('every appointment text is GSM-7 (no accent or curly quote halves a screen)', () => {
    for (const lang of ['en', 'sw'] as const) {
      for (const [key, text] of Object.entries(booking[lang])) expect([key, septets(text) !== null]).toEqual([key, true]);
    }
  });

  test('the END screens fit one 160-character page in both languages, with the longest names', () => {
    const longest = { code: 'x', name: 'Laikipia (Makutano)' };
    const screens: Screen[] = [
      { lines: [msg('book.booked', { code: codeText('12345678'), summary: summaryMsg('ecitizen_support', longest, '2026-11-25', '16:30') })] },
      { lines: [msg('book.duplicate', { service: serviceMsg('ecitizen_support'), day: dayMsg('2026-11-25'), time: '16:30' })] },
      { lines: [msg('book.limit')] },
      { lines: [msg('book.unavailable')] },
      { lines: [msg('appt.none')] },
      { lines: [msg('appt.cancelled')] },
      { lines: [msg('appt.gone')] },
      { lines: [msg('appt.moved', { day: dayMsg('2026-11-25'), time: '16:30', code: codeText('12345678') })] },
    ];
    for (const lang of ['en', 'sw'] as const) {
      for (const screen of screens) expect(renderPages(screen, { lang, limit: 160, final: true })).toHaveLength(1);
    }
    // Prompt screens with the longest names fit one page too (lists may page, with 98).
    const prompts: Screen[] = [
      { lines: [msg('book.confirm_title'), summaryMsg('ecitizen_support', longest, '2026-11-25', '16:30')], items: [msg('book.confirm')] },
      { lines: [msg('appt.detail', { summary: summaryMsg('ecitizen_support', longest, '2026-11-25', '16:30'), code: codeText('12345678') })], items: [msg('appt.cancel'), msg('appt.move')] },
      { lines: [msg('appt.confirm_cancel', { summary: summaryMsg('ecitizen_support', longest, '2026-11-25', '16:30') })], items: [msg('appt.yes_cancel')] },
      { lines: [msg('appt.confirm_move', { service: serviceMsg('ecitizen_support'), day: dayMsg('2026-11-25'), time: '16:30' })], items: [msg('book.confirm')] },
      { error: msg('book.just_taken'), lines: [msg('book.choose_time', { day: dayMsg('2026-11-25') })], items: [{ text: '16:30' }] },
    ];
    for (const lang of ['en', 'sw'] as const) {
      for (const screen of prompts) expect(renderPages(screen, { lang, limit: 160, final: false })).toHaveLength(1);
    }
  });

  test('the session record stays under 2 KB on the biggest booking screens', async () => {
    t.setNow('2026-11-25T06:00:00Z');
    const phone = await newPhone('sw');
    const size = async () => Buffer.byteLength((await t.rt.store.get(`ussd:s:${phone.sessionId}`)) ?? '');
    const sizes: number[] = [];
    await phone.dial();
    // Western: the region with the most centres (10); then the day with the most times, and confirm.
    for (const input of ['3', '8', '8', '1', '2', '1']) {
      await phone.reply(input);
      sizes.push(await size());
    }
    process.stdout.write(`booking session record: largest ${Math.max(...sizes)} bytes\n`);
    expect(Math.max(...sizes)).toBeLessThan(2048);
  });
});
