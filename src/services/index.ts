import type { Db } from '../db';
import { ApplicationService } from './applications';
import { BlindIndex } from './blind-index';
import { CitizenService } from './citizens';
import { PreferenceService } from './preferences';

/** The domain services, each built from its dependencies (no module-level connections). */
export interface Services {
  blind: BlindIndex;
  applications: ApplicationService;
  citizens: CitizenService;
  preferences: PreferenceService;
}

export function createServices(db: Db, idHashKey: string): Services {
  const blind = new BlindIndex(idHashKey);
  return {
    blind,
    applications: new ApplicationService(db, blind),
    citizens: new CitizenService(db, blind),
    preferences: new PreferenceService(db, blind),
  };
}
