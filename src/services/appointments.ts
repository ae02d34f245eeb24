import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../db';
import { enqueueSms } from '../sms/outbox';
import type { Lang } from '../../flows/types';
import { msg } from '../../flows/lib';
import {
  centreMsg, codeText, dayMsg, serviceMsg,
  type Appointment, type BookResult, type CancelResult, type CentreChoices, type CentreRef, type MoveResult,
} from '../../flows/booking-common';
import { isMessageKey, translate, type MessageKey } from '../i18n';
import { OpeningCalendar, addDays, isDay, type Closure } from './calendar';
import { luhnDigit } from '../domain/luhn';

/** Who is booking, from the hop (never from a flow's context). */
export interface Booker {
  phone: string;
  lang: Lang;
  channel: 'ussd' | 'sms' | 'staff';
  /** 'citizen' for self-service; a staff id when staff book for someone (later). */
  madeBy?: string;
}

export interface SlotChoice {
  service: string;
  centre: string;
  day: string;
  time: string;
}

export interface AppointmentOptions {
  /** The clock. Every rule about "now" (lead time, today's limit, the day list) reads it. */
  now: () => Date;
  calendar?: OpeningCalendar;
  /** How many opening days ahead can be booked. */
  horizonDays?: number;
  /** A slot that starts sooner than this cannot be booked. */
  leadMinutes?: number;
  /** New bookings per phone per local day (moves do not count; cancelled ones do). */
  maxNewPerDay?: number;
  /** Local time of the reminder SMS, the evening before the appointment. */
  reminderTime?: string;
}

type Row = Record<string, unknown>;

/** Thrown inside a booking transaction to roll it back (and free the seat taken) with an answer. */
class Refusal extends Error {
  constructor(readonly result: BookResult) {
    super(result.kind);
  }
}

/** "Huduma Centre GPO" → "GPO": lists and SMS add "Huduma Centre" in the citizen's language. */
const shortName = (name: string): string => name.replace(/^Huduma Centre\s+/i, '');

/**
 * Booking codes: 8 digits, the last a Luhn check digit. Digits only, because citizens type on
 * feature-phone keypads, where a letter costs several presses and O/0, I/1 get mixed up; read aloud
 * as two groups of four ("4829 1573"). The check digit catches a mistyped digit or a swap of two
 * before any look-up, and an ID number typed by mistake (also 7–8 digits) 9 times in 10.
 * 9 million codes; unique among active bookings (a partial unique index), so a code of a finished
 * booking may come back years later, never while both are active.
 */
export function newBookingCode(): string {
  const body = String(randomInt(1_000_000, 10_000_000));
  return body + luhnDigit(body);
}

export { luhnDigit };

export const isBookingCode = (code: string): boolean => /^\d{8}$/.test(code) && luhnDigit(code.slice(0, 7)) === code.slice(7);

/**
 * Huduma Centre appointments: which services, centres, days and times can be booked, and the
 * booking, cancelling and moving of them. Capacity is enforced by the database (see the migration
 * 20261125_005_appointments.ts); each change enqueues its SMS in the same transaction.
 */
export class AppointmentService {
  readonly calendar: OpeningCalendar;
  private readonly now: () => Date;
  private readonly horizonDays: number;
  private readonly leadMs: number;
  private readonly maxNewPerDay: number;
  private readonly reminderTime: string;

  constructor(private readonly db: Db, opts: AppointmentOptions) {
    this.now = opts.now;
    this.calendar = opts.calendar ?? new OpeningCalendar();
    this.horizonDays = opts.horizonDays ?? 10;
    this.leadMs = (opts.leadMinutes ?? 30) * 60_000;
    this.maxNewPerDay = opts.maxNewPerDay ?? 3;
    this.reminderTime = opts.reminderTime ?? '18:00';
  }

  // ---------------------------------------------------------------- what can be booked

  /** Operational centres with a capacity above 0 for the service, with that capacity. */
  private offering(db: Knex | Knex.Transaction, service: string) {
    return db('centres as c')
      .join('bookable_services as bs', (j) => j.onVal('bs.service_code', service))
      .leftJoin('centre_capacity as cc', (j) => j.on('cc.centre_code', 'c.code').andOn('cc.service_code', 'bs.service_code'))
      .where('c.status', 'operational')
      .whereRaw('COALESCE(cc.capacity_per_slot, bs.capacity_per_slot) > 0');
  }

