import { PassThrough } from 'node:stream';
import { createDb, type Db } from '../../src/db';
import { createLogger } from '../../src/log';
import { BlindIndex } from '../../src/services/blind-index';
import { OptOutService } from '../../src/services/opt-outs';
import { enqueueSms, type OutboundSms } from '../../src/sms/outbox';
import { TokenBucket } from '../../src/sms/throttle';
import { backoffMs, claimDueSms } from '../../src/sms/worker';
import { createTestDatabase } from '../helpers/test-app';
import { TEST_ID_HASH_KEY } from '../helpers/env';
import { eventually, startSmsHarness, TEST_AT_SENDER_ID, TEST_AT_USERNAME, type SmsHarness } from '../helpers/sms';

/**
 * The outbox worker against real PostgreSQL and the fake AT server on loopback. No test waits on
 * the wall clock: retries are due at once (retryBaseMs 0), the throttle runs on a test clock, and
 * a crash is a claim that never gets its result recorded.
 */
let db: Db;
let logs: string[];
const logger = (() => {
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => logs.push(c.toString()));
  return createLogger('debug', sink);
})();

beforeAll(async () => {
  db = createDb(await createTestDatabase());
});
afterAll(async () => db.destroy());

let sms: SmsHarness;
beforeEach(async () => {
  logs = [];
  await db('sms_outbound').del();
});
afterEach(async () => sms?.close());

const PHONE = '+254712345678';
const code = (n: number): OutboundSms => ({ to: PHONE, body: `Your e-Citizen code is ${String(n).padStart(6, '0')}`, kind: 'login_code' });
const row = async (id: number | null) => db('sms_outbound').where({ id }).first();

test('an SMS enqueued in a committed transaction reaches AT with the right fields, once', async () => {
  sms = await startSmsHarness(db, logger);
  const id = await db.transaction((trx) => enqueueSms(trx, code(482913)));
  expect(sms.fake.calls).toBe(0); // nothing is sent inside the transaction

  const stats = await sms.drain();
  expect(stats).toMatchObject({ claimed: 1, sent: 1 });
  const got = sms.fake.messages();
  expect(got).toHaveLength(1);
  expect(got[0]).toMatchObject({
    to: PHONE,
    message: 'Your e-Citizen code is 482913',
    from: TEST_AT_SENDER_ID,
    username: TEST_AT_USERNAME,
    apiKey: sms.fake.apiKey,
  });
  expect(await row(id)).toMatchObject({
    status: 'sent',
    attempts: 1,
    at_message_id: got[0]?.messageId,
    at_status: 'Success',
    at_status_code: 101,
    cost: 'KES 0.8000',
    message_parts: 1,
  });
  expect((await row(id)).sent_at).not.toBeNull();
  // a second drain has nothing to do
  expect((await sms.drain()).claimed).toBe(0);
  expect(sms.fake.calls).toBe(1);
  // the message text (a login code) never reaches the logs
  expect(logs.join('')).not.toContain('482913');
});

test('an SMS of a rolled-back transaction is never sent', async () => {
  sms = await startSmsHarness(db, logger);
  await expect(
    db.transaction(async (trx) => {
      await enqueueSms(trx, code(1));
      throw new Error('the reset failed');
    }),
  ).rejects.toThrow('the reset failed');
  await sms.drain();
  expect(sms.fake.calls).toBe(0);
});

test('AT 500 then 201 → sent exactly once after a retry (attempts = 2)', async () => {
  sms = await startSmsHarness(db, logger);
  const id = await enqueueSms(db, code(2));
  sms.fake.failNext(1, { kind: 'http', status: 500 });
  const stats = await sms.drain();
  expect(stats).toMatchObject({ retrying: 1, sent: 1 });
  expect(sms.fake.calls).toBe(2);
  expect(sms.fake.messages()).toHaveLength(1);
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
});

