import { fromPromise, type AnyActorLogic } from 'xstate';
import type { Lang } from '../../flows/types';
import type { Services } from '../services';
import { currentHop } from './hop-context';

/**
 * The real implementations of the actors that flows declare in `setup({ actors })`. Each reads the
 * dialling phone from the hop it runs in (see hop-context.ts), never from the flow's context.
 */
export function flowActors(s: Services): Record<string, AnyActorLogic> {
  return {
    saveLanguage: fromPromise<void, { lang: Lang }>(({ input }) => s.preferences.setLanguage(currentHop().phone, input.lang)),
    listMyApplications: fromPromise(() => s.applications.listByPhone(currentHop().phone)),
    lookupApplication: fromPromise(({ input }: { input: { reference: string } }) => s.applications.lookup(input.reference, currentHop().phone)),
    verifyApplication: fromPromise(({ input }: { input: { reference: string; idNumber: string } }) => s.applications.verify(input.reference, input.idNumber, currentHop().phone)),
    verifyPhoneHolder: fromPromise(({ input }: { input: { idNumber: string } }) => s.applications.verifyHolder(currentHop().phone, input.idNumber)),
    subscribe: fromPromise(async ({ input }: { input: { reference: string } }) => {
      const hop = currentHop();
      await s.statusUpdates.subscribe(input.reference, hop.phone, hop.channel);
    }),
    pendingConsent: fromPromise(() => s.notices.pendingConsent(currentHop().phone)),
    undeliveredCode: fromPromise(() => s.notices.undeliveredCode(currentHop().phone)),
    prepareReset: fromPromise(({ input }: { input: { idNumber: string } }) => s.reset.prepare(currentHop().phone, input.idNumber, currentHop().channel)),
    resetLoginCode: fromPromise(({ input }: { input: { idRef: string; birthYear: number } }) => {
      const hop = currentHop();
      return s.reset.reset(hop.phone, input.idRef, input.birthYear, hop.channel, hop.lang);
    }),
    // Huduma Centre appointments (flows/book-appointment.ts, flows/manage-booking.ts).
    listBookableServices: fromPromise(() => s.appointments.listServices()),
    centreChoices: fromPromise(({ input }: { input: { service: string } }) => s.appointments.centreChoices(currentHop().phone, input.service)),
    listCentres: fromPromise(({ input }: { input: { service: string; region: string } }) => s.appointments.listCentres(input.service, input.region)),
    listOpenDays: fromPromise(({ input }: { input: { service: string; centre: string } }) => s.appointments.listDays(input.service, input.centre)),
    listFreeTimes: fromPromise(({ input }: { input: { service: string; centre: string; day: string } }) => s.appointments.listTimes(input.service, input.centre, input.day)),
    bookAppointment: fromPromise(({ input }: { input: { service: string; centre: string; day: string; time: string } }) => {
      const hop = currentHop();
      return s.appointments.book({ phone: hop.phone, lang: hop.lang, channel: hop.channel }, input);
    }),
    listMyAppointments: fromPromise(() => s.appointments.listUpcoming(currentHop().phone)),
    cancelAppointment: fromPromise(({ input }: { input: { id: number } }) => s.appointments.cancel(currentHop().phone, input.id)),
    moveAppointment: fromPromise(({ input }: { input: { id: number; day: string; time: string } }) => {
      const hop = currentHop();
      return s.appointments.move({ phone: hop.phone, lang: hop.lang, channel: hop.channel }, input.id, input.day, input.time);
    }),
  };
}
