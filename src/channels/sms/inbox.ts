import type { Knex } from 'knex';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from '../../store/types';
import type { FlowName, Lang, Msg } from '../../../flows/types';
import { flows } from '../../../flows';
import { itemMsg, statusScreen } from '../../../flows/check-status';
import { checkReference } from '../../domain/reference';
import type { SmsEngine, SmsTurn } from '../../engine/sms-engine';
import { translate } from '../../i18n';
import type { Logger } from '../../log';
import type { Services } from '../../services';
import { enqueueSms } from '../../sms/outbox';
import { parseSms, type ParsedSms } from './keywords';
import { SmsTurnRecords, type HandledSms, type SmsReply } from './turn-records';

/** An inbound SMS as AT posts it (shared/africastalking.md §2.3). */
export interface InboundSms {
  id: string;
  from: string;
  to?: string;
  text: string;
  date?: string;
  linkId?: string;
  networkCode?: string;
}

const reply = (body: string): SmsReply => ({ body, kind: 'reply' });
/** A conversation's reply that shows a login code goes as a login code: the outbox wipes it once sent. */
const turnReply = (turn: SmsTurn): SmsReply => ({ body: turn.text, kind: turn.carriesCode ? 'login_code' : 'reply' });

export type InboxOutcome = 'duplicate' | 'rate_limited' | string;

export interface InboxDeps {
  db: Knex;
  store: Store;
  services: Services;
  sms: SmsEngine;
  logger: Logger;
  ussdCode: string;
  /** Messages handled per phone per minute; more are stored and acknowledged, not answered. */
  perPhonePerMinute?: number;
}

/** How long a turn's decision waits for its replies to be committed (AT redelivers for ~10 minutes). */
const TURN_RECORD_TTL_S = 30 * 60;

/**
 * Citizens who text. Every message is recorded first, unique on AT's id, so a message AT delivers
 * again is acknowledged and not handled twice; the record keeps the keyword and a hash of the
 * sender, never the text (it carries ID numbers and years of birth) nor the number. Then, in this order:
 *  1. STOP / START (and their Kiswahili words) as the whole message: opt out / in, even mid-conversation;
 *  2. a keyword: answered at once (STATUS 1026100200488), or starting a conversation (BOOK, RESET);
 *  3. anything else while a conversation runs: the conversation's next answer (00 ends it);
 *  4. anything else: a short help.
 * Replies go out through the SMS outbox, in the same transaction that marks the message handled.
 * A turn is taken once: if that transaction fails after the conversation moved on, AT's redelivery
 * gets the replies the turn decided (see SmsTurnRecords), not a second turn.
 */
export class SmsInbox {
  private readonly limiter: RateLimiterAbstract;
  private readonly turns: SmsTurnRecords;

  constructor(private readonly deps: InboxDeps) {
    this.limiter = deps.store.rateLimiter({ keyPrefix: 'rl:sms-in', points: deps.perPhonePerMinute ?? 12, duration: 60 });
    this.turns = new SmsTurnRecords({ store: deps.store, sealer: deps.services.sealer, ttlS: TURN_RECORD_TTL_S });
  }

  async receive(msg: InboundSms): Promise<InboxOutcome> {
    const { db, services } = this.deps;
    const parsed = parseSms(msg.text);
    // New, or an earlier try that failed half-way (then AT's redelivery is handled again).
    const [row] = await db('sms_inbound')
      .insert({
        at_id: msg.id, from_hash: services.blind.phone(msg.from), keyword: parsed?.keyword ?? null,
        to_code: msg.to ?? null, link_id: msg.linkId ?? null, network_code: msg.networkCode ?? null, at_date: msg.date ?? null,
      })
      .onConflict('at_id')
      .merge({ outcome: null })
      .where('sms_inbound.outcome', 'error')
      .returning('id');
    if (!row) return 'duplicate';

    try {
      // A redelivery of a turn already taken gets what that turn decided; anything else is routed now.
      let handled = await this.turns.get(row.id);
      if (!handled) {
        if (!(await this.withinLimit(msg.from))) {
          await db('sms_inbound').where({ id: row.id }).update({ outcome: 'rate_limited', handled_at: db.fn.now() });
          return 'rate_limited';
        }
        handled = await this.route(msg, parsed);
        await this.turns.put(row.id, handled);
      }
      const { outcome, replies } = handled;
      await db.transaction(async (trx) => {
        for (const { body, kind } of replies) await enqueueSms(trx, { to: msg.from, body, kind, essential: true, ref: `sms_inbound:${row.id}` });
        await trx('sms_inbound').where({ id: row.id }).update({ outcome, handled_at: trx.fn.now() });
      });
      await this.turns.drop(row.id);
      return outcome;
    } catch (err) {
      await db('sms_inbound').where({ id: row.id }).update({ outcome: 'error' }).catch(() => undefined);
      throw err;
    }
  }