test('per-recipient 500 (AT internal error) is retried too', async () => {
  sms = await startSmsHarness(db, logger);
  const id = await enqueueSms(db, code(3));
  sms.fake.failNext(2, { kind: 'recipient', statusCode: 500 });
  await sms.drain();
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 3 });
  expect(sms.fake.messages()).toHaveLength(1);
});

test('403 InvalidPhoneNumber → failed, no retry', async () => {
  sms = await startSmsHarness(db, logger);
  const id = await enqueueSms(db, { ...code(4), to: '0712345678' });
  expect(await sms.drain()).toMatchObject({ claimed: 1, failed: 1 });
  await sms.drain();
  expect(sms.fake.calls).toBe(1);
  expect(await row(id)).toMatchObject({ status: 'failed', attempts: 1, at_status_code: 403, at_status: 'InvalidPhoneNumber', failure_reason: '403 InvalidPhoneNumber' });
});

test('406 UserInBlacklist → failed, no retry', async () => {
  sms = await startSmsHarness(db, logger);
  const id = await enqueueSms(db, code(5));
  sms.fake.failNext(1, { kind: 'recipient', statusCode: 406 });
  await sms.drain();
  expect(sms.fake.calls).toBe(1);
  expect(await row(id)).toMatchObject({ status: 'failed', at_status: 'UserInBlacklist', at_status_code: 406 });
});

test('a timeout is retried and the message sent', async () => {
  sms = await startSmsHarness(db, logger, { timeoutMs: 200 });
  const id = await enqueueSms(db, code(6));
  sms.fake.failNext(1, { kind: 'timeout' });
  await sms.drain();
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  expect(sms.fake.messages()).toHaveLength(1);
});

test('transient failures stop after max attempts → failed with the last reason', async () => {
  sms = await startSmsHarness(db, logger, { worker: { maxAttempts: 3 } });
  const id = await enqueueSms(db, code(7));
  sms.fake.failNext(5, { kind: 'http', status: 503 });
  expect(await sms.drain()).toMatchObject({ retrying: 2, failed: 1 });
  expect(sms.fake.calls).toBe(3);
  expect(await row(id)).toMatchObject({ status: 'failed', attempts: 3, failure_reason: 'gave up after 3 attempts: HTTP 503: Internal Server Error' });
});

test('a retry waits its backoff: not due again at once', async () => {
  sms = await startSmsHarness(db, logger, { worker: { retryBaseMs: 5000, random: () => 0 } });
  const id = await enqueueSms(db, code(8));
  sms.fake.failNext(1, { kind: 'http', status: 502 });
  expect(await sms.drain()).toMatchObject({ retrying: 1, sent: 0 });
  const r = await row(id);
  expect(r).toMatchObject({ status: 'queued', attempts: 1, last_error: 'HTTP 502: Internal Server Error' });
  const [{ ahead }] = (await db.raw('SELECT extract(epoch FROM next_attempt_at - ?::timestamptz) * 1000 AS ahead FROM sms_outbound WHERE id = ?', [new Date(), id])).rows;
  expect(Number(ahead)).toBeGreaterThan(2000); // 5 s · 2^0 with equal jitter at random 0 = 2.5 s
  expect(await sms.drain()).toMatchObject({ claimed: 0 });
});

test('backoff grows 5 s · 2^(n-1), jittered between half and full, capped', () => {
  expect([1, 2, 3, 4].map((n) => backoffMs(n, 5000, 900_000, () => 0))).toEqual([2500, 5000, 10000, 20000]);
  expect([1, 2, 3, 4].map((n) => backoffMs(n, 5000, 900_000, () => 0.999999))).toEqual([5000, 10000, 20000, 40000]);
  expect(backoffMs(20, 5000, 900_000, () => 0.999999)).toBe(900_000);
});

