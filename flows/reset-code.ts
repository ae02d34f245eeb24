import { assign, fromPromise, setup } from 'xstate';
import type { Screen } from './types';
import { chose, finalOutput, flowTypes, msg } from './lib';
import { ECITIZEN_SUPPORT_SERVICE } from './booking-common';
import type { MessageKey } from '../src/i18n';

/**
 * Reset the e-Citizen login code: ID number, then year of birth. If both match a citizen and the
 * dialling phone is the citizen's registered phone, a new code is issued, shown on this screen
 * (so a lost SMS cannot block anyone) and sent by SMS. Details that do not match are re-asked, three
 * tries at most; the right details from another phone are sent to a Huduma Centre.
 *
 * The ID number never enters this flow's context (which is persisted): `prepareReset` turns it
 * into a keyed hash (`idRef`) in the hop it was typed in.
 */
export type PrepareResult = { kind: 'ok'; idRef: string } | { kind: 'locked' };
export type ResetResult =
  /** `smsSent`: false when the conversation itself is by SMS, where this reply is the code's SMS. */
  | { kind: 'issued'; code: string; validUntil: string; smsSent: boolean }
  | { kind: 'wrong_phone' }
  | { kind: 'mismatch' }
  | { kind: 'locked' }
  | { kind: 'too_many_resets' };
export interface UndeliveredCode {
  code: string;
  validUntil: string;
}

type Ctx = {
  tries: number;
  idRef?: string;
  error?: MessageKey;
  code?: string;
  validUntil?: string;
  smsSent?: boolean;
};

export const MAX_RESET_TRIES = 3;

const ID_NUMBER = /^\d{6,10}$/;
const digitsOnly = (s: string) => s.replace(/\s/g, '');
const thisYear = () => new Date().getUTCFullYear();
const validYear = (s: string) => /^\d{4}$/.test(s.trim()) && Number(s) >= 1900 && Number(s) <= thisYear();

const withError = (ctx: Ctx, screen: Screen): Screen => (ctx.error ? { ...screen, error: msg(ctx.error) } : screen);

export const resetCode = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** Checks the limits and turns the ID number into a blind-index reference. */
    prepareReset: fromPromise<PrepareResult, { idNumber: string }>(async () => {
      throw new Error('prepareReset not provided');
    }),
    /** Verifies year of birth and phone; issues the code, SMS and audit row when all match. */
    resetLoginCode: fromPromise<ResetResult, { idRef: string; birthYear: number }>(async () => {
      throw new Error('resetLoginCode not provided');
    }),
  },
}).createMachine({
  id: 'reset-code',
  context: { tries: 0 },
  initial: 'askId',
  output: finalOutput,
  states: {
    askId: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => withError(ctx, { lines: [msg('reset.ask_id')] }) },
      on: {
        INPUT: [
          { guard: ({ event }) => ID_NUMBER.test(digitsOnly(event.value)), target: 'preparing', actions: assign({ error: undefined }) },
          { target: 'askId', actions: assign({ error: 'reset.id_format' as MessageKey }) },
        ],
      },
    },
    preparing: {
      // The ID number travels only in this invoke's input, never into the persisted context.
      invoke: {
        id: 'prepareReset',
        src: 'prepareReset',
        input: ({ event }) => ({ idNumber: digitsOnly((event as { value?: string }).value ?? '') }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'locked', target: 'locked' },
          { target: 'askYear', actions: assign({ idRef: ({ event }) => (event.output.kind === 'ok' ? event.output.idRef : undefined) }) },
        ],
      },
    },
    askYear: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => withError(ctx, { lines: [msg('reset.ask_year')] }) },
      on: {
        INPUT: [
          { guard: ({ event }) => validYear(event.value), target: 'resetting', actions: assign({ error: undefined }) },
          { target: 'askYear', actions: assign({ error: 'reset.year_format' as MessageKey }) },
        ],
        BACK: { target: 'askId', actions: assign({ idRef: undefined, error: undefined }) },
      },
    },
    resetting: {
      invoke: {
        id: 'resetLoginCode',
        src: 'resetLoginCode',
        input: ({ context, event }) => ({ idRef: context.idRef ?? '', birthYear: Number((event as { value?: string }).value) }),
        onDone: [
          {
            guard: ({ event }) => event.output.kind === 'issued',
            target: 'issued',
            actions: assign(({ event }) => (event.output.kind === 'issued' ? { code: event.output.code, validUntil: event.output.validUntil, smsSent: event.output.smsSent } : {})),
          },
          { guard: ({ event }) => event.output.kind === 'wrong_phone', target: 'wrongPhone' },
          { guard: ({ event }) => event.output.kind === 'locked', target: 'locked' },
          { guard: ({ event }) => event.output.kind === 'too_many_resets', target: 'tooManyResets' },
          { guard: ({ context }) => context.tries + 1 >= MAX_RESET_TRIES, target: 'tooManyTries' },
          { target: 'askId', actions: assign({ tries: ({ context }) => context.tries + 1, idRef: undefined, error: 'reset.mismatch' as MessageKey }) },
        ],
      },
    },
    issued: {
      type: 'final',
      tags: 'one-time-code',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg(ctx.smsSent === false ? 'reset.issued_here' : 'reset.issued', { code: ctx.code ?? '', until: ctx.validUntil ?? '' })] }) },
    },
    // Only a Huduma Centre can change the registered phone: offer the e-Citizen help appointment.
    wrongPhone: {
      tags: ['prompt', 'complete'],
      meta: { screen: (): Screen => ({ lines: [msg('reset.wrong_phone')], items: [msg('reset.book_help')] }) },
      on: { INPUT: { guard: ({ event }) => chose(event.value, 1), target: 'toBookHelp' } },
    },
    toBookHelp: { type: 'final', output: { goto: 'book-appointment', input: { service: ECITIZEN_SUPPORT_SERVICE } } },
    tooManyTries: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('reset.too_many_tries')] }) } },
    locked: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('reset.locked')] }) } },
    tooManyResets: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('reset.too_many_resets')] }) } },
  },
});

export default { name: 'reset-code', version: 2, machine: resetCode } as const;
