import type { FlowInput, FlowName, Lang } from '../../flows/types';
import type { Logger } from '../log';
import type { BlindIndex } from '../services/blind-index';
import { Conversation, type ConversationHost, type DialContext, type FlowMachines } from './conversation';
import type { Hop } from './hop-context';
import type { ConversationState } from './session-store';
import type { Store } from '../store/types';

export interface SmsEngineDeps {
  flows: FlowMachines;
  /** Where conversations live between messages (Redis or the Postgres store). */
  store: Store;
  blind: BlindIndex;
  logger: Logger;
  /** An SMS conversation lives this long after the citizen's last message (15 minutes). */
  ttlS: number;
  /** One reply's budget: two concatenated SMS parts (2 × 153 GSM-7 characters). */
  limit: number;
  deadlineMs: number;
}

/** An SMS conversation between messages: the same state a USSD session carries, without AT's text. */
type SmsRecord = ConversationState & { v: 1 };

/** A reply to send, and whether the conversation is over. */
export interface SmsTurn {
  text: string;
  ended: boolean;
  /** The reply shows a one-time code (the RESET conversation's last answer): the outbox wipes it once sent. */
  carriesCode?: boolean;
}

/**
 * The same flow machines as USSD, one question per SMS. The conversation is keyed by a hash of the
 * phone number (there is no session id in SMS) and lives `ttlS` after the last message. Screens are
 * rendered to the budget of two SMS parts: a whole list in one message when it fits, else paged
 * with 98 More as on USSD.
 */
export class SmsEngine implements ConversationHost {
  readonly flows: FlowMachines;
  readonly limit: number;

  constructor(private readonly deps: SmsEngineDeps) {
    this.flows = deps.flows;
    this.limit = deps.limit;
  }

  // A conversation started by keyword already knows its language, and SMS has no "resume" offer.
  async dialContext(): Promise<DialContext> {
    return { lang: null, undeliveredCode: false, consentCode: false };
  }

  private key = (phone: string) => `sms:s:${this.deps.blind.phone(phone)}`;

  async active(phone: string): Promise<boolean> {
    return this.deps.store.exists(this.key(phone));
  }

  /** Ends the phone's conversation; returns its language (null when none was running). */
  async end(phone: string): Promise<Lang | null> {
    const raw = await this.deps.store.getdel(this.key(phone));
    return raw ? (JSON.parse(raw) as SmsRecord).lang : null;
  }

  /** Starts (or restarts) a conversation in `flow`, e.g. after the keyword BOOK. */
  async start(phone: string, flow: FlowName, lang: Lang, input: FlowInput = {}): Promise<SmsTurn> {
    return (await this.turn(phone, async (convo) => {
      await convo.startIn(flow, lang, input);
      return true;
    }, lang)) as SmsTurn;
  }

  /** The citizen's next message in a running conversation; null when none is running. */
  reply(phone: string, text: string): Promise<SmsTurn | null> {
    return this.turn(phone, async (convo, saved) => {
      if (!saved) return false;
      if (await convo.restore(saved)) await convo.apply(text.trim());
      return true;
    });
  }

  /**
   * One message of a conversation, under the phone's lock: the saved state is read inside it, so
   * two messages sent close together are handled one after the other, never both from the same state.
   * `step` returns false when there is nothing to continue (then null, and nothing is saved).
   */
  private async turn(phone: string, step: (convo: Conversation, saved: SmsRecord | null) => Promise<boolean>, startLang?: Lang): Promise<SmsTurn | null> {
    const key = this.key(phone);
    const deadline = Date.now() + this.deps.deadlineMs;
    const release = await this.deps.store.lock(`${key}:lock`, deadline);
    try {
      const raw = startLang ? null : await this.deps.store.get(key);
      const saved = raw ? (JSON.parse(raw) as SmsRecord) : null;
      const lang = startLang ?? saved?.lang ?? 'en';
      const hop: Hop = { phone, lang, channel: 'sms', sessionId: `sms:${key.slice(-12)}` };
      const convo = new Conversation(this, hop, { lang, sure: true }, deadline);
      if (!(await step(convo, saved))) return null;
      const { text, end } = convo.renderText();
      const carriesCode = convo.showsOneTimeCode();
      const record: SmsRecord = { v: 1, ...convo.saved() }; // also stops the actor
      if (end) await this.deps.store.del(key);
      else await this.deps.store.set(key, JSON.stringify(record), this.deps.ttlS * 1000);
      return { text, ended: end, carriesCode };
    } finally {
      await release().catch(() => undefined);
    }
  }
}
