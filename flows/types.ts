/**
 * The contract between flows and the engine. Flows are pure XState machines: they say which
 * screen each state shows (as catalogue keys, never text) and ask for data through named actors
 * that the engine provides. The engine owns transport, paging, language and persistence.
 */
import type { MessageKey } from '../src/i18n';

export type Lang = 'en' | 'sw';

/** A catalogue message with its parameters, or data text shown as it is (a centre's name). */
export type Msg = { key: MessageKey; params?: Record<string, Param> } | { text: string };
/** A parameter is plain data or another message, translated in the same language (a type label). */
export type Param = string | number | Msg;

export interface Screen {
  /** Shown above everything when the last answer was refused (e.g. "That number is not valid."). */
  error?: Msg;
  /** The body: a title, a question, a result. Each message is one or more lines. */
  lines: Msg[];
  /** Numbered choices. The engine numbers them 1..n and pages them to the screen limit. */
  items?: Msg[];
  /**
   * Which navigation the screen offers. `full` (default): 0 Back, 00 Home. `none`: the first
   * screen of a session (main menu, first-dial language choice), where 0 and 00 mean nothing.
   */
  nav?: 'full' | 'none';
}

/** What a state declares in `meta`. Prompt states (tag `prompt`) and final states must have a screen. */
export interface StateMeta {
  screen: (context: never) => Screen;
}

/** Names of all flows: the engine moves between them when one finishes with `goto`. */
export type FlowName = 'main-menu' | 'language' | 'check-status' | 'reset-code' | 'book-appointment' | 'manage-booking';

/** What a flow hands back to the engine when it reaches a final state. */
export interface FlowOutput {
  /** Start this flow next (in the same hop). Without it, the final state's screen ends the session. */
  goto?: FlowName;
  /** The language the citizen just chose; the engine renders in it from now on. */
  lang?: Lang;
  /** The input of the `goto` flow (e.g. a preselected service for book-appointment). */
  input?: FlowInput;
}

/** Input every flow is started with. */
export interface FlowInput {
  /** Main menu on a dial: this phone has a valid login code whose SMS failed (show it first). */
  undeliveredCode?: boolean;
  /** Main menu on a dial: a Huduma Centre agent is waiting for this citizen's consent code (show it first). */
  consentCode?: boolean;
  /** True on the very first dial of a phone with no saved language. */
  firstDial?: boolean;
  /** book-appointment: a bookable service code chosen beforehand (e.g. 'ecitizen_support'); skips the service list. */
  service?: string;
}

/** Events the engine sends. HOME (00) and paging (98) never reach a flow: the engine handles them. */
export type FlowEvent =
  | { type: 'INPUT'; value: string }
  | { type: 'BACK' }
  /** A dropped session resumed on a state tagged `personal`: ask again who is there before showing it. */
  | { type: 'REVERIFY' };

/**
 * `prompt`: the state shows a screen and waits for input. `personal`: it shows personal data, so a
 * resumed session asks again who is there (REVERIFY). `complete`: the citizen already has what they
 * came for; a session dropped here is not offered "Continue" on the next dial. `one-time-code`: the
 * screen shows a one-time code (a new login code); sent as an SMS reply, its text is wiped from the
 * outbox once sent, like any code's SMS.
 */
export type FlowTag = 'prompt' | 'personal' | 'complete' | 'one-time-code';
