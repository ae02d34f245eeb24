import type { AnyActorLogic } from 'xstate';
import type { Lang } from '../../flows/types';
import type { Logger } from '../log';
import type { BlindIndex } from '../services/blind-index';
import type { Hop } from './hop-context';
import { Conversation, FlowMachines, type ConversationHost, type DialContext, type KnownLang } from './conversation';
import { maskCodes } from './one-time-codes';
import { renderPages } from './screen';
import type { SessionRecord } from './session-store';
import type { UssdSessions } from '../store/types';

export interface UssdRequest {
  sessionId: string;
  phone: string;
  text: string;
  serviceCode: string;
  networkCode: string;
}

export interface EngineDeps {
  store: UssdSessions;
  blind: BlindIndex;
  /** What a dial needs in one query: the phone's saved language (null on its first dial) and the notices to show first. */
  dialContext: (phone: string) => Promise<DialContext>;
  actors: Record<string, AnyActorLogic>;
  logger: Logger;
  screenLimit: number;
  hopDeadlineMs: number;
}

class Deadline extends Error {}

/**
 * Inputs taken from a first hop's dial-through text (`*384*2222*1*2#`). The longest journey typed
 * ahead is well under this; a text of hundreds of inputs must not run them all in one hop.
 */
export const MAX_DIAL_THROUGH = 16;

/**
 * Runs USSD conversations: one XState actor per session, rehydrated from its snapshot in Redis on
 * every hop, stepped with the citizen's new input, waited on until it settles on a screen, rendered,
 * saved. Every hop answers within `hopDeadlineMs`: a slow or failed dependency ends the session with
 * an apology in the citizen's language, and the last good state stays in Redis for a redial.
 */
export class UssdEngine implements ConversationHost {
  readonly flows: FlowMachines;

  constructor(private readonly deps: EngineDeps) {
    this.flows = new FlowMachines(deps.actors);
  }

  /** Answers one AT callback with the full body, `CON …` or `END …`. Never throws. */
  async hop(req: UssdRequest): Promise<string> {
    const started = Date.now();
    const deadline = started + this.deps.hopDeadlineMs;
    const known: KnownLang = { lang: 'en', sure: false };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Deadline(`hop exceeded ${this.deps.hopDeadlineMs} ms`)), this.deps.hopDeadlineMs);
    });
    try {
      return await Promise.race([this.run(req, deadline, known), timeout]);
    } catch (err) {
      this.deps.logger.error('ussd hop failed', {
        sessionId: req.sessionId,
        // The flow's own wait can time out a moment before the hop's timer: past the deadline is the deadline.
        cause: err instanceof Deadline || Date.now() >= deadline ? 'deadline' : 'error',
        error: err instanceof Error ? err.message : String(err),
        ms: Date.now() - started,
      });
      const lang = known.sure ? known.lang : await this.fallbackLanguage(req.phone, deadline);
      return `END ${renderPages({ lines: [{ key: 'error.unavailable' }] }, { lang, limit: this.deps.screenLimit, final: true })[0]}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The language of an apology when the hop failed before it learned the session's (Redis down):
   * the phone's saved language from Postgres, if it answers within what is left of the deadline.
   */
  private async fallbackLanguage(phone: string, deadline: number): Promise<Lang> {
    const left = deadline - Date.now() - 100;
    if (left < 50) return 'en';
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), left)));
    try {
      const ctx = await Promise.race([this.deps.dialContext(phone).catch(() => null), late]);
      return ctx?.lang ?? 'en';
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(req: UssdRequest, deadline: number, known: KnownLang): Promise<string> {
    const phoneHash = this.deps.blind.phone(req.phone);
    const held = await this.deps.store.acquire(req.sessionId, phoneHash, deadline);
    try {
      // A session belongs to the phone that dialled it: the same sessionId from another number
      // starts that number's own conversation, never continuing (or replaying) the other one's.
      const foreign = held.record !== null && held.record.phoneHash !== phoneHash;
      if (foreign) this.deps.logger.warn('ussd sessionId reused by another phone; starting afresh', { sessionId: req.sessionId });
      const record = foreign ? null : held.record;
      if (record) known.sure = true;
      const textHash = this.deps.blind.text(req.text);
      // A retried request (same session, same text): the same answer, and nothing done twice.
      if (record && (record.lastTextHash === textHash || record.ended)) return record.lastReply;

      const hop: Hop = { phone: req.phone, lang: record?.lang ?? 'en', channel: 'ussd', sessionId: req.sessionId };
      const convo = new Conversation(this, hop, known, deadline);
      if (record) {
        // A snapshot from another version of its flow starts again at the main menu; the input was meant for the old screen.
        if (await convo.restore(record)) await convo.apply(this.newInput(record, req.text, req.sessionId));
      } else {
        // Another phone's text is not its dial-through: it starts at the first screen.
        // Inputs past MAX_DIAL_THROUGH are dropped: the citizen sees the screen the first ones lead to.
        await convo.begin(req.text === '' || foreign ? [] : req.text.split('*', MAX_DIAL_THROUGH), foreign ? null : held.resume);
      }
      const { reply, end } = convo.render();
      // Past the deadline the citizen already has the apology: this hop must not save over it.
      if (Date.now() >= deadline) throw new Deadline('deadline passed before saving');

      const saved = convo.saved();
      const next: SessionRecord = {
        v: 1,
        ...saved,
        // An ended session keeps only its last reply (for retries): its context may hold a login code.
        ...(end ? { state: { ...saved.state, snapshot: null } } : {}),
        lastTextHash: textHash,
        lastTextLen: req.text.length,
        // A retry gets this reply again; a one-time code in it is not kept in clear (it went by SMS too).
        lastReply: maskCodes(reply, convo.oneTimeCodes),
        hops: (record?.hops ?? 0) + 1,
        startedAt: record?.startedAt ?? Date.now(),
        phoneHash,
      };
      if (end) await held.saveEnded(next);
      else await held.saveOngoing(next, convo.resumePointer(req.sessionId));
      return reply;
    } finally {
      await held.release().catch(() => undefined);
    }
  }

  /**
   * AT sends every input so far joined by `*`. The new input is what follows the text seen last
   * time — not `split('*')`, since a citizen may type `*` inside one answer.
   */
  private newInput(record: SessionRecord, text: string, sessionId: string): string {
    const len = record.lastTextLen;
    if (len === 0) return text;
    if (text.length > len && text[len] === '*' && this.deps.blind.text(text.slice(0, len)) === record.lastTextHash) return text.slice(len + 1);
    this.deps.logger.warn('ussd text does not extend the previous text; taking its last part', { sessionId });
    return text.slice(text.lastIndexOf('*') + 1);
  }

  get limit(): number {
    return this.deps.screenLimit;
  }

  dialContext(phone: string): Promise<DialContext> {
    return this.deps.dialContext(phone);
  }

  get logger(): Logger {
    return this.deps.logger;
  }
}

