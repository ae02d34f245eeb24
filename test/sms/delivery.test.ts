import request from 'supertest';
import { enqueueSms } from '../../src/sms/outbox';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { eventually, startSmsHarness, type SmsHarness } from '../helpers/sms';

/**
 * Delivery reports end to end: the worker sends to the fake AT, the fake posts reports to the real
 * gateway (listening on loopback), and the message row follows them — never backwards.
 */
let t: TestApp;
let sms: SmsHarness;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());
afterEach(async () => sms?.close());

const PHONE = '+254712345678';
const row = async (id: number | null) => t.rt.db('sms_outbound').where({ id }).first();

/** Enqueues and sends one message; returns its row id and AT messageId. */
async function sent(body = 'Your e-Citizen code is 123456'): Promise<{ id: number; messageId: string }> {
  const id = await enqueueSms(t.rt.db, { to: PHONE, body, kind: 'login_code' });
  await sms.drain();
  const r = await row(id);
  expect(r.status).toBe('sent');
  return { id: id as number, messageId: r.at_message_id };
}

const post = (form: Record<string, string>, token = TEST_WEBHOOK_SECRET) =>
  request(t.app).post(`/sms/delivery?token=${token}`).type('form').send(form);

test('Success → delivered; a late Sent and a duplicate Success change nothing', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  const { id, messageId } = await sent();
  expect(await sms.fake.deliver(messageId, 'Sent')).toBe(200);
  expect(await row(id)).toMatchObject({ status: 'sent', dlr_status: 'Sent' });
  expect(await sms.fake.deliver(messageId, 'Success')).toBe(200);
  const delivered = await row(id);
  expect(delivered).toMatchObject({ status: 'delivered', dlr_status: 'Success', network_code: '63902' });
  expect(delivered.delivered_at).not.toBeNull();
  expect(await sms.fake.deliver(messageId, 'Success')).toBe(200);
  expect(await sms.fake.deliver(messageId, 'Sent')).toBe(200);
  expect(await row(id)).toMatchObject({ status: 'delivered', dlr_status: 'Success', delivered_at: delivered.delivered_at });
});

test('out of order: Success before Sent and Buffered stays delivered', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  const { id, messageId } = await sent();
  await sms.fake.deliver(messageId, 'Success');
  await sms.fake.deliver(messageId, 'Buffered');
  await sms.fake.deliver(messageId, 'Sent');
  expect(await row(id)).toMatchObject({ status: 'delivered', dlr_status: 'Success' });
});

test('intermediate reports only move forwards (Buffered then Sent keeps Buffered)', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  const { id, messageId } = await sent();
  await sms.fake.deliver(messageId, 'Buffered');
  await sms.fake.deliver(messageId, 'Sent');
  expect(await row(id)).toMatchObject({ status: 'sent', dlr_status: 'Buffered' });
});

test('Failed with a reason → failed, and final: a later Success does not revive it', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  const { id, messageId } = await sent();
  await sms.fake.deliver(messageId, 'Failed', { failureReason: 'UserIsInactive' });
  expect(await row(id)).toMatchObject({ status: 'failed', dlr_status: 'Failed', failure_reason: 'UserIsInactive' });
  await sms.fake.deliver(messageId, 'Success');
  expect(await row(id)).toMatchObject({ status: 'failed', dlr_status: 'Failed' });
});

test.each([['Rejected'], ['Expired'], ['AbsentSubscriber']])('%s → failed (reason defaults to the status)', async (status) => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  const { id, messageId } = await sent();
  expect((await post({ id: messageId, status, phoneNumber: PHONE })).status).toBe(200);
  expect(await row(id)).toMatchObject({ status: 'failed', failure_reason: status });
});

test('automatic reports from the fake arrive after the send', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app, fake: { autoDeliver: { delayMs: 0, statuses: ['Sent', 'Success'] } } });
  const id = await enqueueSms(t.rt.db, { to: PHONE, body: 'Your e-Citizen code is 123456', kind: 'login_code' });
  await sms.drain();
  await eventually(async () => (await row(id)).status === 'delivered');
});

test('a report that arrives before the worker recorded the messageId is applied when it does', async () => {
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app, fake: { autoDeliver: { delayMs: 0, statuses: ['Failed'], beforeAnswer: true } } });
  const id = await enqueueSms(t.rt.db, { to: PHONE, body: 'Your e-Citizen code is 654321', kind: 'login_code' });
  await sms.drain();
  const r = await row(id);
  expect(r).toMatchObject({ status: 'failed', dlr_status: 'Failed', failure_reason: 'DeliveryFailure' });
  const waiting = await t.rt.db('sms_delivery_unmatched').where({ at_message_id: r.at_message_id });
  expect(waiting).toHaveLength(1);
  expect(waiting[0].matched_at).not.toBeNull();
});

test('an unknown id is recorded and answered 200; duplicates are harmless', async () => {
  const form = { id: 'ATXid_unknown0001', status: 'Success', phoneNumber: PHONE, networkCode: '63902', retryCount: '0' };
  expect((await post(form)).status).toBe(200);
  expect((await post(form)).status).toBe(200);
  const rows = await t.rt.db('sms_delivery_unmatched').where({ at_message_id: 'ATXid_unknown0001' });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: 'Success', phone: PHONE, network_code: '63902', retry_count: 0, matched_at: null });
});

test('a bad token is 401', async () => {
  const res = await post({ id: 'ATXid_x', status: 'Success' }, 'wrong-token-wrong-token-wrong');
  expect(res.status).toBe(401);
  expect(await t.rt.db('sms_delivery_unmatched').where({ at_message_id: 'ATXid_x' })).toHaveLength(0);
});

test.each([
  [{ status: 'Success' }, 'bad request: id: '],
  [{ id: 'ATXid_1' }, 'bad request: status: '],
  [{ id: 'ATXid_1', status: 'Success; drop' }, 'bad request: status: status must be a word, e.g. Success'],
  [{ id: 'ATXid_1', status: 'Success', retryCount: 'many' }, 'bad request: retryCount: '],
])('malformed %j → 400 with one line', async (form, start) => {
  const res = await post(form as Record<string, string>);
  expect(res.status).toBe(400);
  expect(res.text.startsWith(start)).toBe(true);
  expect(res.text).not.toContain('\n');
});

test('a JSON body is refused in one line', async () => {
  const res = await request(t.app).post(`/sms/delivery?token=${TEST_WEBHOOK_SECRET}`).send({ id: 'ATXid_1', status: 'Success' });
  expect(res.status).toBe(400);
  expect(res.text).toBe('expected application/x-www-form-urlencoded');
});
