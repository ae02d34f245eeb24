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
    verifyApplication: fromPromise(({ input }: { input: { reference: string; idNumber: string } }) => s.applications.verify(input.reference, input.idNumber)),
    verifyPhoneHolder: fromPromise(({ input }: { input: { idNumber: string } }) => s.citizens.isPhoneHolder(currentHop().phone, input.idNumber)),
    undeliveredCode: fromPromise(() => s.reset.undeliveredCode(currentHop().phone)),
    prepareReset: fromPromise(({ input }: { input: { idNumber: string } }) => s.reset.prepare(currentHop().phone, input.idNumber, currentHop().channel)),
    resetLoginCode: fromPromise(({ input }: { input: { idRef: string; birthYear: number } }) => {
      const hop = currentHop();
      return s.reset.reset(hop.phone, input.idRef, input.birthYear, hop.channel, hop.lang);
    }),
  };
}
