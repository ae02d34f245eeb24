import { createTestApp, type TestApp } from '../helpers/test-app';
import { eventually, startSmsHarness } from '../helpers/sms';
import { SCRUBBED_BODY, enqueueSms, scrubOneTimeCodes } from '../../src/sms/outbox';

/** One-time codes do not stay in the outbox's message bodies once they have served. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const row = async (body: string, kind: 'login_code' | 'consent' | 'reply', status: string, ageMs: number) => {
  const id = await enqueueSms(t.rt.db, { to: '+254712345678', body, kind });
  await t.rt.db('sms_outbound').where({ id }).update({ status, updated_at: t.rt.db.raw(`now() - (? * interval '1 millisecond')`, [ageMs]) });
  return id as number;
};
const bodyOf = async (id: number) => (await t.rt.db('sms_outbound').where({ id }).first('body')).body as string;

test('codes in final messages older than the limit are wiped; fresh, pending and ordinary messages are kept', async () => {
  const hour = 3_600_000;
  const oldDelivered = await row('e-Citizen login code: 111111.', 'login_code', 'delivered', 2 * hour);
  const oldFailedConsent = await row('consent code 222222', 'consent', 'failed', 2 * hour);
  const fresh = await row('e-Citizen login code: 333333.', 'login_code', 'delivered', 60_000);
  const stillQueued = await row('e-Citizen login code: 444444.', 'login_code', 'queued', 2 * hour);
  const reply = await row('Passport 1026100200488 READY', 'reply', 'delivered', 2 * hour);

  expect(await scrubOneTimeCodes(t.rt.db, hour)).toBe(2);
  expect(await bodyOf(oldDelivered)).toBe(SCRUBBED_BODY);
  expect(await bodyOf(oldFailedConsent)).toBe(SCRUBBED_BODY);
  expect(await bodyOf(fresh)).toContain('333333');
  expect(await bodyOf(stillQueued)).toContain('444444');
  expect(await bodyOf(reply)).toContain('READY');
  expect(await scrubOneTimeCodes(t.rt.db, hour)).toBe(0);
});

test('the running worker does it by itself', async () => {
  const sms = await startSmsHarness(t.rt.db, t.rt.logger, { worker: { scrubAfterMs: 0 } });
  try {
    const id = await enqueueSms(t.rt.db, { to: '+254722000111', body: 'e-Citizen login code: 555555.', kind: 'login_code' });
    sms.worker.start();
    await eventually(async () => (await t.rt.db('sms_outbound').where({ id }).first('status')).status === 'sent');
    expect(sms.fake.messagesTo('+254722000111').map((m) => m.message)).toEqual(['e-Citizen login code: 555555.']);
    // The next scrub pass (once a minute) finds it sent; restart the worker to run one now.
    await sms.worker.stop();
    const again = sms.newWorker({ scrubAfterMs: 0 });
    again.start();
    await eventually(async () => (await bodyOf(id as number)) === SCRUBBED_BODY);
  } finally {
    await sms.close();
  }
});
