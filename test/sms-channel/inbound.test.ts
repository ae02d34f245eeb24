import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';

/** The inbound webhook itself: authentication, validation, deduplication by AT's id, flood control. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const inbound = (fields: Record<string, string>, token = TEST_WEBHOOK_SECRET) =>
  request(t.app).post(`/sms/inbound?token=${token}`).type('form').send(fields);
const replies = (phone: string) => t.rt.db('sms_outbound').where({ to_phone: phone, kind: 'reply' }).orderBy('id');

test('a wrong token is refused; a malformed message gets 400 with one line and no stack trace', async () => {
  expect((await inbound({ id: 'a1', from: '+254712345678', text: 'HELP' }, 'wrong')).status).toBe(401);
  for (const bad of [{ from: '+254712345678', text: 'HELP' }, { id: 'a2', from: '0712345678', text: 'HELP' }, { id: 'a3', from: '+254712345678', text: 'x'.repeat(2001) }]) {
    const res = await inbound(bad as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.text.split('\n')).toHaveLength(1);
    expect(res.text).not.toMatch(/\bat \w|Error:/);
  }
  const json = await request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).send({ id: 'a4', from: '+254712345678', text: 'HELP' });
  expect(json.status).toBe(400);
});

test('a message AT delivers twice is acknowledged twice and answered once', async () => {
  const msg = { id: 'ATXid_dup_1', from: '+254712345678', to: '22384', text: 'STATUS 1026100200488', date: '2026-11-25 09:00:00' };
  expect((await inbound(msg)).status).toBe(200);
  expect((await inbound(msg)).status).toBe(200);
  expect(await t.rt.db('sms_inbound').where({ at_id: 'ATXid_dup_1' })).toHaveLength(1);
  expect(await replies('+254712345678')).toHaveLength(1);
});

test('a flood from one number is stored but not answered past the limit, and another number is unaffected', async () => {
  for (let i = 0; i < 20; i++) expect((await inbound({ id: `ATXid_flood_${i}`, from: '+254700000601', text: 'HELP' })).status).toBe(200);
  expect(await t.rt.db('sms_inbound').where({ from_hash: t.rt.services.blind.phone('+254700000601') })).toHaveLength(20);
  expect(await replies('+254700000601')).toHaveLength(12);
  const limited = await t.rt.db('sms_inbound').where({ from_hash: t.rt.services.blind.phone('+254700000601'), outcome: 'rate_limited' });
  expect(limited).toHaveLength(8);
  await inbound({ id: 'ATXid_other_1', from: '+254700000602', text: 'HELP' });
  expect(await replies('+254700000602')).toHaveLength(1);
});

test('Kiswahili keywords answer in Kiswahili whatever the saved language', async () => {
  await inbound({ id: 'ATXid_sw_1', from: '+254712345678', text: 'hali 1026100200488' });
  const [last] = (await replies('+254712345678')).reverse();
  expect(last.body).toBe('Pasipoti 1026100200488\nTAYARI kuchukuliwa\nChukua katika Huduma Centre GPO.');
  await inbound({ id: 'ATXid_sw_2', from: '+254712345678', text: 'Msaada' });
  const [help] = (await replies('+254712345678')).reverse();
  expect(help.body).toMatch(/^Simu e-Citizen kwa SMS:\nHALI <nambari>/);
});

test('two answers sent close together are taken one after the other, each from the state the other left', async () => {
  const phone = '+254712345678';
  await t.rt.sms.start(phone, 'check-status', 'en');
  const turns = await Promise.all([t.rt.sms.reply(phone, '1'), t.rt.sms.reply(phone, '1')]);
  const texts = turns.map((x) => x?.text.split('\n')[0]).sort();
  // One opened "My applications", the other chose its item 1: never both from the menu.
  expect(texts).toEqual(['Passport 1026100200488', 'Your applications:']);
});
