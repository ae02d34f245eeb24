import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { eventually, startSmsHarness, type SmsHarness } from '../helpers/sms';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { DEMO } from '../helpers/kit';
import { SCRUBBED_BODY } from '../../src/sms/outbox';

/**
 * Issue 10, finding 8: a login code asked for by SMS (the RESET conversation) travels as the
 * conversation's reply. Once sent, it must be wiped from the outbox like a code sent after a USSD
 * reset, not kept forever as an ordinary reply.
 */
let t: TestApp;
let sms: SmsHarness;
beforeAll(async () => {
  t = await createTestApp();
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app, worker: { scrubAfterMs: 0 } });
});
afterAll(async () => {
  await sms.close();
  await t.close();
});

let n = 0;
async function send(from: string, text: string): Promise<void> {
  const res = await request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ id: `ATXid_scrub_${++n}`, from, text });
  expect(res.status).toBe(200);
  await sms.drain();
}

test('the login code sent as the RESET conversation\'s reply is wiped from the outbox once sent', async () => {
  const { phone, id } = DEMO.wanjiku;
  for (const text of ['RESET', id, '1990']) await send(phone, text);
  const last = sms.fake.messagesTo(phone).at(-1)?.message ?? '';
  const code = /login code is (\d+)\./.exec(last)?.[1];
  expect(code).toBeDefined();

  // The worker's scrub pass runs when it starts, then once a minute: a started worker does it by itself.
  const worker = sms.newWorker({ scrubAfterMs: 0 });
  worker.start();
  const holding = () => t.rt.db('sms_outbound').where('body', 'like', `%${code}%`).count({ n: '*' }).first();
  await eventually(async () => Number((await holding())?.n) === 0);
  // The row stays for the record: sent to this phone, its text replaced.
  const rows = await t.rt.db('sms_outbound').where({ to_phone: phone, body: SCRUBBED_BODY });
  expect(rows).toHaveLength(1);
  expect(rows[0].status).toBe('sent');
});
