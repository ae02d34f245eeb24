import { assign, fromPromise, setup } from 'xstate';
import type { FlowEvent, Msg, Screen } from './types';
import { chose, finalOutput, flowTypes, msg, pickIndex } from './lib';
import { codeText, dayMsg, daysScreen, serviceMsg, summaryMsg, timesScreen, type Appointment, type CancelResult, type MoveResult } from './booking-common';

/**
 * My appointments: the dialling phone's upcoming Huduma Centre appointments. Each can be viewed,
 * cancelled (with a confirmation) or moved to another day and time at the same centre for the same
 * service. A move holds the new seat before it frees the old one (one transaction in the service),
 * so a citizen never loses an appointment to a move that failed. Every change sends an SMS.
 */
type Ctx = {
  list: Appointment[];
  /** Index in `list` of the appointment being viewed. */
  sel?: number;
  days: string[];
  day?: string;
  times: string[];
  time?: string;
  problem?: 'taken' | 'day_full';
  code?: string;
};

type SlotInput = { service: string; centre: string };

const value = (event: FlowEvent): string => (event.type === 'INPUT' ? event.value : '');
const pick = <T>(list: readonly T[], event: FlowEvent): T | undefined => {
  const i = pickIndex(value(event), list.length);
  return i === null ? undefined : list[i];
};
const selected = (ctx: Ctx): Appointment | undefined => (ctx.sel === undefined ? undefined : ctx.list[ctx.sel]);
const noCentre = { code: '', name: '' };
/** Its own slot is not a place to move an appointment to. */
const otherTimes = (ctx: Ctx, times: string[]): string[] => {
  const a = selected(ctx);
  return a && a.day === ctx.day ? times.filter((t) => t !== a.time) : times;
};

