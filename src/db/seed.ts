import type { Db } from './index';
import type { BlindIndex } from '../services/blind-index';
import demo from '../../seeds/data/demo.json';
import centres from '../../seeds/data/huduma_centres.json';

/**
 * Loads the demo data (seeds/data, a copy of shared/data) idempotently: running it twice changes
 * nothing. ID numbers are stored only as their blind index.
 */
export async function seedDemoData(db: Db, blind: BlindIndex): Promise<{ citizens: number; applications: number; centres: number }> {
  // Two centres in the data have no region; they take the region of another centre in their county.
  const regionOfCounty = new Map(centres.filter((c) => c.region).map((c) => [c.county_code, c.region as string]));
  await db.transaction(async (trx) => {
    await trx('centres')
      .insert(centres.map((c) => ({
        code: c.code, name: c.name, county: c.county, county_code: c.county_code, town: c.town,
        region: c.region ?? regionOfCounty.get(c.county_code) ?? 'Other', location_hint: c.location_hint ?? null, huduma_code: c.huduma_code ?? null, status: c.status,
      })))
      .onConflict('code').merge();

    await trx('agencies')
      .insert(Object.entries(demo.agency_codes).map(([agencyCode, code]) => ({ code, name: code, agency_code: agencyCode })))
      .onConflict('code').merge();

    await trx('services')
      .insert(demo.services.map((s) => ({ code: s.code, agency: s.agency, name: s.name, minutes: s.minutes })))
      .onConflict('code').merge();

    // Every demo service takes appointments, listed in the data's order, with the default capacity
    // per slot. Per-centre overrides (centre_capacity) belong to staff and are left alone.
    await trx('bookable_services')
      .insert(demo.services.map((s, position) => ({ service_code: s.code, position, capacity_per_slot: demo.opening_hours.default_capacity_per_slot })))
      .onConflict('service_code').merge();

    const citizenIds = new Map<string, number>();
    for (const c of demo.citizens) {
      const [row] = await trx('citizens')
        .insert({ id_hash: blind.idNumber(c.id_number), first_name: c.first_name, last_name: c.last_name, birth_date: c.birth_date, phone: c.phone })
        .onConflict('id_hash').merge()
        .returning('id');
      citizenIds.set(c.key, row.id as number);
      await trx('preferences')
        .insert({ phone_hash: blind.phone(c.phone), language: c.language })
        .onConflict('phone_hash').ignore();
    }

    for (const a of demo.accounts) {
      await trx('accounts')
        .insert({ citizen_id: citizenIds.get(a.citizen), login_state: a.login_state })
        .onConflict('citizen_id').merge(['login_state']);
    }

    for (const a of demo.applications) {
      const [row] = await trx('applications')
        .insert({
          reference: a.reference, citizen_id: citizenIds.get(a.citizen), type: a.type, status: a.status,
          reason: a.reason, collection_centre: a.collection_centre, submitted_on: a.submitted_on,
        })
        .onConflict('reference').merge()
        .returning('id');
      const history = a.history as Array<[string, string]>;
      if (history.length > 0) {
        await trx('application_status_history')
          .insert(history.map(([status, at]) => ({ application_id: row.id, status, at })))
          .onConflict(['application_id', 'status', 'at']).ignore();
      }
    }
  });
  return { citizens: demo.citizens.length, applications: demo.applications.length, centres: centres.length };
}
