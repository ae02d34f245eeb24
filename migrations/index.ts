import type { Knex } from 'knex';
import * as m001 from './20261125_001_core';
import * as m002 from './20261125_002_sms_outbound';
import * as m003 from './20261125_003_reset_audit';
import * as m004 from './20261125_004_sms_delivery';
import * as m005 from './20261125_005_appointments';
import * as m006 from './20261125_006_staff';
import * as m007 from './20261125_007_sms_channel';
import * as m008 from './20261125_008_consent_on_screen';
import * as m009 from './20261125_009_outbox_due_at_once';
import * as m010 from './20261130_010_sms_inbound_minimal';
import * as m011 from './20261130_011_store';

/**
 * The migrations in order. Listed explicitly rather than globbed from disk so the same list works
 * under tsx, jest and compiled JavaScript alike. Add a new file here when you add one.
 */
const all: Array<[string, Knex.Migration]> = [
  ['20261125_001_core', m001],
  ['20261125_002_sms_outbound', m002],
  ['20261125_003_reset_audit', m003],
  ['20261125_004_sms_delivery', m004],
  ['20261125_005_appointments', m005],
  ['20261125_006_staff', m006],
  ['20261125_007_sms_channel', m007],
  ['20261125_008_consent_on_screen', m008],
  ['20261125_009_outbox_due_at_once', m009],
  ['20261130_010_sms_inbound_minimal', m010],
  ['20261130_011_store', m011],
];

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => all,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
