import type { Redis } from 'ioredis';
import type { FlowInput, FlowName, Lang } from '../../flows/types';
import type { Logger } from '../log';
import type { BlindIndex } from '../services/blind-index';
import { Conversation, type ConversationHost, type DialContext, type FlowMachines } from './conversation';
import type { Hop } from './hop-context';
import { acquireLock, type FlowState, type ResumePointer } from './session-store';

export interface SmsEngineDeps {
  flows: FlowMachines;
  redis: Redis;
  redisPrefix: string;
  blind: BlindIndex;
  logger: Logger;
  /** An SMS conversation lives this long after the citizen's last message (15 minutes). */
  ttlS: number;
  /** One reply's budget: two concatenated SMS parts (2 × 153 GSM-7 characters). */
  limit: number;
  deadlineMs: number;
}

/** An SMS conversation between messages: which flow, its snapshot, the language and the page. */
interface SmsRecord {
  v: 1;
  state: FlowState;
  lang: Lang;
  page: number;
  finished?: boolean;
}

/** A reply to send, and whether the conversation is over. */
export interface SmsTurn {
  text: string;
  ended: boolean;
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
  async resumeFor(): Promise<ResumePointer | null> {
    return null;
  }

  private key = (phone: string) => `${this.deps.redisPrefix}sms:s:${this.deps.blind.phone(phone)}`;

  async active(phone: string): Promise<boolean> {
    return (await this.deps.redis.exists(this.key(phone))) === 1;
  }

  /** Ends the phone's conversation; returns its language (null when none was running). */
  async end(phone: string): Promise<Lang | null> {
    const raw = await this.deps.redis.getdel(this.key(phone));
    return raw ? (JSON.parse(raw) as SmsRecord).lang : null;
  }

  /** Starts (or restarts) a conversation in `flow`, e.g. after the keyword BOOK. */
  start(phone: string, flow: FlowName, lang: Lang, input: FlowInput = {}): Promise<SmsTurn> {
    return this.turn(phone, lang, (convo) => convo.startIn(flow, lang, input));
  }

  /** The citizen's next message in a running conversation; null when none is running. */
  async reply(phone: string, text: string): Promise<SmsTurn | null> {
    const raw = await this.deps.redis.get(this.key(phone));
    if (!raw) return null;
    const record = JSON.parse(raw) as SmsRecord;
    return this.turn(phone, record.lang, async (convo) => {
      const restored = await convo.restore({ ...record, v: 1, lastTextHash: '', lastTextLen: 0, lastReply: '', hops: 0, startedAt: 0, phoneHash: '' });
      if (restored) await convo.apply(text.trim());
    });
  }

  private async turn(phone: string, lang: Lang, step: (convo: Conversation) => Promise<void>): Promise<SmsTurn> {
    const deadline = Date.now() + this.deps.deadlineMs;
    const release = await acquireLock(this.deps.redis, `${this.key(phone)}:lock`, deadline);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.deps.deadlineMs);
    try {
      const hop: Hop = { phone, lang, channel: 'sms', sessionId: `sms:${this.deps.blind.phone(phone).slice(0, 12)}` };
      const known = { lang, sure: true };
      const convo = new Conversation(this, hop, known, deadline, abort.signal);
      await step(convo);
      const { text, end } = convo.renderText();
      if (end) {
        convo.flowState(); // stops the actor
        await this.end(phone);
      } else {
        const record: SmsRecord = { v: 1, state: convo.flowState(), lang: hop.lang, page: convo.page, ...(convo.finished ? { finished: true } : {}) };
        await this.deps.redis.set(this.key(phone), JSON.stringify(record), 'EX', this.deps.ttlS);
      }
      return { text, ended: end };
    } finally {
      clearTimeout(timer);
      await release().catch(() => undefined);
    }
  }
}
