import type { Knex } from 'knex';

/**
 * Huduma Centre appointments (issue 4).
 *
 * - `bookable_services`: which services take appointments, in which order they are listed, and the
 *   default number of citizens per 30-minute slot (seeded from demo.json opening_hours).
 * - `centre_capacity`: a per centre + service override of that number (0 = not offered there).
 *   The effective capacity is COALESCE(override, default), read at the moment of booking.
 * - `closures`: one-off closures and holidays gazetted late (Idd, a national mourning day), for
 *   every centre (centre_code NULL) or one centre. `open = true` does the opposite: it opens a day
 *   the holiday library marks closed (a moveable feast it computed on the wrong day).
 * - `slot_counts`: one row per centre, service and slot that anyone ever booked, with the number of
 *   seats taken. **Capacity is enforced here, by the database:** a booking runs
 *   `UPDATE slot_counts SET booked = booked + 1 WHERE … AND booked < capacity RETURNING booked`
 *   inside its transaction. The row lock serialises concurrent bookers of one slot, and Postgres
 *   re-evaluates the WHERE on the latest row version after the lock is granted (READ COMMITTED),
 *   so N citizens racing for the last seats get exactly the seats left and the rest get no row
 *   back: no read-then-write window. We chose a counter over one row per seat because a slot's
 *   capacity can change (an override) without creating or deleting seat rows, and because one
 *   UPDATE is cheaper than searching for a free seat row under contention. The CHECK keeps the
 *   counter from going negative if a bug ever frees a seat twice.
 * - `bookings`: who booked what, where and when. `made_by` is 'citizen' (self-service) or, later,
 *   a staff id; `channel` is how it was made. Status: active | cancelled | moved (a new booking
 *   replaced it; `replaces_id` points back) | expired (its time passed; set lazily).
 *   One active booking per phone and service (a partial unique index); booking codes are unique
 *   among active bookings (a code is 8 digits, see src/services/appointments.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bookable_services', (t) => {
    t.string('service_code').primary().references('services.code').onDelete('CASCADE');
    t.integer('position').notNullable().defaultTo(0);
    t.integer('capacity_per_slot').notNullable();
  });
  await knex.raw('ALTER TABLE bookable_services ADD CONSTRAINT bookable_services_capacity_ck CHECK (capacity_per_slot >= 0)');

  await knex.schema.createTable('centre_capacity', (t) => {
    t.string('centre_code').notNullable().references('centres.code').onDelete('CASCADE');
    t.string('service_code').notNullable().references('bookable_services.service_code').onDelete('CASCADE');
    t.integer('capacity_per_slot').notNullable();
    t.primary(['centre_code', 'service_code']);
  });
  await knex.raw('ALTER TABLE centre_capacity ADD CONSTRAINT centre_capacity_ck CHECK (capacity_per_slot >= 0)');

  await knex.schema.createTable('closures', (t) => {
    t.increments('id');
    t.date('day').notNullable();
    /** NULL: every centre. */
    t.string('centre_code').references('centres.code').onDelete('CASCADE');
    t.boolean('open').notNullable().defaultTo(false);
    t.string('reason').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw("CREATE UNIQUE INDEX closures_day_centre_uq ON closures (day, COALESCE(centre_code, '*'))");

  await knex.schema.createTable('slot_counts', (t) => {
    t.string('centre_code').notNullable().references('centres.code');
    t.string('service_code').notNullable().references('services.code');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.integer('booked').notNullable().defaultTo(0);
    t.primary(['centre_code', 'service_code', 'starts_at']);
  });
  await knex.raw('ALTER TABLE slot_counts ADD CONSTRAINT slot_counts_booked_ck CHECK (booked >= 0)');

  await knex.schema.createTable('bookings', (t) => {
    t.bigIncrements('id');
    t.string('code', 8).notNullable();
    t.string('phone', 16).notNullable(); // E.164, the phone that booked: SMS go there
    t.string('service_code').notNullable().references('services.code');
    t.string('centre_code').notNullable().references('centres.code');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.string('status', 12).notNullable().defaultTo('active');
    t.string('made_by', 32).notNullable().defaultTo('citizen');
    t.string('channel', 8).notNullable();
    /** The language of the SMS about this booking (confirmation, reminder, changes). */
    t.string('lang', 2).notNullable().defaultTo('en');
    t.bigInteger('replaces_id').references('bookings.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('cancelled_at', { useTz: true });
    t.index(['phone', 'created_at']);
    t.index(['centre_code', 'starts_at']);
  });
  await knex.raw("ALTER TABLE bookings ADD CONSTRAINT bookings_status_ck CHECK (status IN ('active', 'cancelled', 'moved', 'expired'))");
  await knex.raw("ALTER TABLE bookings ADD CONSTRAINT bookings_channel_ck CHECK (channel IN ('ussd', 'sms', 'staff'))");
  await knex.raw("CREATE UNIQUE INDEX bookings_one_active_per_service_uq ON bookings (phone, service_code) WHERE status = 'active'");
  await knex.raw("CREATE UNIQUE INDEX bookings_active_code_uq ON bookings (code) WHERE status = 'active'");
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['bookings', 'slot_counts', 'closures', 'centre_capacity', 'bookable_services']) {
    await knex.schema.dropTableIfExists(table);
  }
}
