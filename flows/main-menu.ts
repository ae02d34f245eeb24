import { setup } from 'xstate';
import type { FlowEvent, FlowInput, FlowOutput, FlowTag, Screen } from './types';
import { chose, finalOutput, msg } from './lib';

/** The main menu. Its numbering is fixed: 1 status, 2 reset, 3 book, 4 my appointments, 5 language. */
const menuScreen = (): Screen => ({
  nav: 'none',
  lines: [msg('main.title')],
  items: [msg('main.status'), msg('main.reset'), msg('main.book'), msg('main.appointments'), msg('main.language')],
});

export const mainMenu = setup({
  types: {
    context: {} as Record<string, never>,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
    tags: {} as FlowTag,
  },
}).createMachine({
  id: 'main-menu',
  context: {},
  initial: 'menu',
  output: finalOutput,
  states: {
    menu: {
      tags: 'prompt',
      meta: { screen: menuScreen },
      on: {
        INPUT: [
          { guard: ({ event }) => chose(event.value, 1), target: 'toStatus' },
          { guard: ({ event }) => chose(event.value, 2), target: 'comingSoon' },
          { guard: ({ event }) => chose(event.value, 3), target: 'comingSoon' },
          { guard: ({ event }) => chose(event.value, 4), target: 'comingSoon' },
          { guard: ({ event }) => chose(event.value, 5), target: 'toLanguage' },
        ],
      },
    },
    toStatus: { type: 'final', output: { goto: 'check-status' } },
    toLanguage: { type: 'final', output: { goto: 'language' } },
    comingSoon: { type: 'final', meta: { screen: (): Screen => ({ lines: [msg('main.coming_soon')] }) } },
  },
});

export default { name: 'main-menu', version: 1, machine: mainMenu } as const;
