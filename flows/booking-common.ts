import type { Msg, Screen } from './types';
import { msg } from './lib';
import { isMessageKey, type MessageKey } from '../src/i18n';

/**
 * What the appointment flows (book-appointment.ts, manage-booking.ts) and the appointment service
 * (src/services/appointments.ts) exchange. Days are 'YYYY-MM-DD' and times 'HH:MM', local to the
 * centres (Africa/Nairobi): compact in the persisted context, and rendered here without any clock.
 * No phone number: the service reads the dialling phone from the hop.
 */

/** A centre as the flows show it: its code and its name without "Huduma Centre". */
export interface CentreRef {
  code: string;
  name: string;
}

/** One of the dialling phone's upcoming appointments. */
export interface Appointment {
  id: number;
  code: string;
  service: string;
  centre: CentreRef;
  day: string;
  time: string;
}

export type CentreChoices =
  | { kind: 'ok'; last: CentreRef | null; regions: string[] }
  /** This phone already has an active appointment for the service. */
  | { kind: 'duplicate'; existing: Appointment }
  /** This phone made its 3 bookings today. */
  | { kind: 'limit' };

export type BookResult =
  | { kind: 'booked'; code: string }
  /** The slot filled up (or came too close) between the list and the confirmation. */
  | { kind: 'taken' }
  | { kind: 'duplicate'; existing: Appointment }
  | { kind: 'limit' };

export type MoveResult = { kind: 'moved'; code: string } | { kind: 'taken' } | { kind: 'gone' };
export type CancelResult = { kind: 'cancelled' } | { kind: 'gone' };

/** The bookable service that the e-Citizen login-code reset flow sends people to when it cannot help. */
export const ECITIZEN_SUPPORT_SERVICE = 'ecitizen_support';

/** A service's short name; a service added to the data before the catalogue shows its code. */
export const serviceMsg = (code: string): Msg => (isMessageKey(`svc.${code}`) ? msg(`svc.${code}` as MessageKey) : { text: code });

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

/** A region's name in the session's language; a region the catalogue lacks is shown as the data has it. */
export const regionMsg = (region: string): Msg => (isMessageKey(`region.${slug(region)}`) ? msg(`region.${slug(region)}` as MessageKey) : { text: region });

/** "Mon 30 Nov" / "Jumatatu 30 Nov". Computed from the day string alone: no clock, no time zone. */
export function dayMsg(day: string): Msg {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return msg('day.label', { wd: msg(`wd.${wd}` as MessageKey), d, mon: msg(`mon.${m}` as MessageKey) });
}

/** "Huduma Centre GPO" / "Kituo cha Huduma GPO". */
export const centreMsg = (c: CentreRef): Msg => msg('book.centre', { name: c.name });

/** The four lines every summary shows: service, centre, day and time. */
export const summaryMsg = (service: string, centre: CentreRef, day: string, time: string): Msg =>
  msg('book.summary', { service: serviceMsg(service), centre: centreMsg(centre), day: dayMsg(day), time });

/** "4829 1573": eight digits read aloud in two groups. */
export const codeText = (code: string): string => (code.length === 8 ? `${code.slice(0, 4)} ${code.slice(4)}` : code);

/** The day list, shared by booking and moving. "That day just filled up" above it when it did. */
export const daysScreen = (ctx: { problem?: string; days: string[] }): Screen => ({
  ...(ctx.problem === 'day_full' ? { error: msg('book.day_full') } : {}),
  lines: [msg('book.choose_day')],
  items: ctx.days.map(dayMsg),
});

/** The free times of a day, shared by booking and moving. "That time was just taken" above it when it was. */
export const timesScreen = (ctx: { problem?: string; day?: string; times: string[] }): Screen => ({
  ...(ctx.problem === 'taken' ? { error: msg('book.just_taken') } : {}),
  lines: [msg('book.choose_time', { day: dayMsg(ctx.day ?? '2000-01-01') })],
  items: ctx.times.map((t): Msg => ({ text: t })),
});
