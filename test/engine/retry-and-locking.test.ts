import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, hop, readRecord } from '../helpers/kit';

/**
 * Engine rule 3: a repeated request (same session, same text) returns exactly the previous reply
 * and does nothing twice; the requests of one session are serialised; two different sessions
 * never wait for each other.
 */
describe('engine rule 3: retries are idempotent, one session at a time, sessions independent', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A generous deadline: the slow-dependency test below releases its lock well before it.
    t = await createTestApp({ USSD_HOP_DEADLINE_MS: '5000' });
    // Count every write to preferences per phone hash: the side effect of the language screen.
    await t.rt.db.raw(`
      CREATE TABLE pref_writes (id serial PRIMARY KEY, phone_hash text NOT NULL);
      CREATE FUNCTION count_pref_write() RETURNS trigger AS $$
        BEGIN INSERT INTO pref_writes (phone_hash) VALUES (NEW.phone_hash); RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER pref_writes AFTER INSERT OR UPDATE ON preferences FOR EACH ROW EXECUTE FUNCTION count_pref_write();
    `);
  });
  afterAll(async () => t.close());

  const MAIN_SW = 'CON Simu e-Citizen\n1. Hali ya ombi\n2. Weka upya nambari ya kuingia\n3. Weka miadi ya Huduma\n4. Miadi yangu\n5. Lugha';
  const writes = async (phone: string): Promise<number> => {
    const [row] = await t.rt.db('pref_writes').where({ phone_hash: t.rt.services.blind.phone(phone) }).count({ n: '*' });
    return Number(row?.n);
  };

  test('retrying the hop that saved the language returns the same body and saves nothing again', async () => {
    const phone = new UssdPhone(t.app, '+254700000601');
    await phone.dial();
    expect(await phone.reply('2')).toBe(MAIN_SW);
    expect(await writes(phone.phoneNumber)).toBe(1);
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(2);

    expect(await phone.retry()).toBe(MAIN_SW);
    expect(await phone.retry()).toBe(MAIN_SW);
    expect(await writes(phone.phoneNumber)).toBe(1);
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(2);
    // And the session goes on from where it was.
    expect(await phone.reply('1')).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(3);
  });

  test('retrying the first hop returns the same first screen', async () => {
    const phone = new UssdPhone(t.app, '+254700000602');
    const first = await phone.dial();
    expect(first).toBe('CON Welcome to Simu / Karibu Simu\n1. English\n2. Kiswahili');
    expect(await phone.retry()).toBe(first);
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(1);
  });

  test('five copies of one request at once: one answer for all, one side effect, one hop', async () => {
    const phone = new UssdPhone(t.app, '+254700000603');
    await phone.dial();
    const bodies = await Promise.all(Array.from({ length: 5 }, () => hop(t.app, phone.sessionId, phone.phoneNumber, '2')));
    for (const b of bodies) expect(b).toMatchObject({ status: 200, body: MAIN_SW });
    expect(await writes(phone.phoneNumber)).toBe(1);
    expect((await readRecord(t, phone.sessionId))?.hops).toBe(2);
  });

  test('a retry that arrives while the first request is stuck waits for it and gets its answer; another session is not held up', async () => {
    const hussein = new UssdPhone(t.app, DEMO.hussein.phone);
    await t.rt.services.preferences.setLanguage(hussein.phoneNumber, 'en');
    await hussein.dial();
    await hussein.reply('1');
    await hussein.reply('2');

    // Another connection holds the applications table: the lookup of the next hop hangs on it.
    const locker = new Client({ connectionString: t.config.DATABASE_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE applications IN ACCESS EXCLUSIVE MODE');

      const settled: string[] = [];
      const text = '1*2*1026091006001'; // Hussein's passport, collected: the answer ends the session
      const first = hop(t.app, hussein.sessionId, hussein.phoneNumber, text).then((r) => (settled.push('first'), r));
      await waitUntil(async () => (await waitingOnApplications(locker)) > 0);
      const retry = hop(t.app, hussein.sessionId, hussein.phoneNumber, text).then((r) => (settled.push('retry'), r));

      // A different session answers while the first one is stuck.
      const other = new UssdPhone(t.app, DEMO.otieno.phone);
      expect(await other.dial()).toBe(MAIN_SW);
      expect(await other.reply('1')).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
      expect(settled).toEqual([]);

      await locker.query('COMMIT');
      const [a, b] = await Promise.all([first, retry]);
      expect(a).toMatchObject({ status: 200, body: 'END Passport 1026091006001\nCollected' });
      expect(b).toEqual({ ...b, status: 200, body: a.body });
      expect(settled).toEqual(['first', 'retry']);
      expect((await readRecord(t, hussein.sessionId))?.hops).toBe(4);
      await other.reply('00');
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  test('two sessions of one phone run side by side (each has its own lock)', async () => {
    const a = new UssdPhone(t.app, DEMO.amina.phone);
    const b = new UssdPhone(t.app, DEMO.amina.phone);
    await Promise.all([a.dial(), b.dial()]);
    const [ra, rb] = await Promise.all([a.reply('1'), b.reply('5')]);
    expect(ra).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
    expect(rb).toBe('CON Chagua lugha\n1. English\n2. Kiswahili\n0 Rudi\n00 Mwanzo');
    await Promise.all([a.reply('00'), b.reply('00')]);
  });

  test('ids that look alike are different sessions', async () => {
    const id = `ATUid_${randomBytes(8).toString('hex')}`;
    await hop(t.app, id, DEMO.hussein.phone, '');
    const other = await hop(t.app, `${id}x`, DEMO.hussein.phone, '');
    expect(other.body).toMatch(/^CON Simu e-Citizen\n/);
    expect((await readRecord(t, id))?.hops).toBe(1);
    expect((await readRecord(t, `${id}x`))?.hops).toBe(1);
  });
});

async function waitingOnApplications(client: Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation = 'applications'::regclass");
  return Number(rows[0]?.n);
}

/** Polls a condition (not a clock): the test goes on as soon as it holds. */
async function waitUntil(cond: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition never held');
}
