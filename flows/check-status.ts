import { assign, fromPromise, setup } from 'xstate';
import type { Msg, Screen } from './types';
import { chose, finalOutput, flowTypes, msg, pickIndex } from './lib';
import { checkReference, normaliseReference, type ReferenceProblem } from '../src/domain/reference';
import { isMessageKey, type MessageKey } from '../src/i18n';

/**
 * Application status. "My applications" lists those whose registered phone is the dialling phone;
 * "Enter an application number" checks the number's format and check digit first (3 tries), then
 * shows the status at once if the dialling phone is the applicant's, or asks for the applicant's ID
 * number otherwise. An unknown number also asks for an ID number, and both end in the same "not
 * found": the answers never tell which references exist.
 */

/** What the flow knows of one application: no ID number, no phone number. */
export interface AppSummary {
  reference: string;
  type: string;
  status: string;
  reason: string | null;
  /** Name of the Huduma Centre where the document is collected, when known. */
  centre: string | null;
}

export type LookupResult = { kind: 'found'; app: AppSummary } | { kind: 'needId' };
/** `locked`: too many wrong ID numbers for this reference or from this phone today; nothing was checked. */
export type VerifyResult = { kind: 'found'; app: AppSummary } | { kind: 'nomatch' } | { kind: 'locked' };

type Ctx = {
  apps: AppSummary[];
  shown?: AppSummary;
  reference?: string;
  tries: number;
  refProblem?: ReferenceProblem;
  /** How the citizen got here, so a resumed session re-verifies the right thing. */
  mode?: 'mine' | 'reference';
};

const MAX_REFERENCE_TRIES = 3;
/** Statuses that will not change any more: no "SMS me when this changes". */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['COLLECTED', 'CANCELLED', 'EXPIRED_UNCOLLECTED', 'REJECTED']);

const refProblemKey: Record<ReferenceProblem, MessageKey> = {
  not_digits: 'status.ref_not_digits',
  wrong_length: 'status.ref_wrong_length',
  bad_check_digit: 'status.ref_bad_check_digit',
  unknown_agency: 'status.ref_bad_check_digit',
};

const key = (prefix: string, code: string, fallback: MessageKey): MessageKey => {
  const k = `${prefix}.${code}`;
  return isMessageKey(k) ? k : fallback;
};

/** An application type's label; a type added to the data before the catalogue shows its code. */
const typeMsg = (app: AppSummary): Msg => (isMessageKey(`type.${app.type}`) ? msg(`type.${app.type}` as MessageKey) : { text: app.type });

/** One line of "My applications": "Passport: READY". */
export const itemMsg = (app: AppSummary): Msg => msg('status.item', { type: typeMsg(app), status: msg(key('short', app.status, 'short.SUBMITTED')) });