  /** Service codes that at least one centre takes appointments for, in the data's order. */
  async listServices(): Promise<string[]> {
    const rows = await this.db('bookable_services as bs')
      .whereExists((q) =>
        q.select(this.db.raw('1')).from('centres as c')
          .leftJoin('centre_capacity as cc', (j) => j.on('cc.centre_code', 'c.code').andOn('cc.service_code', 'bs.service_code'))
          .where('c.status', 'operational')
          .whereRaw('COALESCE(cc.capacity_per_slot, bs.capacity_per_slot) > 0'))
      .orderBy([{ column: 'bs.position' }, { column: 'bs.service_code' }])
      .select('bs.service_code');
    return rows.map((r: Row) => String(r.service_code));
  }

  /** Before choosing a centre: the phone's last centre, the regions, or why it cannot book this service. */
  async centreChoices(phone: string, service: string): Promise<CentreChoices> {
    const now = this.now();
    const existing = await this.activeFor(this.db, phone, service, now);
    if (existing) return { kind: 'duplicate', existing };
    if ((await this.newToday(this.db, phone, now)) >= this.maxNewPerDay) return { kind: 'limit' };
    const regions = await this.offering(this.db, service).distinct('c.region').orderBy('c.region');
    const lastRow = await this.db('bookings').where({ phone }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('centre_code');
    let last: CentreRef | null = null;
    if (lastRow) {
      const c = await this.offering(this.db, service).where('c.code', lastRow.centre_code).first('c.code', 'c.name');
      if (c) last = { code: String(c.code), name: shortName(String(c.name)) };
    }
    return { kind: 'ok', last, regions: regions.map((r: Row) => String(r.region)) };
  }

  async listCentres(service: string, region: string): Promise<CentreRef[]> {
    const rows = await this.offering(this.db, service).where('c.region', region).orderBy('c.name').select('c.code', 'c.name');
    return rows.map((r: Row) => ({ code: String(r.code), name: shortName(String(r.name)) }));
  }

  /** Effective capacity of one slot of a service at a centre; 0 when not offered there. */
  private async capacity(db: Knex | Knex.Transaction, service: string, centre: string): Promise<number> {
    const row = await this.offering(db, service).where('c.code', centre).first(db.raw('COALESCE(cc.capacity_per_slot, bs.capacity_per_slot) AS capacity'));
    return row ? Number(row.capacity) : 0;
  }

  private async closures(db: Knex | Knex.Transaction, centre: string, from: string, to: string): Promise<Closure[]> {
    const rows = await db('closures')
      .whereBetween('day', [from, to])
      .andWhere((q) => q.whereNull('centre_code').orWhere('centre_code', centre))
      .select(db.raw("to_char(day, 'YYYY-MM-DD') AS day"), 'centre_code', 'open');
    return rows.map((r: Row) => ({ day: String(r.day), centre: (r.centre_code as string | null) ?? null, open: Boolean(r.open) }));
  }

  /** Slot times of a day that start at least the lead time from now. */
  private futureTimes(day: string, now: Date): string[] {
    const earliest = now.getTime() + this.leadMs;
    return this.calendar.slotTimes().filter((t) => this.calendar.startOf(day, t).getTime() >= earliest);
  }

  /**
   * The next `horizonDays` opening days of a centre, from today (local) on. Today counts only if
   * it still has a slot far enough ahead.
   */
  private async window(db: Knex | Knex.Transaction, centre: string, now: Date): Promise<string[]> {
    const today = this.calendar.local(now).day;
    // Weekends and holidays: 10 opening days fit in well under 6 weeks.
    const last = addDays(today, this.horizonDays * 3 + 14);
    const closures = await this.closures(db, centre, today, last);
    const days: string[] = [];
    for (let day = today; days.length < this.horizonDays && day <= last; day = addDays(day, 1)) {
      if (!this.calendar.isOpen(day, centre, closures)) continue;
      if (day === today && this.futureTimes(day, now).length === 0) continue;
      days.push(day);
    }
    return days;
  }

  /** Starts (epoch ms) of the slots of a service at a centre that are full, between two instants. */
  private async fullSlots(db: Knex | Knex.Transaction, service: string, centre: string, capacity: number, from: Date, to: Date): Promise<Set<number>> {
    const rows = await db('slot_counts')
      .where({ centre_code: centre, service_code: service })
      .andWhere('starts_at', '>=', from)
      .andWhere('starts_at', '<', to)
      .andWhere('booked', '>=', capacity)
      .select('starts_at');
    return new Set(rows.map((r: Row) => new Date(r.starts_at as Date).getTime()));
  }

  /** Days within the window with at least one slot with room. */
  async listDays(service: string, centre: string): Promise<string[]> {
    const now = this.now();
    const capacity = await this.capacity(this.db, service, centre);
    if (capacity === 0) return [];
    const days = await this.window(this.db, centre, now);
    if (days.length === 0) return [];
    const full = await this.fullSlots(this.db, service, centre, capacity, this.calendar.startOf(days[0] as string, '00:00'), this.calendar.startOf(addDays(days[days.length - 1] as string, 1), '00:00'));
    return days.filter((day) => this.futureTimes(day, now).some((t) => !full.has(this.calendar.startOf(day, t).getTime())));
  }

  /** Times of a day with room; empty when the day is outside the window. */
  async listTimes(service: string, centre: string, day: string): Promise<string[]> {
    if (!isDay(day)) return [];
    const now = this.now();
    const capacity = await this.capacity(this.db, service, centre);
    if (capacity === 0) return [];
    if (!(await this.window(this.db, centre, now)).includes(day)) return [];
    const full = await this.fullSlots(this.db, service, centre, capacity, this.calendar.startOf(day, '00:00'), this.calendar.startOf(addDays(day, 1), '00:00'));
    return this.futureTimes(day, now).filter((t) => !full.has(this.calendar.startOf(day, t).getTime()));
  }

  /** The instant of a slot that may be booked now (open day in the window, slot time, lead time), else null. */
  private async bookableStart(db: Knex | Knex.Transaction, c: SlotChoice, now: Date): Promise<Date | null> {
    if (!isDay(c.day) || !this.calendar.isSlotTime(c.time)) return null;
    if (!this.futureTimes(c.day, now).includes(c.time)) return null;
    if (!(await this.window(db, c.centre, now)).includes(c.day)) return null;
    return this.calendar.startOf(c.day, c.time);
  }

  // ---------------------------------------------------------------- seats (capacity enforced by Postgres)

  /**
   * Takes one seat of a slot, or returns false when it is full (or the centre does not offer the
   * service). One conditional UPDATE: the row lock makes concurrent bookers of the slot wait for
   * each other, and the WHERE is re-checked on the row as the previous booker left it. The capacity
   * is read in the same statement, so an override applies at once.
   */
  private async takeSeat(trx: Knex.Transaction, service: string, centre: string, start: Date): Promise<boolean> {
    await trx('slot_counts').insert({ centre_code: centre, service_code: service, starts_at: start, booked: 0 }).onConflict(['centre_code', 'service_code', 'starts_at']).ignore();
    const { rows } = await trx.raw(
      `UPDATE slot_counts s SET booked = s.booked + 1
        WHERE s.centre_code = ? AND s.service_code = ? AND s.starts_at = ?
          AND s.booked < (SELECT COALESCE(cc.capacity_per_slot, bs.capacity_per_slot)
                            FROM bookable_services bs
                            JOIN centres c ON c.code = ? AND c.status = 'operational'
                            LEFT JOIN centre_capacity cc ON cc.service_code = bs.service_code AND cc.centre_code = c.code
                           WHERE bs.service_code = ?)
        RETURNING s.booked`,
      [centre, service, start, centre, service],
    );
    return (rows as unknown[]).length === 1;
  }

  private async freeSeat(trx: Knex.Transaction, service: string, centre: string, start: Date): Promise<void> {
    await trx('slot_counts').where({ centre_code: centre, service_code: service, starts_at: start }).andWhere('booked', '>', 0).decrement('booked', 1);
  }

  // ---------------------------------------------------------------- bookings of a phone

  /** Serialises one phone's booking changes (its daily limit and one-per-service rule). */
  private async lockPhone(trx: Knex.Transaction, phone: string): Promise<void> {
    await trx.raw("SELECT pg_advisory_xact_lock(hashtext('booking:' || ?))", [phone]);
  }

  /** Active bookings whose time has passed become `expired` (lazily: nothing else needs them active). */
  private async expirePast(trx: Knex.Transaction, phone: string, now: Date): Promise<void> {
    await trx('bookings').where({ phone, status: 'active' }).andWhere('starts_at', '<=', now).update({ status: 'expired', updated_at: now });
  }

  private toAppointment(r: Row): Appointment {
    const { day, time } = this.calendar.local(new Date(r.starts_at as Date));
    return { id: Number(r.id), code: String(r.code), service: String(r.service_code), centre: { code: String(r.centre_code), name: shortName(String(r.centre_name)) }, day, time };
  }

  private upcoming(db: Knex | Knex.Transaction, phone: string, now: Date) {
    return db('bookings as b')
      .join('centres as c', 'c.code', 'b.centre_code')
      .where({ 'b.phone': phone, 'b.status': 'active' })
      .andWhere('b.starts_at', '>', now)
      .select('b.id', 'b.code', 'b.service_code', 'b.centre_code', 'c.name as centre_name', 'b.starts_at');
  }

  private async activeFor(db: Knex | Knex.Transaction, phone: string, service: string, now: Date): Promise<Appointment | null> {
    const row = await this.upcoming(db, phone, now).andWhere('b.service_code', service).first();
    return row ? this.toAppointment(row) : null;
  }

  /** New bookings (not moves) this phone made since local midnight. */
  private async newToday(db: Knex | Knex.Transaction, phone: string, now: Date): Promise<number> {
    const midnight = this.calendar.startOf(this.calendar.local(now).day, '00:00');
    const row = await db('bookings').where({ phone }).whereNull('replaces_id').andWhere('created_at', '>=', midnight).count<{ n: string }[]>('id as n').first();
    return Number(row?.n ?? 0);
  }

  /** The phone's upcoming appointments, soonest first. */
  async listUpcoming(phone: string): Promise<Appointment[]> {
    const rows = await this.upcoming(this.db, phone, this.now()).orderBy([{ column: 'b.starts_at' }, { column: 'b.id' }]);
    return rows.map((r: Row) => this.toAppointment(r));
  }

  // ---------------------------------------------------------------- changes

  private async insertBooking(trx: Knex.Transaction, who: Booker, c: { service: string; centre: string }, start: Date, now: Date, replaces: number | null): Promise<{ id: number; code: string }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const code = newBookingCode();
      const { rows } = await trx.raw(
        `INSERT INTO bookings (code, phone, service_code, centre_code, starts_at, status, made_by, channel, lang, replaces_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)
         ON CONFLICT (code) WHERE status = 'active' DO NOTHING
         RETURNING id`,
        [code, who.phone, c.service, c.centre, start, who.madeBy ?? 'citizen', who.channel, who.lang, replaces, now, now],
      );
      const row = (rows as Row[])[0];
      if (row) return { id: Number(row.id), code };
    }
    throw new Error('no free booking code after 10 tries');
  }

  /**
   * Books a slot. Everything (seat, booking, SMS, reminder) commits together or not at all.
   *
   * The seat is taken first: when a slot is contested, the many who lose it learn so after four
   * statements and give their connection back at once. Whoever wins then meets the rules about
   * the phone (one active booking per service, 3 new a day); a refusal rolls the seat back.
   */
  async book(who: Booker, c: SlotChoice): Promise<BookResult> {
    try {
      return await this.db.transaction(async (trx): Promise<BookResult> => {
        const now = this.now();
        await this.lockPhone(trx, who.phone);
        const start = await this.bookableStart(trx, c, now);
        if (!start || !(await this.takeSeat(trx, c.service, c.centre, start))) return { kind: 'taken' };
        await this.expirePast(trx, who.phone, now);
        const existing = await this.activeFor(trx, who.phone, c.service, now);
        if (existing) throw new Refusal({ kind: 'duplicate', existing });
        if ((await this.newToday(trx, who.phone, now)) >= this.maxNewPerDay) throw new Refusal({ kind: 'limit' });
        const { id, code } = await this.insertBooking(trx, who, c, start, now, null);
        await this.announce(trx, id, 'sms.booked', now);
        return { kind: 'booked', code };
      });
    } catch (err) {
      if (err instanceof Refusal) return err.result;
      throw err;
    }
  }

  /** Cancels one of the phone's upcoming appointments, frees its seat and cancels its reminder. */
  async cancel(phone: string, id: number): Promise<CancelResult> {
    return this.db.transaction(async (trx) => {
      const now = this.now();
      await this.lockPhone(trx, phone);
      const b = await trx('bookings').where({ id, phone, status: 'active' }).andWhere('starts_at', '>', now).forUpdate().first();
      if (!b) return { kind: 'gone' };
      await trx('bookings').where({ id }).update({ status: 'cancelled', cancelled_at: now, updated_at: now });
      await this.freeSeat(trx, String(b.service_code), String(b.centre_code), new Date(b.starts_at as Date));
      await this.cancelReminder(trx, id);
      await this.announce(trx, id, 'sms.cancelled', now);
      return { kind: 'cancelled' };
    });
  }

  /**
   * Moves an appointment to another day and time (same service and centre). The new seat is taken
   * first; only then is the old one freed, in the same transaction: if the new slot is full the
   * citizen keeps the old appointment untouched. The old booking becomes `moved`, a new one (new
   * code) replaces it, and the reminder follows.
   */
  async move(who: Booker, id: number, day: string, time: string): Promise<MoveResult> {
    return this.db.transaction(async (trx) => {
      const now = this.now();
      await this.lockPhone(trx, who.phone);
      const b = await trx('bookings').where({ id, phone: who.phone, status: 'active' }).andWhere('starts_at', '>', now).forUpdate().first();
      if (!b) return { kind: 'gone' };
      const service = String(b.service_code);
      const centre = String(b.centre_code);
      const oldStart = new Date(b.starts_at as Date);
      const start = await this.bookableStart(trx, { service, centre, day, time }, now);
      if (!start || start.getTime() === oldStart.getTime()) return { kind: 'taken' };
      if (!(await this.takeSeat(trx, service, centre, start))) return { kind: 'taken' };
      await this.freeSeat(trx, service, centre, oldStart);
      await trx('bookings').where({ id }).update({ status: 'moved', updated_at: now });
      await this.cancelReminder(trx, id);
      const next = await this.insertBooking(trx, who, { service, centre }, start, now, id);
      await this.announce(trx, next.id, 'sms.moved', now);
      return { kind: 'moved', code: next.code };
    });
  }

  // ---------------------------------------------------------------- SMS

  /**
   * The SMS about a change to booking `id`, in the booking's language, enqueued in the change's
   * transaction; for an active booking also the reminder at 18:00 local the evening before (none
   * when that moment has already passed, e.g. a booking for tomorrow made at 19:00).
   */
  private async announce(trx: Knex.Transaction, id: number, key: 'sms.booked' | 'sms.moved' | 'sms.cancelled', now: Date): Promise<void> {
    const b = await trx('bookings as b').join('centres as c', 'c.code', 'b.centre_code').where('b.id', id)
      .first('b.phone', 'b.code', 'b.service_code', 'b.starts_at', 'b.lang', 'b.status', 'c.name as centre_name', 'c.location_hint');
    const lang: Lang = b.lang === 'sw' ? 'sw' : 'en';
    const { day, time } = this.calendar.local(new Date(b.starts_at as Date));
    const service = String(b.service_code);
    const params = {
      code: codeText(String(b.code)),
      service: serviceMsg(service),
      centre: centreMsg({ code: '', name: shortName(String(b.centre_name)) }),
      hint: String(b.location_hint ?? shortName(String(b.centre_name))),
      day: dayMsg(day),
      time,
      bring: isMessageKey(`bring.${service}`) ? msg(`bring.${service}` as MessageKey) : msg('bring.default'),
    };
    const to = String(b.phone);
    await enqueueSms(trx, { to, body: translate(lang, msg(key, params)), kind: 'booking', essential: true, ref: `booking:${id}`, dedupeKey: `booking:${id}:${key}` });
    if (b.status !== 'active') return;
    const at = this.calendar.startOf(addDays(day, -1), this.reminderTime);
    if (at.getTime() <= now.getTime()) return;
    await enqueueSms(trx, { to, body: translate(lang, msg('sms.reminder', params)), kind: 'reminder', essential: false, sendAfter: at, ref: `booking:${id}`, dedupeKey: `booking:${id}:reminder` });
  }

  private async cancelReminder(trx: Knex.Transaction, id: number): Promise<void> {
    await trx('sms_outbound').where({ ref: `booking:${id}`, kind: 'reminder', status: 'queued' }).update({ status: 'cancelled', updated_at: trx.fn.now() });
  }
}
