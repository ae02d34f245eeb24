import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../store/types';
import type { Db } from '../db';
import type { Lang } from '../../flows/types';
import { translate } from '../i18n';
import { maskPhone } from '../log';
import { enqueueSms } from '../sms/outbox';
import { audit } from './audit';
import type { BlindIndex } from './blind-index';
import type { Sealer } from './sealer';
import type { ResetService } from './reset';
import type { AppointmentService } from './appointments';
import { tokenDetail, type Actor } from './staff';
import type { Appointment } from '../../flows/booking-common';

/** A consent code works this long after it is sent. */
export const CODE_VALID_MIN = 10;
/** A verified consent lasts this long: the visit at the counter. */
export const CONSENT_VALID_MIN = 30;
/** Wrong codes before a consent (or a phone change) must start again. */
export const MAX_CODE_ATTEMPTS = 3;
/** Codes per consent, and the wait between two sends: no SMS bombing of a citizen from the counter. */
export const MAX_CODE_SENDS = 3;
export const RESEND_AFTER_S = 60;
/** Default of CONSENT_SMS_PER_CITIZEN_PER_HOUR: codes to one citizen across all visits and staff. */
export const CONSENT_SMS_PER_CITIZEN_PER_HOUR = 5;
/** Citizen look-ups per staff member per hour (peer survey, "ten things" 5: limits per staff member). */
export const LOOKUPS_PER_HOUR = 60;

export interface VisitInfo {
  id: number;
  staffId: number;
  centreCode: string;
  citizenId: number;
  phoneMasked: string;
  state: 'found' | 'code_sent' | 'open' | 'expired' | 'closed' | 'failed';
  codeExpiresAt: Date | null;
  expiresAt: Date | null;
  attemptsLeft: number;
  sendsLeft: number;
  resendAt: Date | null;
}

export interface ApplicationView {
  reference: string;
  type: string;
  status: string;
  reason: string | null;
  collectionCentre: string | null;
  submittedOn: string;
  updatedAt: Date;
}

export interface CitizenView {
  citizenId: number;
  firstName: string;
  lastName: string;
  birthYear: number;
  phoneMasked: string;
  language: Lang;
  applications: ApplicationView[];
  openPhoneChange: { id: number; status: string; newPhoneMasked: string } | null;
  /** Upcoming appointments of the registered phone; `mine`: at the actor's centre, so they may move or cancel it. */
  bookings: Array<Appointment & { mine: boolean }>;
}

export interface PhoneChangeView {
  id: number;
  status: string;
  citizenId: number;
  citizenName: string;
  oldPhoneMasked: string;
  newPhone: string;
  newPhoneMasked: string;
  centreCode: string;
  requestedBy: number;
  requestedByUsername: string;
  approvedByUsername: string | null;
  createdAt: Date;
  verifiedAt: Date | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  codeExpiresAt: Date | null;
  attemptsLeft: number;
}

/** A refusal of scope: the thing exists but is not this staff member's (or not their centre's). */
export type Denied = { kind: 'forbidden' } | { kind: 'not_found' };

export type LookupResult = { kind: 'found'; visit: VisitInfo } | { kind: 'not_found' } | { kind: 'rate_limited' } | { kind: 'bad_id' };
export type SendResult = { kind: 'sent'; visit: VisitInfo } | { kind: 'already_open' } | { kind: 'too_soon'; resendAt: Date } | { kind: 'too_many_sends' } | { kind: 'citizen_limit' } | { kind: 'closed' } | Denied;
export type VerifyResult = { kind: 'ok'; visit: VisitInfo } | { kind: 'wrong_code'; attemptsLeft: number } | { kind: 'expired' } | { kind: 'too_many_attempts' } | { kind: 'no_code' } | { kind: 'closed' } | Denied;
export type ViewResult = { kind: 'ok'; citizen: CitizenView; visit: VisitInfo } | { kind: 'consent_required'; visit: VisitInfo } | Denied;
export type StaffResetOutcome = { kind: 'issued'; validUntil: string } | { kind: 'too_many_resets' } | { kind: 'consent_required' } | Denied;
export type PhoneChangeRequestResult =
  | { kind: 'code_sent'; change: PhoneChangeView }
  | { kind: 'bad_phone' }
  | { kind: 'same_phone' }
  | { kind: 'id_card_not_checked' }
  | { kind: 'already_pending'; id: number }
  | { kind: 'closed' }
  | Denied;
export type PhoneChangeVerifyResult = { kind: 'pending'; change: PhoneChangeView } | { kind: 'wrong_code'; attemptsLeft: number } | { kind: 'expired' } | { kind: 'too_many_attempts' } | { kind: 'not_awaiting_code' } | Denied;
export type BookingOptions = { kind: 'ok'; services: string[]; days: string[]; times: string[] } | { kind: 'consent_required' } | Denied;
export type StaffBookResult = { kind: 'booked'; code: string } | { kind: 'taken' } | { kind: 'duplicate' } | { kind: 'limit' } | { kind: 'bad_service' } | { kind: 'consent_required' } | Denied;
export type StaffBookingChange = { kind: 'cancelled' } | { kind: 'moved'; code: string } | { kind: 'taken' } | { kind: 'gone' } | { kind: 'consent_required' } | Denied;
export type DecideResult = { kind: 'approved' | 'rejected'; change: PhoneChangeView } | { kind: 'not_pending' } | { kind: 'own_request' } | { kind: 'stale' } | Denied;

