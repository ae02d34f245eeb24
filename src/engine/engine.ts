import { createActor, waitFor, type AnyActor, type AnyActorLogic, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { flows } from '../../flows';
import type { FlowEvent, FlowInput, FlowName, FlowOutput, Lang, Msg, Screen } from '../../flows/types';
import type { Logger } from '../log';
import type { BlindIndex } from '../services/blind-index';
import { runInHop, type Hop } from './hop-context';
import { renderPages } from './screen';
import type { FlowState, ResumePointer, SessionRecord, SessionStore } from './session-store';

export interface UssdRequest {
  sessionId: string;
  phone: string;
  text: string;
  serviceCode: string;
  networkCode: string;
}

export interface EngineDeps {
  store: SessionStore;
  blind: BlindIndex;
  /** The saved language of a phone, or null on its first dial. */
  savedLanguage: (phone: string) => Promise<Lang | null>;
  actors: Record<string, AnyActorLogic>;
  logger: Logger;
  screenLimit: number;
  hopDeadlineMs: number;
}

/** Flows whose state is worth offering to continue after a dropped session. */
const NOT_RESUMABLE: ReadonlySet<FlowName> = new Set(['main-menu', 'language']);
/** A flow that finishes with `goto` starts the next one in the same hop; this bounds a loop of them. */
const MAX_FLOW_SWITCHES = 5;

const settled = (s: AnyMachineSnapshot) => s.status !== 'active' || s.hasTag('prompt');

function screenOf(s: AnyMachineSnapshot): Screen {
  const metas = Object.values(s.getMeta()) as Array<{ screen?: (ctx: unknown) => Screen } | undefined>;
  const screen = metas.reverse().find((m) => m?.screen)?.screen;
  if (!screen) throw new Error(`state ${JSON.stringify(s.value)} has no screen`);
  return screen(s.context);
}

class Deadline extends Error {}

/**
 * Runs USSD conversations: one XState actor per session, rehydrated from its snapshot in Redis on
 * every hop, stepped with the citizen's new input, waited on until it settles on a screen, rendered,
 * saved. Every hop answers within `hopDeadlineMs`: a slow or failed dependency ends the session with
 * an apology in the citizen's language, and the last good state stays in Redis for a redial.
 */
export class UssdEngine {
  private readonly machines: Record<FlowName, AnyStateMachine>;

  constructor(private readonly deps: EngineDeps) {
    const machines = {} as Record<FlowName, AnyStateMachine>;
    for (const [name, def] of Object.entries(flows) as Array<[FlowName, (typeof flows)[FlowName]]>) {
      machines[name] = def.machine.provide({ actors: deps.actors as never });
    }
    this.machines = machines;
  }

  /** Answers one AT callback with the full body, `CON …` or `END …`. Never throws. */
  async hop(req: UssdRequest): Promise<string> {
    const started = Date.now();
    const deadline = started + this.deps.hopDeadlineMs;
    const abort = new AbortController();
    const known: { lang: Lang } = { lang: 'en' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Deadline(`hop exceeded ${this.deps.hopDeadlineMs} ms`)), this.deps.hopDeadlineMs);
    });
    try {
      return await Promise.race([this.run(req, deadline, abort.signal, known), timeout]);
    } catch (err) {
      abort.abort();
      this.deps.logger.error('ussd hop failed', {
        sessionId: req.sessionId,
        cause: err instanceof Deadline ? 'deadline' : 'error',
        error: err instanceof Error ? err.message : String(err),
        ms: Date.now() - started,
      });
      return `END ${renderPages({ lines: [{ key: 'error.unavailable' }] }, { lang: known.lang, limit: this.deps.screenLimit, final: true })[0]}`;
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(req: UssdRequest, deadline: number, signal: AbortSignal, known: { lang: Lang }): Promise<string> {
    const release = await this.deps.store.lock(req.sessionId, deadline);
    try {
      const record = await this.deps.store.get(req.sessionId);
      const textHash = this.deps.blind.text(req.text);
      // A retried request (same session, same text): the same answer, and nothing done twice.
      if (record && (record.lastTextHash === textHash || record.ended)) return record.lastReply;

      const hop: Hop = { phone: req.phone, lang: record?.lang ?? 'en', channel: 'ussd', sessionId: req.sessionId };
      const convo = new Conversation(this, hop, known, deadline, signal);
      if (record) {
        // A snapshot from another version of its flow starts again at the main menu; the input was meant for the old screen.
        if (convo.restore(record)) await convo.apply(this.newInput(record, req.text, req.sessionId));
      } else {
        await convo.begin(req.text === '' ? [] : req.text.split('*'));
      }
      const { reply, end } = convo.render();
      if (signal.aborted) throw new Deadline('deadline passed before saving');

      const next: SessionRecord = {
        v: 1,
        // An ended session keeps only its last reply (for retries): its context may hold a login code.
        state: end ? { ...convo.flowState(), snapshot: null } : convo.flowState(),
        lang: hop.lang,
        page: convo.page,
        ...(convo.finished ? { finished: true } : {}),
        ...(convo.resumeOffer ? { resumeOffer: convo.resumeOffer } : {}),
        lastTextHash: textHash,
        lastTextLen: req.text.length,
        lastReply: reply,
        hops: (record?.hops ?? 0) + 1,
        startedAt: record?.startedAt ?? Date.now(),
        phoneHash: this.deps.blind.phone(req.phone),
      };
      if (end) await this.deps.store.saveEnded(req.sessionId, next);
      else await this.deps.store.saveOngoing(req.sessionId, next, convo.resumePointer(req.sessionId));
      return reply;
    } finally {
      await release().catch(() => undefined);
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

  /** Starts an actor for a flow, fresh or from a snapshot; errors are caught, never thrown into Node. */
  startActor(name: FlowName, input: FlowInput, snapshot?: unknown): { actor: AnyActor; failure: { error?: unknown } } {
    const failure: { error?: unknown } = {};
    const actor = createActor(this.machines[name], snapshot ? { input, snapshot: snapshot as never } : { input });
    actor.subscribe({ error: (err) => void (failure.error = err) });
    actor.start();
    return { actor, failure };
  }

  get limit(): number {
    return this.deps.screenLimit;
  }

  savedLanguage(phone: string): Promise<Lang | null> {
    return this.deps.savedLanguage(phone);
  }

  resumeFor(phone: string): Promise<ResumePointer | null> {
    return this.deps.store.getResume(this.deps.blind.phone(phone));
  }

  get logger(): Logger {
    return this.deps.logger;
  }
}

/** One hop of one session: the current flow's actor, the page shown and what to say. */
class Conversation {
  private flow: FlowName = 'main-menu';
  private actor: AnyActor | null = null;
  private failure: { error?: unknown } = {};
  page = 0;
  finished = false;
  resumeOffer: FlowState | undefined;
  private notice: Msg | undefined;
  private persisted: FlowState | undefined;

  constructor(
    private readonly engine: UssdEngine,
    private readonly hop: Hop,
    private readonly known: { lang: Lang },
    private readonly deadline: number,
    private readonly signal: AbortSignal,
  ) {
    known.lang = hop.lang;
  }

  private setLang(lang: Lang) {
    this.hop.lang = lang;
    this.known.lang = lang;
  }

  /** First hop of a session: offer to resume a dropped one, or ask the language, or the main menu. */
  async begin(dialThrough: string[]): Promise<void> {
    const resume = await this.engine.resumeFor(this.hop.phone);
    if (resume && resume.sessionId !== this.hop.sessionId && dialThrough.length === 0) {
      this.setLang(resume.lang);
      this.resumeOffer = resume.state;
      return;
    }
    const lang = await this.engine.savedLanguage(this.hop.phone);
    if (lang) {
      this.setLang(lang);
      await this.switchTo('main-menu');
    } else {
      await this.switchTo('language', { firstDial: true });
    }
    for (const input of dialThrough) await this.apply(input);
  }

  /** Rehydrates the session; false when it had to start again instead. */
  restore(record: SessionRecord): boolean {
    this.page = record.page;
    this.finished = record.finished ?? false;
    if (record.resumeOffer) {
      this.resumeOffer = record.resumeOffer;
      return true;
    }
    if (this.load(record.state)) return true;
    this.startFresh();
    return false;
  }

  /** Rehydrates a flow; false when the snapshot is from another version of the flow or cannot be read. */
  private load(state: FlowState): boolean {
    const def = flows[state.flow];
    if (!def || def.version !== state.version) return false;
    const { actor, failure } = runInHop(this.hop, () => this.engine.startActor(state.flow, {}, state.snapshot));
    if (actor.getSnapshot().status === 'error') return false;
    this.flow = state.flow;
    this.actor = actor;
    this.failure = failure;
    return true;
  }

  /** The citizen is started again politely (a deploy changed the flow under them). */
  private startFresh(): void {
    this.startFlow('main-menu');
    this.notice = { key: 'session.restarted' };
  }

  async apply(input: string): Promise<void> {
    this.notice = undefined;
    if (this.resumeOffer) return this.answerResumeOffer(input);

    const pages = this.pages().length;
    if (input === '98' && this.page < pages - 1) return void this.page++;
    if (input === '0' && this.page > 0) return void this.page--;
    if (this.finished) return void (this.notice = { key: 'error.invalid_choice' });

    const snapshot = this.snapshot();
    const nav = screenOf(snapshot).nav ?? 'full';
    this.page = 0;
    if (nav === 'full' && input === '00') return this.switchTo('main-menu');
    if (nav === 'full' && input === '0') {
      if (!snapshot.can({ type: 'BACK' })) return this.switchTo('main-menu');
      return this.send({ type: 'BACK' });
    }
    return this.send({ type: 'INPUT', value: input });
  }

  private async answerResumeOffer(input: string): Promise<void> {
    const offer = this.resumeOffer as FlowState;
    if (input !== '1' && input !== '2') return void (this.notice = { key: 'error.invalid_choice' });
    this.resumeOffer = undefined;
    if (input === '2' || !this.load(offer)) return this.switchTo('main-menu');
    // A screen with personal data is not shown again to whoever holds the phone now.
    if (this.snapshot().hasTag('personal')) await this.send({ type: 'REVERIFY' });
  }

  private async send(event: FlowEvent): Promise<void> {
    const actor = this.actor as AnyActor;
    const before = actor.getSnapshot();
    runInHop(this.hop, () => actor.send(event));
    // XState returns the very same snapshot when no transition took the event: a wrong choice.
    if (actor.getSnapshot() === before) return void (this.notice = { key: 'error.invalid_choice' });
    await this.settle();
  }

  private async switchTo(name: FlowName, input: FlowInput = {}): Promise<void> {
    this.startFlow(name, input);
    await this.settle();
  }

  private startFlow(name: FlowName, input: FlowInput = {}): void {
    this.actor?.stop();
    const { actor, failure } = runInHop(this.hop, () => this.engine.startActor(name, input));
    this.flow = name;
    this.actor = actor;
    this.failure = failure;
    this.page = 0;
    this.finished = false;
  }

  /** Waits for async lookups, then follows `goto` from a finished flow into the next one. */
  private async settle(): Promise<void> {
    for (let switches = 0; ; switches++) {
      const actor = this.actor as AnyActor;
      const remaining = this.deadline - Date.now();
      const snap = (await waitFor(actor, settled, { timeout: Math.max(1, remaining), signal: this.signal })) as AnyMachineSnapshot;
      if (snap.status === 'error' || this.failure.error) throw this.failure.error ?? snap.error;
      if (snap.status !== 'done') return;
      const output = (snap.output ?? {}) as FlowOutput;
      if (output.lang) this.setLang(output.lang);
      if (!output.goto) return;
      if (switches >= MAX_FLOW_SWITCHES) throw new Error('too many flow switches in one hop');
      this.startFlow(output.goto);
    }
  }

  private snapshot(): AnyMachineSnapshot {
    return (this.actor as AnyActor).getSnapshot() as AnyMachineSnapshot;
  }

  private currentScreen(): Screen {
    if (this.resumeOffer) return { nav: 'none', lines: [{ key: 'resume.title' }], items: [{ key: 'resume.continue' }, { key: 'resume.restart' }] };
    return screenOf(this.snapshot());
  }

  private isFinal(): boolean {
    return !this.resumeOffer && this.snapshot().status === 'done';
  }

  private pages(): string[] {
    return renderPages(this.currentScreen(), { lang: this.hop.lang, limit: this.engine.limit, final: this.isFinal(), ...(this.notice ? { notice: this.notice } : {}) });
  }

  /** The reply for AT. A final screen longer than one page is shown page by page before END. */
  render(): { reply: string; end: boolean } {
    const pages = this.pages();
    this.page = Math.min(this.page, pages.length - 1);
    const final = this.isFinal();
    const end = final && this.page === pages.length - 1;
    this.finished = final && !end;
    return { reply: `${end ? 'END' : 'CON'} ${pages[this.page]}`, end };
  }

  /** The state to persist. Taken once, then the actor is stopped (a snapshot taken after stop would not resume). */
  flowState(): FlowState {
    if (!this.persisted) {
      const snapshot = this.actor ? (this.actor.getPersistedSnapshot() as unknown) : null;
      this.actor?.stop();
      this.persisted = { flow: this.flow, version: flows[this.flow].version, snapshot };
    }
    return this.persisted;
  }

  /** Where a redial should pick up; null clears it (main menu, language: nothing worth resuming). */
  resumePointer(sessionId: string): ResumePointer | null {
    if (this.resumeOffer) return { sessionId, state: this.resumeOffer, lang: this.hop.lang };
    if (NOT_RESUMABLE.has(this.flow) || this.finished) return null;
    return { sessionId, state: this.flowState(), lang: this.hop.lang };
  }
}
