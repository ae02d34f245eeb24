import { assign, fromPromise, setup } from 'xstate';
import type { FlowEvent, Msg, Screen } from './types';
import { chose, finalOutput, flowTypes, msg, pickIndex } from './lib';
import {
  codeText, dayMsg, daysScreen, regionMsg, serviceMsg, summaryMsg, timesScreen,
  type Appointment, type BookResult, type CentreChoices, type CentreRef,
} from './booking-common';

export { ECITIZEN_SUPPORT_SERVICE } from './booking-common';

/**
 * Book a Huduma Centre appointment: service → centre (region → centre, or `1` the centre of the
 * last booking: at most two choices among the 54 centres) → day (the next 10 opening days that
 * still have room) → time (slots with room) → confirm → END with the booking code. The booking
 * and its SMS are one transaction in the service; when the slot filled up meanwhile, the citizen
 * is told so and sees the times again.
 *
 * Started with `input.service` (e.g. 'ecitizen_support' from the login-code reset flow), the
 * service list is skipped, and Back from the centre step goes to the main menu.
 *
 * The context keeps codes, names and 'YYYY-MM-DD'/'HH:MM' strings only: the session record stays
 * small, and lists are asked for again when the citizen goes back to them.
 */
type Ctx = {
  fixedService: boolean;
  service?: string;
  services: string[];
  last?: CentreRef;
  regions: string[];
  region?: string;
  /** [code, name] pairs of the region's centres. */
  centres: Array<[string, string]>;
  centre?: CentreRef;
  /** The centre came from "your last visit": Back from the days goes to the regions. */
  viaLast: boolean;
  days: string[];
  day?: string;
  times: string[];
  time?: string;
  problem?: 'taken' | 'day_full';
  existing?: Appointment;
  code?: string;
};

type SlotInput = { service: string; centre: string };

const value = (event: FlowEvent): string => (event.type === 'INPUT' ? event.value : '');
/** The region items come after the "last visit" item when there is one. */
const regionOffset = (ctx: Ctx): number => (ctx.last ? 1 : 0);
const pickRegion = (ctx: Ctx, event: FlowEvent): string | undefined => {
  const i = pickIndex(value(event), ctx.regions.length + regionOffset(ctx));
  return i === null || i < regionOffset(ctx) ? undefined : ctx.regions[i - regionOffset(ctx)];
};
const pick = <T>(list: readonly T[], event: FlowEvent): T | undefined => {
  const i = pickIndex(value(event), list.length);
  return i === null ? undefined : list[i];
};