export const manageBooking = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** The dialling phone's active appointments still to come, soonest first. */
    listMyAppointments: fromPromise<Appointment[], Record<string, never>>(async () => {
      throw new Error('listMyAppointments not provided');
    }),
    cancelAppointment: fromPromise<CancelResult, { id: number }>(async () => {
      throw new Error('cancelAppointment not provided');
    }),
    moveAppointment: fromPromise<MoveResult, { id: number; day: string; time: string }>(async () => {
      throw new Error('moveAppointment not provided');
    }),
    listOpenDays: fromPromise<string[], SlotInput>(async () => {
      throw new Error('listOpenDays not provided');
    }),
    listFreeTimes: fromPromise<string[], SlotInput & { day: string }>(async () => {
      throw new Error('listFreeTimes not provided');
    }),
  },
}).createMachine({
  id: 'manage-booking',
  context: { list: [], days: [], times: [] },
  initial: 'loading',
  output: finalOutput,
  states: {
    loading: {
      invoke: {
        src: 'listMyAppointments',
        input: {},
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'none' },
          { target: 'list', actions: assign({ list: ({ event }) => event.output }) },
        ],
      },
    },
    none: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('appt.none')] }) } },
    list: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('appt.title')],
          items: ctx.list.map((a): Msg => msg('appt.item', { service: serviceMsg(a.service), day: dayMsg(a.day), time: a.time })),
        }),
      },
      on: {
        // No BACK: the engine takes Back to the main menu.
        INPUT: { guard: ({ context, event }) => pickIndex(value(event), context.list.length) !== null, target: 'view', actions: assign({ sel: ({ context, event }) => pickIndex(value(event), context.list.length) ?? 0 }) },
      },
    },
    view: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => {
          const a = selected(ctx);
          return {
            lines: [msg('appt.detail', { summary: summaryMsg(a?.service ?? '', a?.centre ?? noCentre, a?.day ?? '2000-01-01', a?.time ?? ''), code: codeText(a?.code ?? '') })],
            items: [msg('appt.cancel'), msg('appt.move')],
          };
        },
      },
      on: {
        INPUT: [
          { guard: ({ event }) => chose(value(event), 1), target: 'confirmCancel' },
          { guard: ({ event }) => chose(value(event), 2), target: 'loadingDays', actions: assign({ problem: undefined }) },
        ],
        BACK: 'list',
      },
    },

    confirmCancel: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => {
          const a = selected(ctx);
          return { lines: [msg('appt.confirm_cancel', { summary: summaryMsg(a?.service ?? '', a?.centre ?? noCentre, a?.day ?? '2000-01-01', a?.time ?? '') })], items: [msg('appt.yes_cancel')] };
        },
      },
      on: {
        INPUT: { guard: ({ event }) => chose(value(event), 1), target: 'cancelling' },
        BACK: 'view',
      },
    },
    cancelling: {
      invoke: {
        src: 'cancelAppointment',
        input: ({ context }) => ({ id: selected(context)?.id ?? 0 }),
        onDone: [{ guard: ({ event }) => event.output.kind === 'cancelled', target: 'cancelled' }, { target: 'gone' }],
      },
    },
    cancelled: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('appt.cancelled')] }) } },
    gone: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('appt.gone')] }) } },

    loadingDays: {
      invoke: {
        src: 'listOpenDays',
        input: ({ context }) => ({ service: selected(context)?.service ?? '', centre: selected(context)?.centre.code ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'noDays' },
          { target: 'chooseDay', actions: assign({ days: ({ event }) => event.output }) },
        ],
      },
    },
    noDays: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('book.no_days', { centre: msg('book.centre', { name: selected(ctx)?.centre.name ?? '' }) })] }) },
      on: { BACK: 'view' },
    },
    chooseDay: {
      tags: 'prompt',
      meta: { screen: daysScreen },
      on: {
        INPUT: { guard: ({ context, event }) => pick(context.days, event) !== undefined, target: 'loadingTimes', actions: assign({ day: ({ context, event }) => pick(context.days, event), problem: undefined }) },
        BACK: { target: 'view', actions: assign({ problem: undefined }) },
      },
    },
    loadingTimes: {
      invoke: {
        src: 'listFreeTimes',
        input: ({ context }) => ({ service: selected(context)?.service ?? '', centre: selected(context)?.centre.code ?? '', day: context.day ?? '' }),
        onDone: [
          { guard: ({ context, event }) => otherTimes(context, event.output).length === 0, target: 'loadingDays', actions: assign({ problem: 'day_full' as const }) },
          { target: 'chooseTime', actions: assign({ times: ({ context, event }) => otherTimes(context, event.output) }) },
        ],
      },
    },
    chooseTime: {
      tags: 'prompt',
      meta: { screen: timesScreen },
      on: {
        INPUT: { guard: ({ context, event }) => pick(context.times, event) !== undefined, target: 'confirmMove', actions: assign({ time: ({ context, event }) => pick(context.times, event), problem: undefined }) },
        BACK: { target: 'chooseDay', actions: assign({ problem: undefined }) },
      },
    },
    confirmMove: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('appt.confirm_move', { service: serviceMsg(selected(ctx)?.service ?? ''), day: dayMsg(ctx.day ?? '2000-01-01'), time: ctx.time ?? '' })],
          items: [msg('book.confirm')],
        }),
      },
      on: {
        INPUT: { guard: ({ event }) => chose(value(event), 1), target: 'moving' },
        BACK: 'chooseTime',
      },
    },
    moving: {
      invoke: {
        src: 'moveAppointment',
        input: ({ context }) => ({ id: selected(context)?.id ?? 0, day: context.day ?? '', time: context.time ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'moved', target: 'moved', actions: assign({ code: ({ event }) => (event.output.kind === 'moved' ? event.output.code : undefined) }) },
          { guard: ({ event }) => event.output.kind === 'taken', target: 'loadingTimes', actions: assign({ problem: 'taken' as const }) },
          { target: 'gone' },
        ],
      },
    },
    moved: {
      type: 'final',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('appt.moved', { day: dayMsg(ctx.day ?? '2000-01-01'), time: ctx.time ?? '', code: codeText(ctx.code ?? '') })] }) },
    },
  },
});

export default { name: 'manage-booking', version: 1, machine: manageBooking } as const;