test('HTTP 401 (bad key) pauses sending without burning attempts', async () => {
  let now = 1_000_000;
  sms = await startSmsHarness(db, logger, { apiKey: 'wrong-key', worker: { concurrency: 1, now: () => now, pauseMs: 60_000 } });
  const ids = [await enqueueSms(db, code(9)), await enqueueSms(db, code(10)), await enqueueSms(db, code(11))];
  const stats = await sms.drain();
  expect(stats).toMatchObject({ claimed: 3, released: 3, sent: 0, failed: 0 });
  expect(sms.fake.calls).toBe(1); // the other two were not even tried
  expect(sms.worker.paused).toBe(true);
  for (const id of ids) expect(await row(id)).toMatchObject({ status: 'queued', attempts: 0 });
  expect(logs.join('')).toContain('SMS sending paused');
  // While paused, a round does nothing
  expect((await sms.worker.runOnce()).claimed).toBe(0);
  // The operator fixes the key; a worker with the right key sends them once the pause is over
  now += 61_000;
  await db('sms_outbound').update({ next_attempt_at: new Date(Date.now() - 1000) });
  const fixed = (await startSmsHarness(db, logger));
  try {
    expect(await fixed.drain()).toMatchObject({ sent: 3 });
  } finally {
    await fixed.close();
  }
});

test('405 InsufficientBalance pauses too (the account, not the message, is at fault)', async () => {
  sms = await startSmsHarness(db, logger, { worker: { concurrency: 1 } });
  const id = await enqueueSms(db, code(12));
  sms.fake.failNext(1, { kind: 'recipient', statusCode: 405 });
  expect(await sms.drain()).toMatchObject({ released: 1 });
  expect(sms.worker.paused).toBe(true);
  expect(await row(id)).toMatchObject({ status: 'queued', attempts: 0, last_error: '405 InsufficientBalance' });
});

test('gateway killed between commit and send: the committed message is sent by the next worker, exactly once', async () => {
  sms = await startSmsHarness(db, logger);
  // 1) committed while no worker runs
  const waiting = await db.transaction((trx) => enqueueSms(trx, code(13)));
  // 2) claimed by a worker that then died mid-send (its claim committed, its result never recorded)
  const crashed = await db.transaction((trx) => enqueueSms(trx, code(14)));
  await db('sms_outbound').where({ id: waiting }).update({ next_attempt_at: new Date(Date.now() + 3_600_000) });
  const claimed = await claimDueSms(db, 10, 60_000);
  expect(claimed.map((c) => c.id)).toEqual([crashed]);
  await db('sms_outbound').where({ id: waiting }).update({ next_attempt_at: new Date(Date.now() - 1000) });
  expect(sms.fake.calls).toBe(0);

  // A new worker does not touch the crashed row while its lease runs (its owner may be alive) …
  const restarted = sms.newWorker();
  expect(await restarted.drain()).toMatchObject({ sent: 1 });
  expect(sms.fake.messages().map((m) => m.message)).toEqual(['Your e-Citizen code is 000013']);
  expect(await row(crashed)).toMatchObject({ status: 'sending', attempts: 1 });

  // … and sends it once the lease has run out.
  await db('sms_outbound').where({ id: crashed }).update({ next_attempt_at: new Date(Date.now() - 1000) });
  expect(await restarted.drain()).toMatchObject({ sent: 1 });
  await restarted.drain();
  expect(sms.fake.messages().map((m) => m.message).sort()).toEqual(['Your e-Citizen code is 000013', 'Your e-Citizen code is 000014']);
  expect(await row(crashed)).toMatchObject({ status: 'sent', attempts: 2 });
  expect(await row(waiting)).toMatchObject({ status: 'sent', attempts: 1 });
});

test('the started worker loop sends what is committed and stops cleanly', async () => {
  sms = await startSmsHarness(db, logger);
  sms.worker.start();
  const id = await db.transaction((trx) => enqueueSms(trx, code(15)));
  await eventually(async () => (await row(id)).status === 'sent');
  await sms.worker.stop();
  expect(sms.worker.running).toBe(false);
  expect(sms.fake.messages()).toHaveLength(1);
});