export const bookAppointment = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** Codes of the services some centre takes appointments for. */
    listBookableServices: fromPromise<string[], Record<string, never>>(async () => {
      throw new Error('listBookableServices not provided');
    }),
    /** Regions, the dialling phone's last centre, or why it cannot book this service. */
    centreChoices: fromPromise<CentreChoices, { service: string }>(async () => {
      throw new Error('centreChoices not provided');
    }),
    listCentres: fromPromise<CentreRef[], { service: string; region: string }>(async () => {
      throw new Error('listCentres not provided');
    }),
    /** The next 10 opening days of the centre that still have a slot with room. */
    listOpenDays: fromPromise<string[], SlotInput>(async () => {
      throw new Error('listOpenDays not provided');
    }),
    /** The day's times that still have room and start at least 30 minutes from now. */
    listFreeTimes: fromPromise<string[], SlotInput & { day: string }>(async () => {
      throw new Error('listFreeTimes not provided');
    }),
    /** Books for the dialling phone; the SMS goes in the same transaction. */
    bookAppointment: fromPromise<BookResult, SlotInput & { day: string; time: string }>(async () => {
      throw new Error('bookAppointment not provided');
    }),
  },
  guards: {
    fixedService: ({ context }) => context.fixedService,
    viaLast: ({ context }) => context.viaLast,
  },
}).createMachine({
  id: 'book-appointment',
  context: ({ input }) => ({
    fixedService: Boolean(input.service),
    ...(input.service ? { service: input.service } : {}),
    services: [], regions: [], centres: [], viaLast: false, days: [], times: [],
  }),
  initial: 'start',
  output: finalOutput,
  states: {
    start: { always: [{ guard: 'fixedService', target: 'loadingChoices' }, { target: 'loadingServices' }] },

    loadingServices: {
      invoke: {
        src: 'listBookableServices',
        input: {},
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'unavailable' },
          { target: 'chooseService', actions: assign({ services: ({ event }) => event.output }) },
        ],
      },
    },
    chooseService: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('book.choose_service')], items: ctx.services.map(serviceMsg) }) },
      on: {
        // No BACK: the engine takes Back to the main menu.
        INPUT: { guard: ({ context, event }) => pick(context.services, event) !== undefined, target: 'loadingChoices', actions: assign({ service: ({ context, event }) => pick(context.services, event) }) },
      },
    },

    loadingChoices: {
      invoke: {
        src: 'centreChoices',
        input: ({ context }) => ({ service: context.service ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'duplicate', target: 'duplicate', actions: assign({ existing: ({ event }) => (event.output.kind === 'duplicate' ? event.output.existing : undefined) }) },
          { guard: ({ event }) => event.output.kind === 'limit', target: 'limit' },
          { guard: ({ event }) => event.output.kind === 'ok' && event.output.regions.length === 0, target: 'unavailable' },
          {
            target: 'chooseRegion',
            actions: assign(({ event }) => (event.output.kind === 'ok' ? { regions: event.output.regions, last: event.output.last ?? undefined } : {})),
          },
        ],
      },
    },
    chooseRegion: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('book.choose_region')],
          items: [...(ctx.last ? [msg('book.last_centre', { name: ctx.last.name })] : []), ...ctx.regions.map(regionMsg)],
        }),
      },
      on: {
        INPUT: [
          { guard: ({ context, event }) => context.last !== undefined && chose(value(event), 1), target: 'loadingDays', actions: assign({ centre: ({ context }) => context.last, viaLast: true }) },
          { guard: ({ context, event }) => pickRegion(context, event) !== undefined, target: 'loadingCentres', actions: assign({ region: ({ context, event }) => pickRegion(context, event) }) },
        ],
        BACK: { guard: ({ context }) => !context.fixedService, target: 'chooseService' },
      },
    },

    loadingCentres: {
      invoke: {
        src: 'listCentres',
        input: ({ context }) => ({ service: context.service ?? '', region: context.region ?? '' }),
        onDone: { target: 'chooseCentre', actions: assign({ centres: ({ event }) => event.output.map((c): [string, string] => [c.code, c.name]) }) },
      },
    },
    chooseCentre: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('book.choose_centre')], items: ctx.centres.map(([, name]): Msg => ({ text: name })) }) },
      on: {
        INPUT: {
          guard: ({ context, event }) => pick(context.centres, event) !== undefined,
          target: 'loadingDays',
          actions: assign(({ context, event }) => {
            const [code, name] = pick(context.centres, event) as [string, string];
            return { centre: { code, name }, viaLast: false };
          }),
        },
        BACK: 'chooseRegion',
      },
    },

    loadingDays: {
      invoke: {
        src: 'listOpenDays',
        input: ({ context }) => ({ service: context.service ?? '', centre: context.centre?.code ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'noDays' },
          { target: 'chooseDay', actions: assign({ days: ({ event }) => event.output }) },
        ],
      },
    },
    noDays: {
      tags: 'prompt',
      meta: { screen: (ctx: Ctx): Screen => ({ lines: [msg('book.no_days', { centre: msg('book.centre', { name: ctx.centre?.name ?? '' }) })] }) },
      on: { BACK: [{ guard: 'viaLast', target: 'chooseRegion' }, { target: 'chooseCentre' }] },
    },
    chooseDay: {
      tags: 'prompt',
      meta: { screen: daysScreen },
      on: {
        INPUT: { guard: ({ context, event }) => pick(context.days, event) !== undefined, target: 'loadingTimes', actions: assign({ day: ({ context, event }) => pick(context.days, event), problem: undefined }) },
        BACK: [
          { guard: 'viaLast', target: 'chooseRegion', actions: assign({ problem: undefined }) },
          { target: 'chooseCentre', actions: assign({ problem: undefined }) },
        ],
      },
    },

    loadingTimes: {
      invoke: {
        src: 'listFreeTimes',
        input: ({ context }) => ({ service: context.service ?? '', centre: context.centre?.code ?? '', day: context.day ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.length === 0, target: 'loadingDays', actions: assign({ problem: 'day_full' as const }) },
          { target: 'chooseTime', actions: assign({ times: ({ event }) => event.output }) },
        ],
      },
    },
    chooseTime: {
      tags: 'prompt',
      meta: { screen: timesScreen },
      on: {
        INPUT: { guard: ({ context, event }) => pick(context.times, event) !== undefined, target: 'confirm', actions: assign({ time: ({ context, event }) => pick(context.times, event), problem: undefined }) },
        BACK: { target: 'chooseDay', actions: assign({ problem: undefined }) },
      },
    },

    confirm: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('book.confirm_title'), summaryMsg(ctx.service ?? '', ctx.centre ?? { code: '', name: '' }, ctx.day ?? '2000-01-01', ctx.time ?? '')],
          items: [msg('book.confirm')],
        }),
      },
      on: {
        INPUT: { guard: ({ event }) => chose(value(event), 1), target: 'booking' },
        BACK: 'chooseTime',
      },
    },
    booking: {
      invoke: {
        src: 'bookAppointment',
        input: ({ context }) => ({ service: context.service ?? '', centre: context.centre?.code ?? '', day: context.day ?? '', time: context.time ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'booked', target: 'booked', actions: assign({ code: ({ event }) => (event.output.kind === 'booked' ? event.output.code : undefined) }) },
          // Someone else took the last seat between the list and the confirmation: the times again.
          { guard: ({ event }) => event.output.kind === 'taken', target: 'loadingTimes', actions: assign({ problem: 'taken' as const }) },
          { guard: ({ event }) => event.output.kind === 'duplicate', target: 'duplicate', actions: assign({ existing: ({ event }) => (event.output.kind === 'duplicate' ? event.output.existing : undefined) }) },
          { target: 'limit' },
        ],
      },
    },

    booked: {
      type: 'final',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('book.booked', { code: codeText(ctx.code ?? ''), summary: summaryMsg(ctx.service ?? '', ctx.centre ?? { code: '', name: '' }, ctx.day ?? '2000-01-01', ctx.time ?? '') })],
        }),
      },
    },
    duplicate: {
      type: 'final',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          lines: [msg('book.duplicate', { service: serviceMsg(ctx.existing?.service ?? ctx.service ?? ''), day: dayMsg(ctx.existing?.day ?? '2000-01-01'), time: ctx.existing?.time ?? '' })],
        }),
      },
    },
    limit: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('book.limit')] }) } },
    unavailable: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('book.unavailable')] }) } },
  },
});

export default { name: 'book-appointment', version: 1, machine: bookAppointment } as const;
