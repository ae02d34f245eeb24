import { assign, fromPromise, setup } from 'xstate';
import type { Lang, Screen } from './types';
import { chose, finalOutput, flowTypes, msg } from './lib';

/**
 * Choose English or Kiswahili. On a phone's first dial the screen greets in both languages and
 * offers no Back; from the main menu (item 5) it is an ordinary screen. The choice is saved per phone.
 */
type Ctx = { firstDial: boolean; lang?: Lang };

export const language = setup({
  types: flowTypes<Ctx>(),
  actors: {
    /** Saves the language for the dialling phone. Provided by the engine. */
    saveLanguage: fromPromise<void, { lang: Lang }>(async () => {
      throw new Error('saveLanguage not provided');
    }),
  },
}).createMachine({
  id: 'language',
  context: ({ input }) => ({ firstDial: input.firstDial ?? false }),
  initial: 'choose',
  output: finalOutput,
  states: {
    choose: {
      tags: 'prompt',
      meta: {
        screen: (ctx: Ctx): Screen => ({
          nav: ctx.firstDial ? 'none' : 'full',
          lines: [msg(ctx.firstDial ? 'language.first' : 'language.title')],
          items: [msg('language.en'), msg('language.sw')],
        }),
      },
      on: {
        INPUT: [
          { guard: ({ event }) => chose(event.value, 1), target: 'saving', actions: assign({ lang: 'en' as Lang }) },
          { guard: ({ event }) => chose(event.value, 2), target: 'saving', actions: assign({ lang: 'sw' as Lang }) },
        ],
      },
    },
    saving: {
      invoke: {
        src: 'saveLanguage',
        input: ({ context }) => ({ lang: context.lang ?? 'en' }),
        onDone: 'saved',
      },
    },
    saved: { type: 'final', output: ({ context }) => ({ goto: 'main-menu', lang: context.lang }) },
  },
});

export default { name: 'language', version: 1, machine: language } as const;
