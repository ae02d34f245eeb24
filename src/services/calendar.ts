import Holidays from 'date-holidays';

/**
 * Huduma Centre opening days and slots, in the centres' time zone (Africa/Nairobi).
 *
 * Days are 'YYYY-MM-DD' strings and times 'HH:MM' strings, both local to the centres: that is how a
 * citizen thinks of an appointment, and it keeps flow contexts small. Instants (timestamptz in
 * Postgres, `Date` here) are always UTC; conversion happens only in this file.
 */
export interface OpeningHours {
  timeZone: string;
  /** 'HH:MM', local. */
  opens: string;
  /** 'HH:MM', local: the last slot ends at this time. */
  closes: string;
  slotMinutes: number;
}

export const HUDUMA_HOURS: OpeningHours = { timeZone: 'Africa/Nairobi', opens: '08:00', closes: '17:00', slotMinutes: 30 };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

export const isDay = (s: string): boolean => DAY.test(s) && addDays(s, 0) === s;
export const isTime = (s: string): boolean => TIME.test(s);

function parts(day: string): [number, number, number] {
  const m = DAY.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The day `n` days after `day` (calendar arithmetic, no time zone involved). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = parts(day);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: string): number {
  const [y, m, d] = parts(day);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
const timeOf = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall-clock day and time of an instant. */
export function localParts(instant: Date, timeZone: string): { day: string; time: string } {
  const p: Record<string, string> = {};
  for (const { type, value } of formatter(timeZone).formatToParts(instant)) p[type] = value;
  return { day: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/** Offset of local time from UTC at an instant, in ms (Nairobi: +3 h, no summer time; computed anyway). */
function offsetAt(instant: Date, timeZone: string): number {
  const p: Record<string, string> = {};
  for (const { type, value } of formatter(timeZone).formatToParts(instant)) p[type] = value;
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

const instants = new Map<string, number>();

/** The instant at which the local clock shows `day` `time` (memoised: Intl formatting is slow, and slot lists ask often). */
export function zonedInstant(day: string, time: string, timeZone: string): Date {
  const key = `${timeZone} ${day} ${time}`;
  let ms = instants.get(key);
  if (ms === undefined) {
    const [y, m, d] = parts(day);
    const guess = Date.UTC(y, m - 1, d, Math.floor(minutesOf(time) / 60), minutesOf(time) % 60);
    const first = guess - offsetAt(new Date(guess), timeZone);
    ms = guess - offsetAt(new Date(first), timeZone);
    if (instants.size > 50_000) instants.clear();
    instants.set(key, ms);
  }
  return new Date(ms);
}

/** A one-off change to the calendar, from the `closures` table. */
export interface Closure {
  day: string;
  /** null: every centre. */
  centre: string | null;
  open: boolean;
}

/**
 * Opening days: weekdays, minus Kenyan public holidays (the date-holidays library, with its
 * Sunday→Monday substitutes), minus closures, plus days a closure row re-opens.
 */
export class OpeningCalendar {
  private readonly holidaysByYear = new Map<number, Set<string>>();
  private readonly holidays = new Holidays('KE', { types: ['public'] });

  constructor(readonly hours: OpeningHours = HUDUMA_HOURS) {}

  /** Kenyan public holidays in a year, as days. */
  publicHolidays(year: number): Set<string> {
    let set = this.holidaysByYear.get(year);
    if (!set) {
      set = new Set(this.holidays.getHolidays(year).filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)));
      this.holidaysByYear.set(year, set);
    }
    return set;
  }

  isPublicHoliday(day: string): boolean {
    return this.publicHolidays(parts(day)[0]).has(day);
  }

  /** Is the centre open that day? `closures` are the rows for that day (any centre). */
  isOpen(day: string, centre: string, closures: Closure[]): boolean {
    const mine = closures.filter((c) => c.day === day && (c.centre === null || c.centre === centre));
    // A centre's own row wins over a row for every centre.
    const exception = mine.find((c) => c.centre === centre) ?? mine.find((c) => c.centre === null);
    if (exception) return exception.open;
    const wd = weekday(day);
    return wd !== 0 && wd !== 6 && !this.isPublicHoliday(day);
  }

  /** Every slot start of a day, local 'HH:MM'. */
  slotTimes(): string[] {
    const out: string[] = [];
    for (let m = minutesOf(this.hours.opens); m + this.hours.slotMinutes <= minutesOf(this.hours.closes); m += this.hours.slotMinutes) out.push(timeOf(m));
    return out;
  }

  isSlotTime(time: string): boolean {
    return isTime(time) && this.slotTimes().includes(time);
  }

  startOf(day: string, time: string): Date {
    return zonedInstant(day, time, this.hours.timeZone);
  }

  local(instant: Date): { day: string; time: string } {
    return localParts(instant, this.hours.timeZone);
  }
}
