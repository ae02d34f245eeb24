import { assign, fromPromise, setup } from 'xstate';
import type { Screen } from './types';
import { chose, finalOutput, flowTypes, msg } from './lib';
import type { UndeliveredCode } from './reset-code';

/** The main menu. Its numbering is fixed: 1 status, 2 reset, 3 book, 4 my appointments, 5 language. */
const menuScreen = (): Screen => ({
  nav: 'none',
  lines: [msg('main.title')],
  items: [msg('main.status'), msg('main.reset'), msg('main.book'), msg('main.appointments'), msg('main.language')],
});

/**
 * A login code whose SMS failed, shown before the menu (see flows/reset-code.ts). The engine learns
 * at dial, in the same query as the phone's language, whether there is one (`input.undeliveredCode`);
 * only then is it fetched. Home (00) and other flows come back straight to the menu.
 */
type Ctx = { check: boolean; consent: boolean; undelivered?: UndeliveredCode; pending?: PendingConsent };

/** A consent code a Huduma Centre agent is waiting for, shown to the citizen who dials meanwhile. */
export interface PendingConsent {
  code: string;
  centre: string;
}

export const mainMenu = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** The consent code an agent is waiting for from this phone's citizen, or null. */
    pendingConsent: fromPromise<PendingConsent | null, Record<string, never>>(async () => {
      throw new Error('pendingConsent not provided');
    }),
    /** A still-valid login code of this phone whose SMS AT reported undelivered, or null. */
    undeliveredCode: fromPromise<UndeliveredCode | null, Record<string, never>>(async () => {
      throw new Error('undeliveredCode not provided');
    }),
  },
}).createMachine({
  id: 'main-menu',
  context: ({ input }) => ({ check: input.undeliveredCode ?? false, consent: input.consentCode ?? false }),
  initial: 'start',
  output: finalOutput,
  states: {
    start: {
      always: [
        { guard: ({ context }) => context.consent, target: 'checkingConsent' },
        { guard: ({ context }) => context.check, target: 'checking' },
        { target: 'menu' },
      ],
    },
    // At the counter, the citizen may read the consent code from this screen if its SMS is slow.
    checkingConsent: {
      invoke: {
        id: 'pendingConsent',
        src: 'pendingConsent',
        input: {},
        onDone: [
          { guard: ({ event }) => event.output !== null, target: 'consent', actions: assign({ pending: ({ event }) => event.output ?? undefined }) },
          { guard: ({ context }) => context.check, target: 'checking' },
          { target: 'menu' },
        ],
      },
    },
    consent: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          nav: 'none',
          lines: [msg('notice.consent_code', { centre: ctx.pending?.centre ?? '', code: ctx.pending?.code ?? '' })],
          items: [msg('notice.continue')],
        }),
      },
      on: {
        INPUT: [
          { guard: ({ context, event }) => chose(event.value, 1) && context.check, target: 'checking', actions: assign({ pending: undefined }) },
          { guard: ({ event }) => chose(event.value, 1), target: 'menu', actions: assign({ pending: undefined }) },
        ],
      },
    },
    // One journey across USSD and SMS: if the code's SMS failed, the next dial shows the code first.
    checking: {
      invoke: {
        id: 'undeliveredCode',
        src: 'undeliveredCode',
        input: {},
        onDone: [
          { guard: ({ event }) => event.output !== null, target: 'undelivered', actions: assign({ undelivered: ({ event }) => event.output ?? undefined }) },
          { target: 'menu' },
        ],
      },
    },
    undelivered: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          nav: 'none',
          lines: [msg('notice.undelivered_code', { code: ctx.undelivered?.code ?? '', until: ctx.undelivered?.validUntil ?? '' })],
          items: [msg('notice.continue')],
        }),
      },
      on: { INPUT: { guard: ({ event }) => chose(event.value, 1), target: 'menu', actions: assign({ undelivered: undefined }) } },
    },
    menu: {
      tags: 'prompt',
      meta: { screen: menuScreen },
      on: {
        INPUT: [
          { guard: ({ event }) => chose(event.value, 1), target: 'toStatus' },
          { guard: ({ event }) => chose(event.value, 2), target: 'toReset' },
          { guard: ({ event }) => chose(event.value, 3), target: 'toBook' },
          { guard: ({ event }) => chose(event.value, 4), target: 'toAppointments' },
          { guard: ({ event }) => chose(event.value, 5), target: 'toLanguage' },
        ],
      },
    },
    toStatus: { type: 'final', output: { goto: 'check-status' } },
    toReset: { type: 'final', output: { goto: 'reset-code' } },
    toBook: { type: 'final', output: { goto: 'book-appointment' } },
    toAppointments: { type: 'final', output: { goto: 'manage-booking' } },
    toLanguage: { type: 'final', output: { goto: 'language' } },
  },
});

export default { name: 'main-menu', version: 5, machine: mainMenu } as const;