test('a worker whose lease ran out cannot record over the attempt that took the row over', async () => {
  sms = await startSmsHarness(db, logger, { timeoutMs: 30_000 });
  const id = await enqueueSms(db, code(16));
  sms.fake.failNext(1, { kind: 'timeout' });
  const slow = sms.newWorker();
  const slowRound = slow.drain(1); // claims attempt 1; its call hangs at the fake
  await eventually(() => sms.fake.holding === 1);
  // its lease ends; another worker takes the row over and sends it (attempt 2)
  await db('sms_outbound').where({ id }).update({ next_attempt_at: new Date(Date.now() - 1000) });
  expect(await sms.newWorker().drain()).toMatchObject({ sent: 1 });
  // now the slow call fails: its "retry later" must not overwrite the sent row
  sms.fake.dropHeld();
  expect(await slowRound).toMatchObject({ claimed: 1, retrying: 1 });
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  expect(logs.join('')).toContain('a newer attempt owns the row');
});

/**
 * Attempt 1 is still waiting for AT when its lease ends; attempt 2 takes the row over and is itself
 * waiting when attempt 1's answer finally arrives. Only `attempts` tells the two apart here (the row
 * is `sending` for both): the stale answer must not be recorded, and the real one must be.
 */
async function twoAttemptsInFlight(): Promise<{ id: number; stale: Promise<unknown>; current: Promise<unknown> }> {
  sms = await startSmsHarness(db, logger, { timeoutMs: 30_000 });
  const id = await enqueueSms(db, code(18));
  sms.fake.failNext(2, { kind: 'timeout' }); // both calls are held until the test answers them
  const stale = sms.newWorker().drain(1);
  await eventually(() => sms.fake.holding === 1);
  await db('sms_outbound').where({ id }).update({ next_attempt_at: new Date(Date.now() - 1000) }); // attempt 1's lease ran out
  const current = sms.newWorker().drain(1);
  await eventually(() => sms.fake.holding === 2);
  expect(await row(id)).toMatchObject({ status: 'sending', attempts: 2 });
  return { id: id!, stale, current };
}

test('a stale success arriving while the newer attempt is in flight does not overwrite its messageId', async () => {
  const { id, stale, current } = await twoAttemptsInFlight();
  await sms.fake.answerHeld(); // attempt 1: AT accepted it (late)
  await stale;
  expect(await row(id)).toMatchObject({ status: 'sending', attempts: 2, at_message_id: null });
  await sms.fake.answerHeld(); // attempt 2: AT accepted it
  expect(await current).toMatchObject({ sent: 1 });
  const [first, second] = sms.fake.messages();
  expect(second).toBeDefined();
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2, at_message_id: second!.messageId });
  expect(first!.messageId).not.toBe(second!.messageId);
  expect(logs.join('')).toContain('a newer attempt owns the row');
});

test('a stale permanent failure arriving while the newer attempt is in flight does not fail the row', async () => {
  const { id, stale, current } = await twoAttemptsInFlight();
  await sms.fake.answerHeld({ kind: 'recipient', statusCode: 406 }); // attempt 1: UserInBlacklist (late)
  await stale;
  expect(await row(id)).toMatchObject({ status: 'sending', attempts: 2, failure_reason: null });
  await sms.fake.answerHeld(); // attempt 2 succeeds: that is what the row must say
  expect(await current).toMatchObject({ sent: 1 });
  const [accepted] = sms.fake.messages();
  expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2, at_message_id: accepted!.messageId, failure_reason: null });
});

