import type { Redis } from 'ioredis';
import type { Db } from '../db';
import { ApplicationService } from './applications';
import { AppointmentService } from './appointments';
import { BlindIndex } from './blind-index';
import { CitizenService } from './citizens';
import { PreferenceService } from './preferences';
import { ResetService } from './reset';
import { Sealer } from './sealer';

/** The domain services, each built from its dependencies (no module-level connections). */
export interface Services {
  blind: BlindIndex;
  applications: ApplicationService;
  citizens: CitizenService;
  preferences: PreferenceService;
  reset: ResetService;
  appointments: AppointmentService;
}

export interface ServiceDeps {
  db: Db;
  redis: Redis;
  redisPrefix: string;
  idHashKey: string;
  /** The clock every service reads; tests pass a fixed one. */
  now?: () => Date;
}

export function createServices({ db, redis, redisPrefix, idHashKey, now }: ServiceDeps): Services {
  const blind = new BlindIndex(idHashKey);
  const sealer = new Sealer(idHashKey);
  return {
    blind,
    applications: new ApplicationService(db, blind),
    citizens: new CitizenService(db, blind),
    preferences: new PreferenceService(db, blind),
    reset: new ResetService({ db, redis, redisPrefix, blind, sealer, ...(now ? { now } : {}) }),
    appointments: new AppointmentService(db, { now: now ?? (() => new Date()) }),
  };
}