  /** The per-phone flood limit: false when this message is over it (stored, not answered). */
  private async withinLimit(phone: string): Promise<boolean> {
    try {
      await this.limiter.consume(this.deps.services.blind.phone(phone));
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) return false;
      throw err;
    }
  }

  private async savedLang(phone: string): Promise<Lang> {
    return (await this.deps.services.preferences.language(phone)) ?? 'en';
  }

  private t(lang: Lang, m: Msg): string {
    return translate(lang, m);
  }

  private async route(msg: InboundSms, parsed: ParsedSms | null): Promise<HandledSms> {
    const { services } = this.deps;
    const say = (lang: Lang, key: Msg): SmsReply[] => [reply(this.t(lang, key))];

    if (parsed?.command === 'stop') {
      await services.optOuts.optOut(msg.from, msg.text.trim().toUpperCase().slice(0, 16));
      return { outcome: 'stop', replies: say(parsed.lang, { key: 'sms.stopped' }) };
    }
    if (parsed?.command === 'start') {
      await services.optOuts.optIn(msg.from);
      return { outcome: 'start', replies: say(parsed.lang, { key: 'sms.started' }) };
    }
    if (!parsed) {
      const turn = await this.converse(msg.from, msg.text);
      if (turn) return { outcome: 'conversation', replies: [turnReply(turn)] };
      return { outcome: 'help', replies: say(await this.savedLang(msg.from), { key: 'sms.help', params: { code: this.deps.ussdCode } }) };
    }

    switch (parsed.command) {
      case 'status':
        if (parsed.args.length === 0) return this.startFlow(msg.from, 'check-status', parsed.lang);
        return { outcome: 'status', replies: [reply(await this.statusReply(msg.from, parsed))] };
      case 'mine':
        return { outcome: 'mine', replies: [reply(await this.mine(msg.from, parsed.lang))] };
      case 'book':
        return this.startFlow(msg.from, 'book-appointment' as FlowName, parsed.lang);
      case 'reset':
        return this.startFlow(msg.from, 'reset-code', parsed.lang);
      case 'cancel':
        return { outcome: 'cancel', replies: (await this.cancel(msg.from, parsed)).map(reply) };
      case 'help':
      default:
        return { outcome: 'help', replies: say(parsed.lang, { key: 'sms.help', params: { code: this.deps.ussdCode } }) };
    }
  }

  private async converse(phone: string, text: string): Promise<SmsTurn | null> {
    if (!(await this.deps.sms.active(phone))) return null;
    if (text.trim() === '00') {
      const lang = (await this.deps.sms.end(phone)) ?? (await this.savedLang(phone));
      return { text: this.t(lang, { key: 'sms.ended' }), ended: true };
    }
    return this.deps.sms.reply(phone, text);
  }

  private async startFlow(phone: string, flow: FlowName, lang: Lang): Promise<HandledSms> {
    if (!(flow in flows)) return { outcome: 'unavailable', replies: [reply(this.t(lang, { key: 'sms.not_available', params: { code: this.deps.ussdCode } }))] };
    const turn = await this.deps.sms.start(phone, flow, lang);
    return { outcome: `conversation:${flow}`, replies: [turnReply(turn)] };
  }

  /**
   * STATUS <number> [<ID number>]: the same rules as USSD. The registered phone sees its own
   * application; anyone else must add the applicant's ID number; an unknown number and a wrong ID
   * number get the same answer. Spaces inside the numbers are ignored (13 digits, then the ID).
   */
  private async statusReply(phone: string, parsed: ParsedSms): Promise<string> {
    const { applications } = this.deps.services;
    const digits = parsed.args.join('').replace(/\D/g, '');
    const reference = digits.slice(0, 13);
    const idNumber = digits.slice(13);
    if (checkReference(reference) !== null) return this.t(parsed.lang, { key: 'sms.bad_reference' });
    const own = await applications.lookup(reference, phone);
    const found = own.kind === 'found' ? own : idNumber ? await applications.verify(reference, idNumber, phone) : null;
    if (found?.kind === 'locked') return this.t(parsed.lang, { key: 'status.locked' });
    if (found?.kind === 'found') return statusScreen(found.app).lines.map((m) => this.t(parsed.lang, m)).join('\n');
    return this.t(parsed.lang, idNumber ? { key: 'sms.not_found' } : { key: 'sms.need_id', params: { reference } });
  }

  private async mine(phone: string, lang: Lang): Promise<string> {
    const apps = await this.deps.services.applications.listByPhone(phone);
    if (apps.length === 0) return this.t(lang, { key: 'sms.mine_none' });
    const lines = apps.map((a) => `${a.reference} ${this.t(lang, itemMsg(a))}`);
    return [this.t(lang, { key: 'status.mine_title' }), ...lines].join('\n');
  }

  /**
   * CANCEL <booking code>: cancels the phone's own active booking with that code. The appointment
   * service sends the cancellation SMS itself (as for a USSD cancel), so a success adds no reply.
   */
  private async cancel(phone: string, parsed: ParsedSms): Promise<string[]> {
    const code = parsed.args.join('').replace(/\s/g, '');
    if (!code) return [this.t(parsed.lang, { key: 'sms.cancel_usage' })];
    const booking = await this.deps.db('bookings').where({ code, phone, status: 'active' }).first('id');
    const result = booking ? await this.deps.services.appointments.cancel(phone, Number(booking.id)) : null;
    if (result?.kind === 'cancelled') return [];
    return [this.t(parsed.lang, { key: 'sms.cancel_not_found', params: { code } })];
  }
}