test('two workers at once never send the same row twice', async () => {
  // A send that times out is retried (at least once, by design): on a loaded machine the default
  // 500 ms could time out a call the fake accepted and count as a double claim. Here only claims matter.
  sms = await startSmsHarness(db, logger, { timeoutMs: 15_000 });
  const n = 200;
  await db('sms_outbound').insert(Array.from({ length: n }, (_, i) => ({ to_phone: PHONE, body: `msg ${i}`, kind: 'notice' })));
  const a = sms.newWorker({ batchSize: 7, concurrency: 5 });
  const b = sms.newWorker({ batchSize: 11, concurrency: 3 });
  const [sa, sb] = await Promise.all([a.drain(), b.drain()]);
  expect(sa.sent + sb.sent).toBe(n);
  expect(sa.sent).toBeGreaterThan(0);
  expect(sb.sent).toBeGreaterThan(0);
  const bodies = sms.fake.messages().map((m) => m.message);
  expect(bodies).toHaveLength(n);
  expect(new Set(bodies).size).toBe(n);
  expect(await db('sms_outbound').where({ status: 'sent', attempts: 1 }).count({ c: '*' }).first()).toEqual({ c: String(n) });
});

test('the throttle lets at most its tokens through per tick (test clock, counts only)', async () => {
  let now = 0;
  const bucket = new TokenBucket(5, 5, () => now); // 5/s, burst 5
  sms = await startSmsHarness(db, logger, { throttle: bucket });
  await db('sms_outbound').insert(Array.from({ length: 12 }, (_, i) => ({ to_phone: PHONE, body: `t ${i}`, kind: 'notice' })));

  const first = await sms.drain();
  expect(first).toMatchObject({ claimed: 5, sent: 5 });
  expect(first.waitMs).toBe(200); // one token every 200 ms
  now += 200;
  expect(await sms.drain()).toMatchObject({ sent: 1 });
  now += 399; // 1.995 tokens → 1
  expect(await sms.drain()).toMatchObject({ sent: 1 });
  now += 10_000; // refills to the burst, not beyond
  expect(await sms.drain()).toMatchObject({ sent: 5 });
  expect(sms.fake.calls).toBe(12);
  // rows the throttle held back were never claimed: no attempt charged
  expect(await db('sms_outbound').where('attempts', '>', 1).count({ c: '*' }).first()).toEqual({ c: '0' });
});

test('tokens not used (fewer rows due) are given back', async () => {
  const bucket = new TokenBucket(5, 5, () => 0);
  sms = await startSmsHarness(db, logger, { throttle: bucket });
  await enqueueSms(db, code(17));
  await sms.drain();
  expect((await bucket.take(10)).granted).toBe(4);
});

test('opt-out hook: a non-essential message to an opted-out phone is cancelled; an essential one goes', async () => {
  sms = await startSmsHarness(db, logger, { isOptedOut: async (phone) => phone === PHONE });
  const reminder = await enqueueSms(db, { to: PHONE, body: 'Reminder: Huduma GPO tomorrow 10:00', kind: 'reminder', essential: false });
  const codeId = await enqueueSms(db, code(18));
  await sms.drain();
  expect(await row(reminder)).toMatchObject({ status: 'cancelled', failure_reason: 'opted_out' });
  expect(await row(codeId)).toMatchObject({ status: 'sent' });
  expect(sms.fake.messages().map((m) => m.message)).toEqual(['Your e-Citizen code is 000018']);
});

test('STOP after enqueue: the reminder is cancelled at send time by the real opt-out list', async () => {
  const optOuts = new OptOutService(db, new BlindIndex(TEST_ID_HASH_KEY));
  sms = await startSmsHarness(db, logger, { isOptedOut: (phone) => optOuts.isOptedOut(phone) });
  const reminder = await enqueueSms(db, { to: PHONE, body: 'Reminder: Huduma GPO tomorrow 10:00', kind: 'reminder', essential: false });
  await optOuts.optOut(PHONE, 'STOP');
  await sms.drain();
  expect(await row(reminder)).toMatchObject({ status: 'cancelled' });
  expect(sms.fake.calls).toBe(0);
  await optOuts.optIn(PHONE);
});

test('a message due later (sendAfter) waits', async () => {
  sms = await startSmsHarness(db, logger);
  await enqueueSms(db, { ...code(19), sendAfter: new Date(Date.now() + 3_600_000) });
  expect((await sms.drain()).claimed).toBe(0);
  expect(sms.fake.calls).toBe(0);
});
