import type { FlowEvent, FlowInput, FlowOutput, FlowTag, Msg, Param } from './types';
import type { MessageKey } from '../src/i18n';

/** Shorthand for a catalogue message. */
export const msg = (key: MessageKey, params?: Record<string, Param>): Msg => (params ? { key, params } : { key });

/** Guard helper: the citizen typed exactly this option number. */
export const chose = (value: string, option: number): boolean => value.trim() === String(option);

/** The 1-based index of a list choice, or null when it is not a number within the list. */
export function pickIndex(value: string, count: number): number | null {
  const v = value.trim();
  if (!/^\d{1,3}$/.test(v)) return null;
  const n = Number(v);
  return n >= 1 && n <= count ? n - 1 : null;
}

/**
 * Root `output` of every flow: the output of the final state it reached. (XState v5 gives a machine
 * no output of its own unless the root declares one.)
 */
export const finalOutput = ({ event }: { event: unknown }): FlowOutput => ((event as { output?: FlowOutput }).output ?? {});

/**
 * The `types` every flow declares in `setup()`: its own context, and the events, input, output and
 * tags of the flow↔engine contract (flows/types.ts).
 */
export const flowTypes = <Ctx>() => ({
  context: {} as Ctx,
  events: {} as FlowEvent,
  input: {} as FlowInput,
  output: {} as FlowOutput,
  tags: {} as FlowTag,
});
