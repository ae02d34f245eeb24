import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startSmsHarness, type SmsHarness } from '../helpers/sms';
import { UssdPhone } from '../helpers/phone';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';

/**
 * Status changes pushed by agency back offices: authenticated per agency, scoped to its own
 * applications, stored with history, and (for statuses a citizen must act on) an SMS to the
 * applicant and subscribers through the real outbox worker to the fake Africa's Talking server.
 */
let t: TestApp;
let sms: SmsHarness;
let immigration: string;
let nrb: string;

beforeAll(async () => {
  t = await createTestApp();
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
  immigration = await t.rt.services.agencies.issueToken('immigration');
  nrb = await t.rt.services.agencies.issueToken('nrb');
});
afterAll(async () => {
  await sms.close();
  await t.close();
});

const post = (reference: string, body: object, token?: string) => {
  const r = request(t.app).post(`/api/applications/${reference}/status`).send(body);
  return token ? r.set('Authorization', `Bearer ${token}`) : r;
};

describe('POST /api/applications/:reference/status', () => {
  test('no token or an unknown token → 401; another agency’s application → 403; unknown reference → 404; unknown status → 400', async () => {
    expect((await post('1026111105122', { status: 'APPROVED' })).status).toBe(401);
    expect((await post('1026111105122', { status: 'APPROVED' }, 'simu_immigration_nope')).status).toBe(401);
    expect((await post('1026111105122', { status: 'APPROVED' }, nrb)).status).toBe(403);
    expect((await post('1026111105130', { status: 'APPROVED' }, immigration)).status).toBe(404);
    expect((await post('1026111105122', { status: 'LOST_IN_POST' }, immigration)).status).toBe(400);
    const row = await t.rt.db('applications').where({ reference: '1026111105122' }).first();
    expect(row.status).toBe('QUERY_RAISED');
  });

  test('READY_FOR_COLLECTION updates the application and its history and SMSes the applicant in their language', async () => {
    // Achieng (+254799000111, en): her passport query is resolved and the passport printed and ready.
    const res = await post('1026111105122', { status: 'READY_FOR_COLLECTION', reason: null, collection_centre: 'nairobi-gpo' }, immigration);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reference: '1026111105122', outcome: 'updated', notified: 1 });
    const app = await t.rt.db('applications').where({ reference: '1026111105122' }).first();
    expect(app).toMatchObject({ status: 'READY_FOR_COLLECTION', reason: null, collection_centre: 'nairobi-gpo' });
    const history = await t.rt.db('application_status_history').where({ application_id: app.id }).orderBy('at');
    expect(history.map((h) => h.status).at(-1)).toBe('READY_FOR_COLLECTION');

    await sms.drain();
    const got = sms.fake.messagesTo('+254799000111');
    expect(got.map((m) => m.message)).toEqual([
      'Simu: update on your application\nPassport 1026111105122\nREADY for collection\nCollect at Huduma Centre GPO.\nSend STOP to stop alerts.',
    ]);
    // The same change posted again is recognised and sends nothing more.
    expect((await post('1026111105122', { status: 'READY_FOR_COLLECTION', reason: null, collection_centre: 'nairobi-gpo' }, immigration)).body.outcome).toBe('unchanged');
  });

  test('a status nobody must act on is recorded without an SMS', async () => {
    const res = await post('1026100200488', { status: 'COLLECTED' }, immigration);
    expect(res.body).toMatchObject({ outcome: 'updated', notified: 0 });
  });

  test('Kiswahili for a phone whose language is Kiswahili; a subscriber from USSD is told too', async () => {
    // Amina (sw) applied for a birth certificate; her neighbour subscribes from his own phone by USSD.
    const neighbour = new UssdPhone(t.app, '+254700000501');
    await t.rt.services.preferences.setLanguage('+254700000501', 'en');
    await neighbour.dial();
    await neighbour.reply('1');
    await neighbour.reply('2');
    await neighbour.reply('3026110400779');
    await neighbour.reply('12345678');
    // REJECTED is final: no offer. Re-open it first through the API, as the registry would after an appeal.
    const civil = await t.rt.services.agencies.issueToken('civil_registration');
    expect((await post('3026110400779', { status: 'UNDER_REVIEW', reason: null }, civil)).body.outcome).toBe('updated');
    const again = new UssdPhone(t.app, '+254700000501');
    await again.dial();
    await again.reply('1');
    await again.reply('2');
    await again.reply('3026110400779');
    expect(await again.reply('12345678')).toMatch(/^CON Birth cert\. 3026110400779\nBeing reviewed\n1\. SMS me when this changes/);
    expect(await again.reply('1')).toBe('END Done. We will send you an SMS when the status of 3026110400779 changes.');

    expect((await post('3026110400779', { status: 'APPROVED' }, civil)).body).toMatchObject({ outcome: 'updated', notified: 2 });
    await sms.drain();
    expect(sms.fake.messagesTo('+254733222333').map((m) => m.message)).toEqual([
      'Simu: habari kuhusu ombi lako\nCheti cha kuzaliwa 3026110400779\nLimeidhinishwa\nTuma ACHA kusitisha arifa.',
    ]);
    expect(sms.fake.messagesTo('+254700000501').map((m) => m.message)).toEqual([
      'Simu: update on your application\nBirth cert. 3026110400779\nApproved\nSend STOP to stop alerts.',
    ]);
  });

  test('a phone that sent STOP gets no alert; after START it does again', async () => {
    const inbound = (id: string, text: string) =>
      request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ id, from: '+254722000111', to: '22384', text });
    expect((await inbound('ATXid_stop_1', 'ACHA')).status).toBe(200);
    const dci = await t.rt.services.agencies.issueToken('dci');
    expect((await post('4026111003118', { status: 'APPROVED' }, dci)).body).toMatchObject({ outcome: 'updated', notified: 0 });
    await sms.drain();
    expect(sms.fake.messagesTo('+254722000111').map((m) => m.message)).toEqual([
      'Hutapokea tena arifa wala vikumbusho kutoka Simu. Majibu ya maombi yako bado yatakuja. Tuma ANZA kuyapokea tena.',
    ]);
    await inbound('ATXid_start_1', 'ANZA');
    expect((await post('4026111003118', { status: 'READY_FOR_COLLECTION', collection_centre: 'nairobi-gpo' }, dci)).body).toMatchObject({ notified: 1 });
  });
});