export const checkStatus = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** Applications of the citizen whose registered phone is the dialling phone, newest first. */
    listMyApplications: fromPromise<AppSummary[], Record<string, never>>(async () => {
      throw new Error('listMyApplications not provided');
    }),
    /** Found only when the dialling phone is the applicant's; otherwise (or unknown) needId. */
    lookupApplication: fromPromise<LookupResult, { reference: string }>(async () => {
      throw new Error('lookupApplication not provided');
    }),
    /** Found only when the ID number is the applicant's. */
    verifyApplication: fromPromise<VerifyResult, { reference: string; idNumber: string }>(async () => {
      throw new Error('verifyApplication not provided');
    }),
    /** "SMS me when this changes": subscribes the dialling phone to the application. */
    subscribe: fromPromise<void, { reference: string }>(async () => {
      throw new Error('subscribe not provided');
    }),
    /** True when the ID number belongs to the citizen registered with the dialling phone. */
    verifyPhoneHolder: fromPromise<'yes' | 'no' | 'locked', { idNumber: string }>(async () => {
      throw new Error('verifyPhoneHolder not provided');
    }),
  },
}).createMachine({
  id: 'check-status',
  context: { apps: [], tries: 0 },
  initial: 'menu',
  output: finalOutput,
  states: {
    menu: {
      tags: 'prompt',
      meta: { screen: (): Screen => ({ lines: [msg('status.title')], items: [msg('status.mine'), msg('status.enter')] }) },
      on: {
        INPUT: [
          { guard: ({ event }) => chose(event.value, 1), target: 'loadingMine', actions: assign({ mode: 'mine' as const }) },
          { guard: ({ event }) => chose(event.value, 2), target: 'askReference', actions: assign({ mode: 'reference' as const, tries: 0, refProblem: undefined }) },
        ],
      },
    },

    loadingMine: {
      invoke: {
        src: 'listMyApplications',
        input: {},
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'noneMine' },
          { target: 'mine', actions: assign({ apps: ({ event }) => event.output }) },
        ],
      },
    },
    noneMine: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('status.none_mine')] }) } },
    mine: {
      tags: ['prompt', 'personal'],
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('status.mine_title')],
          items: ctx.apps.map(itemMsg),
        }),
      },
      on: {
        INPUT: {
          guard: ({ context, event }) => pickIndex(event.value, context.apps.length) !== null,
          target: 'result',
          actions: assign({ shown: ({ context, event }) => context.apps[pickIndex(event.value, context.apps.length) ?? 0] }),
        },
        BACK: 'menu',
        REVERIFY: 'reverifyMine',
      },
    },
    reverifyMine: {
      tags: 'prompt',
      meta: { screen: (): Screen => ({ lines: [msg('status.reask_id')] }) },
      on: { INPUT: 'checkingHolder', BACK: 'menu' },
    },
    checkingHolder: {
      invoke: {
        src: 'verifyPhoneHolder',
        input: ({ event }) => ({ idNumber: (event as { value?: string }).value ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output === 'yes', target: 'mine' },
          { guard: ({ event }) => event.output === 'locked', target: 'idLocked' },
          { target: 'notFound' },
        ],
      },
    },

    askReference: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          ...(ctx.refProblem ? { error: msg(refProblemKey[ctx.refProblem]) } : {}),
          lines: [msg('status.ask_ref')],
        }),
      },
      on: {
        INPUT: [
          {
            guard: ({ event }) => checkReference(event.value) === null,
            target: 'lookingUp',
            actions: assign({ reference: ({ event }) => normaliseReference(event.value), refProblem: undefined }),
          },
          { guard: ({ context }) => context.tries + 1 >= MAX_REFERENCE_TRIES, target: 'tooManyTries' },
          { target: 'askReference', actions: assign({ tries: ({ context }) => context.tries + 1, refProblem: ({ event }) => checkReference(event.value) ?? undefined }) },
        ],
        BACK: 'menu',
      },
    },
    tooManyTries: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('status.too_many_tries')] }) } },
    lookingUp: {
      invoke: {
        src: 'lookupApplication',
        input: ({ context }) => ({ reference: context.reference ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'found', target: 'result', actions: assign({ shown: ({ event }) => (event.output.kind === 'found' ? event.output.app : undefined) }) },
          { target: 'askId' },
        ],
      },
    },
    askId: {
      tags: 'prompt',
      meta: { screen: (): Screen => ({ lines: [msg('status.ask_id')] }) },
      on: { INPUT: 'verifying', BACK: 'askReference' },
    },
    verifying: {
      // The ID number travels only in this invoke's input; it never enters the persisted context.
      invoke: {
        src: 'verifyApplication',
        input: ({ context, event }) => ({ reference: context.reference ?? '', idNumber: (event as { value?: string }).value ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'found', target: 'result', actions: assign({ shown: ({ event }) => (event.output.kind === 'found' ? event.output.app : undefined) }) },
          { guard: ({ event }) => event.output.kind === 'locked', target: 'idLocked' },
          { target: 'notFound' },
        ],
      },
    },
    notFound: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('status.not_found')] }) } },
    idLocked: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('status.locked')] }) } },
    // A status that can still change is offered "SMS me when this changes".
    result: {
      always: [{ guard: ({ context }) => !!context.shown && !FINAL_STATUSES.has(context.shown.status), target: 'offer' }, { target: 'shown' }],
    },
    offer: {
      tags: ['prompt', 'personal', 'complete'],
      meta: { screen: (ctx: Ctx): Screen => ({ ...statusScreen(ctx.shown), items: [msg('subscribe.item')] }) },
      on: {
        INPUT: { guard: ({ event }) => chose(event.value, 1), target: 'subscribing' },
        BACK: [{ guard: ({ context }) => context.mode === 'mine', target: 'mine' }, { target: 'menu' }],
        REVERIFY: [{ guard: ({ context }) => context.mode === 'mine', target: 'reverifyMine' }, { target: 'askId' }],
      },
    },
    subscribing: {
      invoke: {
        id: 'subscribe',
        src: 'subscribe',
        input: ({ context }) => ({ reference: context.shown?.reference ?? '' }),
        onDone: 'subscribed',
      },
    },
    subscribed: {
      type: 'final',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('subscribe.done', { reference: ctx.shown?.reference ?? '' })] }) },
    },
    shown: {
      type: 'final',
      meta: { screen: (ctx: Ctx): Screen => statusScreen(ctx.shown) },
    },
  },
});

/** "Passport 1026100200488 / READY for collection / Collect at Huduma Centre GPO." */
export function statusScreen(app: AppSummary | undefined): Screen {
  if (!app) return { lines: [msg('status.not_found')] };
  const lines: Msg[] = [
    msg('status.detail', { type: typeMsg(app), reference: app.reference }),
    msg(key('st', app.status, 'st.SUBMITTED')),
  ];
  if (app.reason) lines.push(msg(key('reason', app.reason, 'reason.other')));
  if (app.centre && (app.status === 'READY_FOR_COLLECTION' || app.status === 'PRINTING')) lines.push(msg('status.collect_at', { centre: app.centre }));
  return { lines };
}

export default { name: 'check-status', version: 2, machine: checkStatus } as const;
