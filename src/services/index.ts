import type { Db } from '../db';
import type { Store } from '../store/types';
import { ApplicationService } from './applications';
import { AgencyService } from './agencies';
import { AppointmentService } from './appointments';
import { BlindIndex } from './blind-index';
import { DialNotices } from './dial-notices';
import { OptOutService } from './opt-outs';
import { PreferenceService } from './preferences';
import { ResetService } from './reset';
import { Sealer } from './sealer';
import { StatusUpdateService } from './status-updates';

/** The domain services, each built from its dependencies (no module-level connections). */
export interface Services {
  /** The services' clock (tests fix it): the staff channel's services read the same one. */
  now: () => Date;
  blind: BlindIndex;
  sealer: Sealer;
  notices: DialNotices;
  applications: ApplicationService;
  preferences: PreferenceService;
  reset: ResetService;
  appointments: AppointmentService;
  optOuts: OptOutService;
  statusUpdates: StatusUpdateService;
  agencies: AgencyService;
}

export interface ServiceDeps {
  db: Db;
  /** Ephemeral state (rate limits): Redis or the Postgres store. */
  store: Store;
  idHashKey: string;
  /** The clock every service reads; tests pass a fixed one. */
  now?: () => Date;
}

export function createServices({ db, store, idHashKey, now }: ServiceDeps): Services {
  const blind = new BlindIndex(idHashKey);
  const sealer = new Sealer(idHashKey);
  const optOuts = new OptOutService(db, blind);
  return {
    now: now ?? (() => new Date()),
    blind,
    sealer,
    notices: new DialNotices({ db, blind, sealer, ...(now ? { now } : {}) }),
    applications: new ApplicationService(db, blind, { store }),
    preferences: new PreferenceService(db, blind),
    reset: new ResetService({ db, store, blind, sealer, ...(now ? { now } : {}) }),
    appointments: new AppointmentService(db, { now: now ?? (() => new Date()) }),
    optOuts,
    statusUpdates: new StatusUpdateService(db, blind),
    agencies: new AgencyService(db),
  };
}
