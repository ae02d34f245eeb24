import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startSmsHarness, type SmsHarness } from '../helpers/sms';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';

/** A booking made by SMS and cancelled by SMS with the code from its confirmation: one cancellation SMS, the seat freed. */
let t: TestApp;
let sms: SmsHarness;
beforeAll(async () => {
  t = await createTestApp();
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app, worker: { now: () => t.now().getTime() } });
  t.setNow('2026-11-25T06:00:00Z');
});
afterAll(async () => {
  await sms.close();
  await t.close();
});

const phone = '+254711100301';
async function send(text: string): Promise<string[]> {
  const seen = sms.fake.messagesTo(phone).length;
  const res = await request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ id: `ATXid_${randomBytes(6).toString('hex')}`, from: phone, text });
  expect(res.status).toBe(200);
  await sms.drain();
  return sms.fake.messagesTo(phone).slice(seen).map((m) => m.message);
}

test('BOOK … then CANCEL <code> cancels that booking and frees its seat; a second CANCEL finds nothing', async () => {
  for (const answer of ['BOOK', '1', '5', '3', '2', '3']) await send(answer);
  const [confirmation] = await send('1');
  const code = /Code (\d{4} \d{4})\./.exec(confirmation ?? '')?.[1];
  expect(code).toBeDefined();
  const booking = await t.rt.db('bookings').where({ phone, status: 'active' }).first();
  expect(booking.channel).toBe('sms');

  const replies = await send(`CANCEL ${code}`);
  expect(replies).toHaveLength(1);
  expect(replies[0]).toMatch(new RegExp(`^Huduma appointment ${(code as string).replace(' ', ' ?')} \\(Passport, Huduma Centre GPO, Thu 26 Nov at 09:00\\) is cancelled\\.$`));
  expect((await t.rt.db('bookings').where({ id: booking.id }).first()).status).toBe('cancelled');

  expect(await send(`futa ${code}`)).toEqual([`Hakuna miadi ijayo ya simu hii yenye nambari ${(code as string).replace(' ', '')}. Angalia nambari kwenye SMS ya miadi yako.`]);
});
