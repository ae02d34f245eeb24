import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startSmsHarness, type SmsHarness } from '../helpers/sms';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { DEMO } from '../helpers/kit';

/**
 * Issue 10, finding 18: AT redelivers an SMS whose callback failed. If the failure came after the
 * conversation had moved on (the outbox write failed), the redelivered answer must not be applied
 * a second time: the citizen gets the answer to that message, once.
 */
let t: TestApp;
let sms: SmsHarness;
beforeAll(async () => {
  t = await createTestApp();
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
});
afterAll(async () => {
  await sms.close();
  await t.close();
});

let n = 0;
const post = (from: string, text: string, id: string) =>
  request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ id, from, to: '22384', text });
async function send(from: string, text: string, id = `ATXid_redeliver_${++n}`): Promise<void> {
  expect((await post(from, text, id)).status).toBe(200);
  await sms.drain();
}
const received = (phone: string) => sms.fake.messagesTo(phone).map((m) => m.message);

/** The outbox refuses its next insert (the database failing half-way through the callback), once. */
async function failNextOutboxInsert(): Promise<void> {
  await t.rt.db.raw(`
    CREATE SEQUENCE IF NOT EXISTS test_outbox_fail_seq;
    CREATE OR REPLACE FUNCTION test_outbox_fail() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- nextval is not rolled back with the failing transaction: only the first insert fails.
      IF nextval('test_outbox_fail_seq') = 1 THEN RAISE EXCEPTION 'outbox unavailable (test)'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_outbox_fail BEFORE INSERT ON sms_outbound FOR EACH ROW EXECUTE FUNCTION test_outbox_fail();`);
}
async function restoreOutbox(): Promise<void> {
  await t.rt.db.raw('DROP TRIGGER test_outbox_fail ON sms_outbound; DROP FUNCTION test_outbox_fail(); DROP SEQUENCE test_outbox_fail_seq;');
}

test('STATUS, then "2" fails on the outbox and AT redelivers it: the citizen is asked for the number once, as without the failure', async () => {
  const steady = '+254700000911';
  const unlucky = '+254700000912';
  for (const text of ['STATUS', '2', DEMO.wanjiku.passport]) await send(steady, text);

  await send(unlucky, 'STATUS');
  await failNextOutboxInsert();
  try {
    const first = await post(unlucky, '2', 'ATXid_redeliver_two');
    expect(first.status).toBe(500);
    expect(first.text).not.toMatch(/\bat \w|Error:/);
  } finally {
    await restoreOutbox();
  }
  await send(unlucky, '2', 'ATXid_redeliver_two'); // AT's redelivery: the same id
  await send(unlucky, '2', 'ATXid_redeliver_two'); // and once more after it was handled: acknowledged, not answered
  await send(unlucky, DEMO.wanjiku.passport);

  expect(received(unlucky)).toEqual(received(steady));
  expect(received(steady)).toHaveLength(3);
});

test('RESET: the year of birth redelivered after the outbox failed issues one code, and the citizen gets it', async () => {
  const { phone, id } = DEMO.wanjiku;
  await send(phone, 'RESET');
  await send(phone, id);
  await failNextOutboxInsert();
  try {
    expect((await post(phone, '1990', 'ATXid_redeliver_year')).status).toBe(500);
  } finally {
    await restoreOutbox();
  }
  await send(phone, '1990', 'ATXid_redeliver_year');

  const codes = received(phone).filter((m) => /login code is \d+\./.test(m));
  expect(codes).toHaveLength(1);
  const citizen = await t.rt.db('citizens').where({ phone }).first('id');
  expect(await t.rt.db('login_codes').where({ citizen_id: citizen.id })).toHaveLength(1);
});
