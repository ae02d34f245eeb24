import { createActor, waitFor, type AnyActor, type AnyActorLogic, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { flows } from '../../flows';
import type { FlowEvent, FlowInput, FlowName, FlowOutput, Lang, Msg, Screen } from '../../flows/types';
import { runInHop, type Hop } from './hop-context';
import { renderPages } from './screen';
import type { ConversationState, FlowState, ResumePointer } from './session-store';

/** Flows whose state is worth offering to continue after a dropped session. */
const NOT_RESUMABLE: ReadonlySet<FlowName> = new Set(['main-menu', 'language']);
/** A flow that finishes with `goto` starts the next one in the same hop; this bounds a loop of them. */
const MAX_FLOW_SWITCHES = 5;

const settled = (s: AnyMachineSnapshot) => s.status !== 'active' || s.hasTag('prompt');

export function screenOf(s: AnyMachineSnapshot): Screen {
  const metas = Object.values(s.getMeta()) as Array<{ screen?: (ctx: unknown) => Screen } | undefined>;
  const screen = metas.reverse().find((m) => m?.screen)?.screen;
  if (!screen) throw new Error(`state ${JSON.stringify(s.value)} has no screen`);
  return screen(s.context);
}

/** The flow machines with their real actors, provided once; starts an actor per hop. */
export class FlowMachines {
  private readonly machines: Record<FlowName, AnyStateMachine>;

  constructor(actors: Record<string, AnyActorLogic>) {
    const machines = {} as Record<FlowName, AnyStateMachine>;
    for (const [name, def] of Object.entries(flows) as Array<[FlowName, (typeof flows)[FlowName]]>) {
      machines[name] = def.machine.provide({ actors: actors as never });
    }
    this.machines = machines;
  }

  /** Starts an actor for a flow, fresh or from a snapshot; errors are caught, never thrown into Node. */
  start(name: FlowName, input: FlowInput, snapshot?: unknown): { actor: AnyActor; failure: { error?: unknown } } {
    const failure: { error?: unknown } = {};
    const actor = createActor(this.machines[name], snapshot ? { input, snapshot: snapshot as never } : { input });
    actor.subscribe({ error: (err) => void (failure.error = err) });
    actor.start();
    return { actor, failure };
  }
}

/** The session's language as far as the hop got: the apology after a failure is said in it. */
export interface KnownLang {
  lang: Lang;
  /** False until the language was read from the session or the phone's preference. */
  sure: boolean;
}

export interface DialContext {
  lang: Lang | null;
  undeliveredCode: boolean;
  consentCode: boolean;
}

/** What a conversation needs from the channel that runs it. */
export interface ConversationHost {
  flows: FlowMachines;
  /** Budget of one page in GSM-7 characters (a USSD screen, or two SMS parts). */
  limit: number;
  /** What a dial needs to know of the phone, in one query: its saved language, and whether a login code's SMS failed. */
  dialContext(phone: string): Promise<DialContext>;
}

/** One hop of one session: the current flow's actor, the page shown and what to say. */
export class Conversation {
  private flow: FlowName = 'main-menu';
  private actor: AnyActor | null = null;
  private failure: { error?: unknown } = {};
  page = 0;
  finished = false;
  resumeOffer: FlowState | undefined;
  /**
   * Shown above the screen's first page ("Invalid choice"). Kept while the citizen pages through
   * that screen: the pages were cut with it, and must not shift under them (or a line is skipped).
   */
  notice: Msg | undefined;
  private persisted: FlowState | undefined;
  private complete = false;

  constructor(
    private readonly host: ConversationHost,
    private readonly hop: Hop,
    private readonly known: KnownLang,
    private readonly deadline: number,
  ) {
    known.lang = hop.lang;
  }

  private setLang(lang: Lang) {
    this.hop.lang = lang;
    this.known.lang = lang;
    this.known.sure = true;
  }

  /** First hop of a session: offer to resume a dropped one (`resume`), or ask the language, or the main menu. */
  async begin(dialThrough: string[], resume: ResumePointer | null = null): Promise<void> {
    if (resume && resume.sessionId !== this.hop.sessionId && dialThrough.length === 0) {
      this.setLang(resume.lang);
      this.resumeOffer = resume.state;
      return;
    }
    const { lang, undeliveredCode, consentCode } = await this.host.dialContext(this.hop.phone);
    if (lang) {
      this.setLang(lang);
      await this.switchTo('main-menu', { undeliveredCode, consentCode });
    } else {
      await this.switchTo('language', { firstDial: true });
    }
    for (const input of dialThrough) await this.apply(input);
  }

  /** Starts a session straight in one flow (an SMS keyword such as BOOK), in a known language. */
  async startIn(name: FlowName, lang: Lang, input: FlowInput = {}): Promise<void> {
    this.setLang(lang);
    await this.switchTo(name, input);
  }

  /** Rehydrates the session; false when it had to start again instead. */
  async restore(record: ConversationState): Promise<boolean> {
    this.page = record.page;
    this.finished = record.finished ?? false;
    this.notice = record.notice;
    if (record.resumeOffer) {
      this.resumeOffer = record.resumeOffer;
      return true;
    }
    if (this.load(record.state)) return true;
    await this.startFresh();
    return false;
  }

  /** Rehydrates a flow; false when the snapshot is from another version of the flow or cannot be read. */
  private load(state: FlowState): boolean {
    const def = flows[state.flow];
    // No snapshot would silently start the flow over and feed it input meant for another screen.
    if (!def || def.version !== state.version || typeof state.snapshot !== 'object' || state.snapshot === null) return false;
    const { actor, failure } = runInHop(this.hop, () => this.host.flows.start(state.flow, {}, state.snapshot));
    if (actor.getSnapshot().status === 'error') return false;
    this.flow = state.flow;
    this.actor = actor;
    this.failure = failure;
    return true;
  }

  /**
   * The citizen is started again politely (a deploy changed the flow under them). Settled like any
   * other start: the main menu may look something up before its first screen.
   */
  private async startFresh(): Promise<void> {
    await this.switchTo('main-menu');
    this.notice = { key: 'session.restarted' };
  }

  async apply(input: string): Promise<void> {
    if (this.resumeOffer) {
      this.notice = undefined;
      return this.answerResumeOffer(input);
    }

    // Rendering is only needed to know whether there is a next page.
    if (input === '98' && this.page < this.pages().length - 1) return void this.page++;
    if (input === '0' && this.page > 0) return void this.page--;
    this.notice = undefined;
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
    if (input === '2') return this.switchTo('main-menu');
    if (!this.load(offer)) return this.startFresh();
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
    const { actor, failure } = runInHop(this.hop, () => this.host.flows.start(name, input));
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
      // A little past the deadline: the hop's own timer answers first (the apology); this only ends the
      // wait, and with it the hop's work (no AbortSignal needed: this timeout is the deadline).
      // Most steps settle synchronously (no lookup): no need to subscribe and arm a timer for them.
      const now = actor.getSnapshot() as AnyMachineSnapshot;
      const snap = settled(now) ? now : ((await waitFor(actor, settled, { timeout: Math.max(1, remaining) + 25 })) as AnyMachineSnapshot);
      if (snap.status === 'error' || this.failure.error) throw this.failure.error ?? snap.error;
      if (snap.status !== 'done') return;
      const output = (snap.output ?? {}) as FlowOutput;
      if (output.lang) this.setLang(output.lang);
      if (!output.goto) return;
      if (switches >= MAX_FLOW_SWITCHES) throw new Error('too many flow switches in one hop');
      this.startFlow(output.goto, output.input ?? {});
    }
  }

  private snapshot(): AnyMachineSnapshot {
    return (this.actor as AnyActor).getSnapshot() as AnyMachineSnapshot;
  }

  private currentScreen(): Screen {
    if (this.resumeOffer) return { nav: 'none', lines: [{ key: 'resume.title' }], items: [{ key: 'resume.continue' }, { key: 'resume.restart' }] };
    return screenOf(this.snapshot());
  }

  /** Whether the screen shows a one-time code (a state tagged `one-time-code`). Ask before `saved()`. */
  showsOneTimeCode(): boolean {
    return !this.resumeOffer && this.actor !== null && this.snapshot().hasTag('one-time-code');
  }

  private isFinal(): boolean {
    return !this.resumeOffer && this.snapshot().status === 'done';
  }

  private pages(): string[] {
    return renderPages(this.currentScreen(), { lang: this.hop.lang, limit: this.host.limit, channel: this.hop.channel, final: this.isFinal(), ...(this.notice ? { notice: this.notice } : {}) });
  }

  /** The reply for AT. A final screen longer than one page is shown page by page before END. */
  render(): { reply: string; end: boolean } {
    const { text, end } = this.renderText();
    return { reply: `${end ? 'END' : 'CON'} ${text}`, end };
  }

  /** The current page's text, and whether it ends the conversation (the last page of a final screen). */
  renderText(): { text: string; end: boolean } {
    const pages = this.pages();
    this.page = Math.min(this.page, pages.length - 1);
    const final = this.isFinal();
    const end = final && this.page === pages.length - 1;
    this.finished = final && !end;
    return { text: pages[this.page] as string, end };
  }

  /** Everything the next turn needs, to be saved by the channel (the actor is stopped). */
  saved(): ConversationState {
    return {
      state: this.flowState(),
      lang: this.hop.lang,
      page: this.page,
      ...(this.finished ? { finished: true } : {}),
      ...(this.resumeOffer ? { resumeOffer: this.resumeOffer } : {}),
      ...(this.notice ? { notice: this.notice } : {}),
    };
  }

  /** The state to persist. Taken once, then the actor is stopped (a snapshot taken after stop would not resume). */
  flowState(): FlowState {
    if (!this.persisted) {
      const snapshot = this.actor ? (this.actor.getPersistedSnapshot() as unknown) : null;
      this.complete = this.actor ? (this.actor.getSnapshot() as AnyMachineSnapshot).hasTag('complete') : false;
      this.actor?.stop();
      this.persisted = { flow: this.flow, version: flows[this.flow].version, snapshot };
    }
    return this.persisted;
  }

  /**
   * Where a redial should pick up; null clears it: the main menu and language (nothing worth
   * resuming), and a screen tagged `complete` (the citizen has what they came for, e.g. a status
   * shown with an offer to subscribe: hanging up there is finishing, not dropping).
   */
  resumePointer(sessionId: string): ResumePointer | null {
    if (this.resumeOffer) return { sessionId, state: this.resumeOffer, lang: this.hop.lang };
    const state = this.flowState();
    if (NOT_RESUMABLE.has(this.flow) || this.finished || this.complete) return null;
    return { sessionId, state, lang: this.hop.lang };
  }
}