/** Starts an SMS conversation in a flow for a phone and returns its first message (src/engine/sms-engine.ts). */
export type SmsFlowStarter = (phone: string, flow: PushableFlow, lang: Lang) => Promise<string>;
/** Flows staff may hand over to the citizen's own phone. */
export const PUSHABLE_FLOWS = ['book-appointment', 'check-status'] as const;
export type PushableFlow = (typeof PUSHABLE_FLOWS)[number];
export type PushResult = { kind: 'sent'; phoneMasked: string } | { kind: 'unavailable' } | { kind: 'consent_required' } | Denied;

/** Kenyan mobile numbers in any common writing (0712 345 678, 254712345678, +254 712 345678) → E.164, or null. */
export function normaliseKenyanPhone(input: string): string | null {
  const digits = input.replace(/[\s().-]/g, '');
  const m = /^(?:\+?254|0)([17]\d{8})$/.exec(digits);
  return m ? `+254${m[1]}` : null;
}

const sixDigits = (): string => String(randomInt(0, 1_000_000)).padStart(6, '0');

/** Constant-time comparison of two hex HMACs. */
function sameHash(a: string | null, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const ageOut = (at: Date | null, now: Date): boolean => at === null || at <= now;

/**
 * What Huduma Centre staff can do for a citizen at the counter, and the rules around it:
 *
 * - **Consent first.** Finding a citizen by ID number (through the blind index: the number itself is
 *   hashed at once and never kept) starts a visit, owned by that staff member at their centre. Nothing
 *   about the citizen but a masked phone is shown until the citizen reads back the 6-digit code sent
 *   by SMS to their registered phone; then the visit is open for 30 minutes.
 * - **Scope.** A visit belongs to the staff member who started it, at their centre: anyone else —
 *   another agent, another centre — is refused and the refusal audited. Phone changes belong to the
 *   centre where they were requested; only a supervisor of that centre, not the requester, decides.
 * - **Audit.** Every look-up, code, read and action writes an audit_log row with the staff member,
 *   their centre, the citizen id and hashed ID number, and the outcome.
 */
export class AssistService {
  private readonly lookups: RateLimiterAbstract;
  /** Consent-code SMS per citizen per hour, whoever asks and from whichever visit (issue 10, finding 13). */
  private readonly consentSms: RateLimiterAbstract;
  private readonly now: () => Date;

  constructor(private readonly deps: {
    db: Db; store: Store; blind: BlindIndex; sealer: Sealer; reset: ResetService; appointments: AppointmentService;
    startSmsFlow?: SmsFlowStarter; now?: () => Date; consentSmsPerCitizenPerHour?: number;
  }) {
    this.now = deps.now ?? (() => new Date());
    this.lookups = deps.store.rateLimiter({ keyPrefix: 'rl:staff-lookup', points: LOOKUPS_PER_HOUR, duration: 3600 });
    this.consentSms = deps.store.rateLimiter({
      keyPrefix: 'rl:consent-sms', points: deps.consentSmsPerCitizenPerHour ?? CONSENT_SMS_PER_CITIZEN_PER_HOUR, duration: 3600,
    });
  }

  private log(db: Knex | Knex.Transaction, actor: Actor, action: string, outcome: string, extra: { citizenId?: number | null; idHash?: string | null; phone?: string; detail?: Record<string, unknown> } = {}) {
    return audit(db, {
      actorType: 'staff', staffId: actor.staffId, centreCode: actor.centreCode, channel: actor.channel, action, outcome,
      citizenId: extra.citizenId ?? null, idHash: extra.idHash ?? null, ...(extra.phone ? { phone: extra.phone } : {}),
      // Through the API, the token used (and who issued it) goes with every row.
      ...(extra.detail || actor.token ? { detail: { ...extra.detail, ...tokenDetail(actor) } } : {}),
    });
  }

  private async language(db: Knex | Knex.Transaction, phone: string): Promise<Lang> {
    const row = await db('preferences').where({ phone_hash: this.deps.blind.phone(phone) }).first('language');
    return row?.language === 'sw' ? 'sw' : 'en';
  }

  private async centreName(db: Knex | Knex.Transaction, code: string): Promise<string> {
    const row = await db('centres').where({ code }).first('name');
    return row ? String(row.name) : code;
  }

  private visitInfo(row: Record<string, unknown>, phone: string): VisitInfo {
    const now = this.now();
    const d = (k: string) => (row[k] ? new Date(row[k] as string) : null);
    const sends = Number(row.sends ?? (row.sent_at ? 1 : 0));
    const attempts = Number(row.code_attempts);
    let state: VisitInfo['state'];
    if (row.closed_at) state = 'closed';
    else if (row.verified_at) state = ageOut(d('expires_at'), now) ? 'expired' : 'open';
    else if (row.sent_at) state = attempts >= MAX_CODE_ATTEMPTS ? 'failed' : 'code_sent';
    else state = 'found';
    const sent = d('sent_at');
    return {
      id: Number(row.id),
      staffId: Number(row.staff_id),
      centreCode: String(row.centre_code),
      citizenId: Number(row.citizen_id),
      phoneMasked: maskPhone(phone),
      state,
      codeExpiresAt: d('code_expires_at'),
      expiresAt: d('expires_at'),
      attemptsLeft: Math.max(0, MAX_CODE_ATTEMPTS - attempts),
      sendsLeft: Math.max(0, MAX_CODE_SENDS - sends),
      resendAt: sent ? new Date(sent.getTime() + RESEND_AFTER_S * 1000) : null,
    };
  }

  /**
   * The visit if it is this actor's. A visit of someone else is refused and audited: the row names
   * the citizen, so the refusal is on that citizen's trail too.
   */
  private async ownVisit(db: Knex | Knex.Transaction, actor: Actor, visitId: number, action: string, forUpdate = false): Promise<{ row: Record<string, unknown>; phone: string } | Denied> {
    if (!Number.isSafeInteger(visitId) || visitId <= 0) return { kind: 'not_found' };
    const q = db('consents as v').join('citizens as c', 'c.id', 'v.citizen_id').where('v.id', visitId).first('v.*', 'c.phone');
    if (forUpdate) q.forUpdate('v');
    const row = await q;
    if (!row) return { kind: 'not_found' };
    if (Number(row.staff_id) !== actor.staffId || row.centre_code !== actor.centreCode) {
      await this.log(this.deps.db, actor, action, 'denied', { citizenId: Number(row.citizen_id), idHash: row.id_hash, detail: { visitId, reason: 'not_own_visit' } });
      return { kind: 'forbidden' };
    }
    return { row, phone: String(row.phone) };
  }

  async visit(actor: Actor, visitId: number): Promise<{ kind: 'ok'; visit: VisitInfo } | Denied> {
    const own = await this.ownVisit(this.deps.db, actor, visitId, 'visit_view');
    if ('kind' in own) return own;
    return { kind: 'ok', visit: this.visitInfo(own.row, own.phone) };
  }

  /** Find a citizen by ID number: starts a visit. Only the masked registered phone is shown. */
  async lookup(actor: Actor, idNumber: string): Promise<LookupResult> {
    const { db, blind } = this.deps;
    const digits = idNumber.replace(/\s/g, '');
    if (!/^\d{6,10}$/.test(digits)) return { kind: 'bad_id' };
    const idHash = blind.idNumber(digits);
    try {
      await this.lookups.consume(`staff:${actor.staffId}`);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await this.log(db, actor, 'citizen_lookup', 'rate_limited', { idHash });
      return { kind: 'rate_limited' };
    }
    const citizen = await db('citizens').where({ id_hash: idHash }).first('id', 'phone');
    if (!citizen) {
      await this.log(db, actor, 'citizen_lookup', 'not_found', { idHash });
      return { kind: 'not_found' };
    }
    const row = await db.transaction(async (trx) => {
      const [v] = await trx('consents').insert({ staff_id: actor.staffId, centre_code: actor.centreCode, citizen_id: citizen.id, id_hash: idHash }).returning('*');
      await this.log(trx, actor, 'citizen_lookup', 'found', { citizenId: citizen.id, idHash, phone: citizen.phone, detail: { visitId: Number(v.id) } });
      return v;
    });
    return { kind: 'found', visit: this.visitInfo({ ...row, sends: 0 }, citizen.phone) };
  }

  /** Sends (or re-sends) the consent code to the citizen's registered phone, through the outbox. */
  async sendConsentCode(actor: Actor, visitId: number): Promise<SendResult> {
    const { db, blind } = this.deps;
    return db.transaction(async (trx) => {
      const own = await this.ownVisit(trx, actor, visitId, 'consent_code', true);
      if ('kind' in own) return own;
      const { row, phone } = own;
      const sends = Number((await trx('sms_outbound').where({ ref: `consent:${visitId}` }).count({ n: '*' }).first())?.n ?? 0);
      const visit = this.visitInfo({ ...row, sends }, phone);
      const log = (outcome: string) => this.log(trx, actor, 'consent_code', outcome, { citizenId: visit.citizenId, idHash: String(row.id_hash), phone, detail: { visitId } });
      if (visit.state === 'closed') return { kind: 'closed' as const };
      if (visit.state === 'open') return { kind: 'already_open' as const };
      const now = this.now();
      if (visit.resendAt && visit.resendAt > now) return { kind: 'too_soon' as const, resendAt: visit.resendAt };
      if (sends >= MAX_CODE_SENDS) {
        await log('too_many_sends');
        return { kind: 'too_many_sends' as const };
      }
      // Counted per citizen (the Postgres id; no phone or ID number in the store), across visits and staff.
      try {
        await this.consentSms.consume(`citizen:${visit.citizenId}`);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        await log('citizen_limit');
        return { kind: 'citizen_limit' as const };
      }
      const code = sixDigits();
      const codeExpires = new Date(now.getTime() + CODE_VALID_MIN * 60_000);
      const lang = await this.language(trx, phone);
      const centre = await this.centreName(trx, actor.centreCode);
      const smsId = await enqueueSms(trx, {
        to: phone, kind: 'consent', essential: true, ref: `consent:${visitId}`,
        body: translate(lang, { key: 'staff.sms.consent', params: { centre, code, minutes: CODE_VALID_MIN } }),
      });
      const [updated] = await trx('consents')
        .where({ id: visitId })
        .update({ code_hash: blind.text(`consent:${visitId}:${code}`), code_sealed: this.deps.sealer.seal(code), code_attempts: 0, sent_at: now, code_expires_at: codeExpires, sms_id: smsId, verified_at: null, expires_at: null })
        .returning('*');
      await log('sent');
      return { kind: 'sent' as const, visit: this.visitInfo({ ...updated, sends: sends + 1 }, phone) };
    });
  }

  /** The code the citizen read out. Three wrong tries and a new code must be sent. */
  async verifyConsent(actor: Actor, visitId: number, codeRaw: string): Promise<VerifyResult> {
    const { db, blind } = this.deps;
    return db.transaction(async (trx) => {
      const own = await this.ownVisit(trx, actor, visitId, 'consent_verify', true);
      if ('kind' in own) return own;
      const { row, phone } = own;
      const visit = this.visitInfo(row, phone);
      const log = (outcome: string) => this.log(trx, actor, 'consent_verify', outcome, { citizenId: visit.citizenId, idHash: String(row.id_hash), detail: { visitId } });
      const now = this.now();
      if (visit.state === 'closed') return { kind: 'closed' as const };
      if (visit.state === 'open') return { kind: 'ok' as const, visit };
      if (!row.code_hash) return { kind: 'no_code' as const };
      if (visit.state === 'failed') {
        await log('too_many_attempts');
        return { kind: 'too_many_attempts' as const };
      }
      if (ageOut(visit.codeExpiresAt, now)) {
        await log('expired');
        return { kind: 'expired' as const };
      }
      const code = codeRaw.replace(/\s/g, '');
      if (!/^\d{6}$/.test(code) || !sameHash(String(row.code_hash), blind.text(`consent:${visitId}:${code}`))) {
        const attempts = Number(row.code_attempts) + 1;
        await trx('consents').where({ id: visitId }).update({ code_attempts: attempts });
        await log(attempts >= MAX_CODE_ATTEMPTS ? 'too_many_attempts' : 'wrong_code');
        return attempts >= MAX_CODE_ATTEMPTS ? { kind: 'too_many_attempts' as const } : { kind: 'wrong_code' as const, attemptsLeft: MAX_CODE_ATTEMPTS - attempts };
      }
      const [updated] = await trx('consents')
        .where({ id: visitId })
        .update({ verified_at: now, expires_at: new Date(now.getTime() + CONSENT_VALID_MIN * 60_000), code_hash: null, code_sealed: null })
        .returning('*');
      await log('ok');
      return { kind: 'ok' as const, visit: this.visitInfo(updated, phone) };
    });
  }

  /** Ends a visit before its 30 minutes are up (the citizen leaves the counter). */
  async closeVisit(actor: Actor, visitId: number): Promise<{ kind: 'closed' } | Denied> {
    const { db } = this.deps;
    const own = await this.ownVisit(db, actor, visitId, 'visit_close');
    if ('kind' in own) return own;
    await db.transaction(async (trx) => {
      await trx('consents').where({ id: visitId }).whereNull('closed_at').update({ closed_at: this.now(), code_sealed: null });
      await this.log(trx, actor, 'visit_close', 'ok', { citizenId: Number(own.row.citizen_id), idHash: String(own.row.id_hash), detail: { visitId } });
    });
    return { kind: 'closed' };
  }

  /** The open visit, or why not; refusals for want of consent are audited like reads. */
  private async openVisit(actor: Actor, visitId: number, action: string): Promise<{ row: Record<string, unknown>; phone: string; visit: VisitInfo } | Denied | { kind: 'consent_required'; visit: VisitInfo }> {
    const own = await this.ownVisit(this.deps.db, actor, visitId, action);
    if ('kind' in own) return own;
    const visit = this.visitInfo(own.row, own.phone);
    if (visit.state !== 'open') {
      await this.log(this.deps.db, actor, action, 'consent_required', { citizenId: visit.citizenId, idHash: String(own.row.id_hash), detail: { visitId, state: visit.state } });
      return { kind: 'consent_required', visit };
    }
    return { ...own, visit };
  }

  /** The citizen's records, once consent is given. Each read is audited. */
  async citizenView(actor: Actor, visitId: number): Promise<ViewResult> {
    const { db } = this.deps;
    const open = await this.openVisit(actor, visitId, 'citizen_view');
    if ('kind' in open) return open;
    const citizenId = open.visit.citizenId;
    const c = await db('citizens').where({ id: citizenId }).first('first_name', 'last_name', db.raw('extract(year from birth_date)::int as birth_year'));
    const apps = await db('applications as a')
      .leftJoin('centres as k', 'k.code', 'a.collection_centre')
      .where('a.citizen_id', citizenId)
      .orderBy([{ column: 'a.submitted_on', order: 'desc' }, { column: 'a.id', order: 'desc' }])
      .select('a.reference', 'a.type', 'a.status', 'a.reason', 'k.name as centre', 'a.submitted_on', 'a.updated_at');
    const change = await db('phone_changes').where({ citizen_id: citizenId }).whereIn('status', ['unverified', 'pending']).first('id', 'status', 'new_phone');
    const bookings = (await this.deps.appointments.listUpcoming(open.phone)).map((b) => ({ ...b, mine: b.centre.code === actor.centreCode }));
    await this.log(db, actor, 'citizen_view', 'ok', { citizenId, idHash: String(open.row.id_hash), detail: { visitId, applications: apps.length, bookings: bookings.length } });
    return {
      kind: 'ok',
      visit: open.visit,
      citizen: {
        citizenId,
        firstName: c.first_name,
        lastName: c.last_name,
        birthYear: Number(c.birth_year),
        phoneMasked: maskPhone(open.phone),
        language: await this.language(db, open.phone),
        applications: apps.map((a) => ({
          reference: a.reference, type: a.type, status: a.status, reason: a.reason ?? null, collectionCentre: a.centre ?? null,
          submittedOn: typeof a.submitted_on === 'string' ? a.submitted_on : localDay(new Date(a.submitted_on)), updatedAt: new Date(a.updated_at),
        })),
        openPhoneChange: change ? { id: Number(change.id), status: change.status, newPhoneMasked: maskPhone(change.new_phone) } : null,
        bookings,
      },
    };
  }

  /** A new e-Citizen login code, sent to the citizen's registered phone only; the result has no code in it. */
  async resetLoginCode(actor: Actor, visitId: number): Promise<StaffResetOutcome> {
    const open = await this.openVisit(actor, visitId, 'login_reset');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const lang = await this.language(this.deps.db, open.phone);
    const r = await this.deps.reset.staffReset({ citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), phone: open.phone }, actor, lang);
    return r;
  }

  // ---- appointments at the actor's centre ------------------------------------------------------

  /**
   * What can be booked at the actor's centre: the services, then the days of a chosen service, then
   * the times of a chosen day (a form with no script asks step by step).
   */
  async bookingOptions(actor: Actor, visitId: number, service?: string, day?: string): Promise<BookingOptions> {
    const open = await this.openVisit(actor, visitId, 'booking_options');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const ap = this.deps.appointments;
    const services = await ap.listServices();
    const days = service && services.includes(service) ? await ap.listDays(service, actor.centreCode) : [];
    const times = service && day && days.includes(day) ? await ap.listTimes(service, actor.centreCode, day) : [];
    return { kind: 'ok', services, days, times };
  }

  /** Books at the actor's own centre for the citizen's registered phone; the SMS goes to that phone. */
  async book(actor: Actor, visitId: number, service: string, day: string, time: string): Promise<StaffBookResult> {
    const open = await this.openVisit(actor, visitId, 'booking_create');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const ap = this.deps.appointments;
    if (!(await ap.listServices()).includes(service)) return { kind: 'bad_service' };
    const lang = await this.language(this.deps.db, open.phone);
    const r = await ap.book({ phone: open.phone, lang, channel: 'staff', madeBy: `staff:${actor.staffId}` }, { service, centre: actor.centreCode, day, time });
    await this.log(this.deps.db, actor, 'booking_create', r.kind, { citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), detail: { visitId, service, day, time } });
    return r.kind === 'duplicate' ? { kind: 'duplicate' } : r;
  }

  /** A booking of the citizen's phone at the actor's centre (a booking at another centre is that centre's). */
  private async ownBooking(actor: Actor, open: { row: Record<string, unknown>; phone: string; visit: VisitInfo }, bookingId: number, action: string): Promise<{ service: string } | Denied> {
    if (!Number.isSafeInteger(bookingId) || bookingId <= 0) return { kind: 'not_found' };
    const b = await this.deps.db('bookings').where({ id: bookingId, phone: open.phone }).first('centre_code', 'service_code');
    if (!b) return { kind: 'not_found' };
    if (b.centre_code !== actor.centreCode) {
      await this.log(this.deps.db, actor, action, 'denied', { citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), detail: { bookingId, reason: 'other_centre' } });
      return { kind: 'forbidden' };
    }
    return { service: String(b.service_code) };
  }

  async cancelBooking(actor: Actor, visitId: number, bookingId: number): Promise<StaffBookingChange> {
    const open = await this.openVisit(actor, visitId, 'booking_cancel');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const own = await this.ownBooking(actor, open, bookingId, 'booking_cancel');
    if ('kind' in own) return own;
    const r = await this.deps.appointments.cancel(open.phone, bookingId);
    await this.log(this.deps.db, actor, 'booking_cancel', r.kind, { citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), detail: { visitId, bookingId } });
    return r;
  }

  /** Days and times a booking of the actor's centre can move to. */
  async moveOptions(actor: Actor, visitId: number, bookingId: number, day?: string): Promise<{ kind: 'ok'; service: string; days: string[]; times: string[] } | { kind: 'consent_required' } | Denied> {
    const open = await this.openVisit(actor, visitId, 'booking_options');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const own = await this.ownBooking(actor, open, bookingId, 'booking_move');
    if ('kind' in own) return own;
    const days = await this.deps.appointments.listDays(own.service, actor.centreCode);
    const times = day && days.includes(day) ? await this.deps.appointments.listTimes(own.service, actor.centreCode, day) : [];
    return { kind: 'ok', service: own.service, days, times };
  }

  async moveBooking(actor: Actor, visitId: number, bookingId: number, day: string, time: string): Promise<StaffBookingChange> {
    const open = await this.openVisit(actor, visitId, 'booking_move');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const own = await this.ownBooking(actor, open, bookingId, 'booking_move');
    if ('kind' in own) return own;
    const lang = await this.language(this.deps.db, open.phone);
    const r = await this.deps.appointments.move({ phone: open.phone, lang, channel: 'staff', madeBy: `staff:${actor.staffId}` }, bookingId, day, time);
    await this.log(this.deps.db, actor, 'booking_move', r.kind, { citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), detail: { visitId, bookingId, day, time } });
    return r;
  }

  /**
   * "Finish on your phone": starts an SMS conversation in a flow on the citizen's registered phone
   * (the same flow machines as USSD, through the SMS engine). An intro and the flow's first
   * question go out through the outbox; the citizen's replies reach the conversation as any SMS does.
   */
  async pushFlow(actor: Actor, visitId: number, flow: string): Promise<PushResult> {
    const open = await this.openVisit(actor, visitId, 'flow_push');
    if ('kind' in open) return open.kind === 'consent_required' ? { kind: 'consent_required' } : open;
    const start = this.deps.startSmsFlow;
    if (!start || !(PUSHABLE_FLOWS as readonly string[]).includes(flow)) return { kind: 'unavailable' };
    const { db } = this.deps;
    const lang = await this.language(db, open.phone);
    const first = await start(open.phone, flow as PushableFlow, lang);
    await db.transaction(async (trx) => {
      const centre = await this.centreName(trx, actor.centreCode);
      await enqueueSms(trx, { to: open.phone, kind: 'reply', essential: true, ref: `consent:${visitId}:push`, body: translate(lang, { key: 'staff.sms.push_intro', params: { centre } }) });
      await enqueueSms(trx, { to: open.phone, kind: 'reply', essential: true, ref: `consent:${visitId}:push`, body: first });
      await this.log(trx, actor, 'flow_push', 'sent', { citizenId: open.visit.citizenId, idHash: String(open.row.id_hash), phone: open.phone, detail: { visitId, flow } });
    });
    return { kind: 'sent', phoneMasked: maskPhone(open.phone) };
  }

  // ---- phone changes -------------------------------------------------------------------------

  private changeQuery(db: Knex | Knex.Transaction) {
    return db('phone_changes as p')
      .join('citizens as c', 'c.id', 'p.citizen_id')
      .join('staff as r', 'r.id', 'p.requested_by')
      .leftJoin('staff as a', 'a.id', 'p.approved_by')
      .select('p.*', 'c.first_name', 'c.last_name', 'r.username as requested_by_username', 'a.username as approved_by_username');
  }

  private static changeView(r: Record<string, unknown>): PhoneChangeView {
    const d = (k: string) => (r[k] ? new Date(r[k] as string) : null);
    return {
      id: Number(r.id),
      status: String(r.status),
      citizenId: Number(r.citizen_id),
      citizenName: `${r.first_name} ${r.last_name}`,
      oldPhoneMasked: maskPhone(String(r.old_phone)),
      newPhone: String(r.new_phone),
      newPhoneMasked: maskPhone(String(r.new_phone)),
      centreCode: String(r.centre_code),
      requestedBy: Number(r.requested_by),
      requestedByUsername: String(r.requested_by_username),
      approvedByUsername: (r.approved_by_username as string | null) ?? null,
      createdAt: d('created_at') as Date,
      verifiedAt: d('verified_at'),
      decidedAt: d('decided_at'),
      decisionNote: (r.decision_note as string | null) ?? null,
      codeExpiresAt: d('code_expires_at'),
      attemptsLeft: Math.max(0, MAX_CODE_ATTEMPTS - Number(r.code_attempts)),
    };
  }

  /**
   * An agent registers a new phone for a citizen standing at the counter with their ID card (no
   * consent code: the old phone is lost). A code goes to the NEW phone; reading it back proves the
   * citizen holds it and the number was typed right. Then it waits for a supervisor.
   */
  async requestPhoneChange(actor: Actor, visitId: number, newPhoneRaw: string, idCardChecked: boolean): Promise<PhoneChangeRequestResult> {
    const { db, blind } = this.deps;
    if (!idCardChecked) return { kind: 'id_card_not_checked' };
    const newPhone = normaliseKenyanPhone(newPhoneRaw);
    if (!newPhone) return { kind: 'bad_phone' };
    return db.transaction(async (trx) => {
      const own = await this.ownVisit(trx, actor, visitId, 'phone_change_request', true);
      if ('kind' in own) return own;
      const { row, phone } = own;
      const citizenId = Number(row.citizen_id);
      const idHash = String(row.id_hash);
      if (row.closed_at) return { kind: 'closed' as const };
      if (newPhone === phone) return { kind: 'same_phone' as const };
      // Serialise requests for one citizen: the partial unique index would also catch a race.
      await trx('citizens').where({ id: citizenId }).forUpdate().first('id');
      const open = await trx('phone_changes').where({ citizen_id: citizenId }).whereIn('status', ['unverified', 'pending']).first('id', 'status', 'requested_by', 'code_expires_at');
      if (open) {
        // An unverified request of this agent (a mistyped number), or anyone's whose code has
        // expired (abandoned), is replaced; a request waiting for a supervisor stands.
        const abandoned = open.code_expires_at !== null && new Date(open.code_expires_at) <= this.now();
        if (open.status === 'unverified' && (Number(open.requested_by) === actor.staffId || abandoned)) {
          await trx('phone_changes').where({ id: open.id }).update({ status: 'cancelled', updated_at: this.now() });
        } else {
          await this.log(trx, actor, 'phone_change_request', 'already_open', { citizenId, idHash, detail: { phoneChangeId: Number(open.id) } });
          return { kind: 'already_pending' as const, id: Number(open.id) };
        }
      }
      const now = this.now();
      const code = sixDigits();
      const [pc] = await trx('phone_changes')
        .insert({
          citizen_id: citizenId, id_hash: idHash, consent_id: visitId, old_phone: phone, new_phone: newPhone, centre_code: actor.centreCode,
          requested_by: actor.staffId, status: 'unverified', code_expires_at: new Date(now.getTime() + CODE_VALID_MIN * 60_000), created_at: now, updated_at: now,
        })
        .returning('id');
      const id = Number(pc.id);
      await trx('phone_changes').where({ id }).update({ code_hash: blind.text(`phone_change:${id}:${code}`) });
      const lang = await this.language(trx, phone);
      await enqueueSms(trx, {
        to: newPhone, kind: 'consent', essential: true, ref: `phone_change:${id}`,
        body: translate(lang, { key: 'staff.sms.new_phone_code', params: { centre: await this.centreName(trx, actor.centreCode), code, minutes: CODE_VALID_MIN } }),
      });
      await this.log(trx, actor, 'phone_change_request', 'code_sent', { citizenId, idHash, phone: newPhone, detail: { phoneChangeId: id, visitId } });
      return { kind: 'code_sent' as const, change: AssistService.changeView(await this.changeQuery(trx).where('p.id', id).first()) };
    });
  }

  /** The requester's own view of a change (agent), or any change of the centre (supervisor), or any (admin). */
  private async scopedChange(db: Knex | Knex.Transaction, actor: Actor, id: number, action: string, forUpdate = false): Promise<{ row: Record<string, unknown> } | Denied> {
    if (!Number.isSafeInteger(id) || id <= 0) return { kind: 'not_found' };
    const q = db('phone_changes').where({ id }).first();
    if (forUpdate) q.forUpdate();
    const row = await q;
    if (!row) return { kind: 'not_found' };
    const allowed =
      actor.role === 'admin' ||
      (actor.role === 'supervisor' && row.centre_code === actor.centreCode) ||
      (actor.role === 'agent' && Number(row.requested_by) === actor.staffId && row.centre_code === actor.centreCode);
    if (!allowed) {
      await this.log(this.deps.db, actor, action, 'denied', { citizenId: Number(row.citizen_id), idHash: row.id_hash, detail: { phoneChangeId: id } });
      return { kind: 'forbidden' };
    }
    return { row };
  }

  async phoneChange(actor: Actor, id: number): Promise<{ kind: 'ok'; change: PhoneChangeView } | Denied> {
    const { db } = this.deps;
    const scoped = await this.scopedChange(db, actor, id, 'phone_change_view');
    if ('kind' in scoped) return scoped;
    await this.log(db, actor, 'phone_change_view', 'ok', { citizenId: Number(scoped.row.citizen_id), idHash: String(scoped.row.id_hash), detail: { phoneChangeId: id } });
    return { kind: 'ok', change: AssistService.changeView(await this.changeQuery(db).where('p.id', id).first()) };
  }

  async verifyPhoneChange(actor: Actor, id: number, codeRaw: string): Promise<PhoneChangeVerifyResult> {
    const { db, blind } = this.deps;
    return db.transaction(async (trx) => {
      const scoped = await this.scopedChange(trx, actor, id, 'phone_change_verify', true);
      if ('kind' in scoped) return scoped;
      const { row } = scoped;
      if (Number(row.requested_by) !== actor.staffId) {
        await this.log(trx, actor, 'phone_change_verify', 'denied', { citizenId: Number(row.citizen_id), idHash: String(row.id_hash), detail: { phoneChangeId: id } });
        return { kind: 'forbidden' as const };
      }
      const log = (outcome: string) => this.log(trx, actor, 'phone_change_verify', outcome, { citizenId: Number(row.citizen_id), idHash: String(row.id_hash), detail: { phoneChangeId: id } });
      if (row.status !== 'unverified') return { kind: 'not_awaiting_code' as const };
      const attempts = Number(row.code_attempts);
      if (attempts >= MAX_CODE_ATTEMPTS) return { kind: 'too_many_attempts' as const };
      if (ageOut(row.code_expires_at ? new Date(row.code_expires_at as string) : null, this.now())) {
        await log('expired');
        return { kind: 'expired' as const };
      }
      const code = codeRaw.replace(/\s/g, '');
      if (!/^\d{6}$/.test(code) || !sameHash((row.code_hash as string | null) ?? null, blind.text(`phone_change:${id}:${code}`))) {
        await trx('phone_changes').where({ id }).update({ code_attempts: attempts + 1 });
        const left = MAX_CODE_ATTEMPTS - attempts - 1;
        if (left <= 0) await trx('phone_changes').where({ id }).update({ status: 'cancelled', updated_at: this.now() });
        await log(left <= 0 ? 'too_many_attempts' : 'wrong_code');
        return left <= 0 ? { kind: 'too_many_attempts' as const } : { kind: 'wrong_code' as const, attemptsLeft: left };
      }
      const now = this.now();
      await trx('phone_changes').where({ id }).update({ status: 'pending', verified_at: now, code_hash: null, updated_at: now });
      await log('pending');
      return { kind: 'pending' as const, change: AssistService.changeView(await this.changeQuery(trx).where('p.id', id).first()) };
    });
  }

  /** Supervisors: the centre's changes; agents: their own requests; admins: all. Newest first. */
  async listPhoneChanges(actor: Actor, status?: string): Promise<PhoneChangeView[]> {
    const { db } = this.deps;
    const q = this.changeQuery(db).orderBy('p.id', 'desc').limit(200);
    if (status) q.where('p.status', status);
    if (actor.role === 'supervisor') q.where('p.centre_code', actor.centreCode);
    if (actor.role === 'agent') q.where('p.requested_by', actor.staffId).where('p.centre_code', actor.centreCode);
    const rows = (await q).map(AssistService.changeView);
    await this.log(db, actor, 'phone_change_list', 'ok', { detail: { status: status ?? 'any', count: rows.length } });
    return rows;
  }

  /**
   * A supervisor of the requesting centre approves or rejects. On approval, in one transaction:
   * the registered phone changes, login codes sent to the old phone stop working, the old phone is
   * told by SMS (so a fraudulent change cannot go unnoticed) and the new phone is told it is registered.
   */
  async decidePhoneChange(actor: Actor, id: number, decision: 'approve' | 'reject', note = ''): Promise<DecideResult> {
    const { db, blind } = this.deps;
    const action = decision === 'approve' ? 'phone_change_approve' : 'phone_change_reject';
    if (actor.role !== 'supervisor') {
      const row = await db('phone_changes').where({ id: Number.isSafeInteger(id) ? id : 0 }).first('citizen_id', 'id_hash');
      await this.log(db, actor, action, 'denied', { citizenId: row?.citizen_id ?? null, idHash: row?.id_hash ?? null, detail: { phoneChangeId: id, reason: 'role' } });
      return row ? { kind: 'forbidden' } : { kind: 'not_found' };
    }
    return db.transaction(async (trx) => {
      const scoped = await this.scopedChange(trx, actor, id, action, true);
      if ('kind' in scoped) return scoped;
      const { row } = scoped;
      const citizenId = Number(row.citizen_id);
      const idHash = String(row.id_hash);
      const log = (outcome: string, phone?: string) => this.log(trx, actor, action, outcome, { citizenId, idHash, ...(phone ? { phone } : {}), detail: { phoneChangeId: id } });
      if (row.status !== 'pending') return { kind: 'not_pending' as const };
      // Two different people: not the requester, nor with a token the requester issued, nor from an
      // account the requester created (an admin's puppet supervisor). Issue 10, finding 4.
      const requester = Number(row.requested_by);
      const approverCreatedBy = (await trx('staff').where({ id: actor.staffId }).first('created_by'))?.created_by;
      if (requester === actor.staffId || actor.token?.issuedBy === requester || Number(approverCreatedBy) === requester) {
        await log('own_request');
        return { kind: 'own_request' as const };
      }
      const now = this.now();
      const cleanNote = note.trim().slice(0, 200) || null;
      if (decision === 'reject') {
        await trx('phone_changes').where({ id }).update({ status: 'rejected', approved_by: actor.staffId, decided_at: now, decision_note: cleanNote, updated_at: now });
        await log('rejected');
        return { kind: 'rejected' as const, change: AssistService.changeView(await this.changeQuery(trx).where('p.id', id).first()) };
      }
      const citizen = await trx('citizens').where({ id: citizenId }).forUpdate().first('phone');
      if (citizen.phone !== row.old_phone) {
        await log('stale');
        return { kind: 'stale' as const };
      }
      const oldPhone = String(row.old_phone);
      const newPhone = String(row.new_phone);
      const lang = await this.language(trx, oldPhone);
      await trx('citizens').where({ id: citizenId }).update({ phone: newPhone });
      await trx('login_codes').where({ citizen_id: citizenId }).whereNull('revoked_at').whereNull('used_at').update({ revoked_at: now, code_sealed: null });
      // The citizen keeps their language on the new phone, unless that phone already chose one.
      await trx('preferences').insert({ phone_hash: blind.phone(newPhone), language: lang, updated_at: now }).onConflict('phone_hash').ignore();
      await trx('phone_changes').where({ id }).update({ status: 'approved', approved_by: actor.staffId, decided_at: now, decision_note: cleanNote, updated_at: now });
      const centre = await this.centreName(trx, String(row.centre_code));
      const day = localDay(now);
      await enqueueSms(trx, {
        to: oldPhone, kind: 'notice', essential: true, ref: `phone_change:${id}`,
        body: translate(lang, { key: 'staff.sms.phone_changed_old', params: { centre, day, newPhone: maskPhone(newPhone) } }),
      });
      await enqueueSms(trx, {
        to: newPhone, kind: 'notice', essential: true, ref: `phone_change:${id}`,
        body: translate(lang, { key: 'staff.sms.phone_changed_new', params: { centre, day } }),
      });
      await log('approved', newPhone);
      return { kind: 'approved' as const, change: AssistService.changeView(await this.changeQuery(trx).where('p.id', id).first()) };
    });
  }
}

/** 'YYYY-MM-DD' in Nairobi. */
export function localDay(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Africa/Nairobi', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
