import mainMenu from './main-menu';
import language from './language';
import checkStatus from './check-status';
import resetCode from './reset-code';
import bookAppointment from './book-appointment';
import manageBooking from './manage-booking';
import type { FlowName } from './types';
import type { AnyStateMachine } from 'xstate';

/** A flow as the engine knows it. Bump `version` whenever states, context shape or actor names change. */
export interface FlowDefinition {
  name: FlowName;
  version: number;
  machine: AnyStateMachine;
}

/** Every flow, by name. The engine, the transcript tests and the path walk all read this registry. */
export const flows: Record<FlowName, FlowDefinition> = {
  'main-menu': mainMenu,
  language,
  'check-status': checkStatus,
  'reset-code': resetCode,
  'book-appointment': bookAppointment,
  'manage-booking': manageBooking,
};
