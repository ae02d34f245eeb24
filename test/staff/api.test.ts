import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_ID_HASH_KEY } from '../helpers/env';
import { BlindIndex } from '../../src/services/blind-index';
import { Api, CITY_SQUARE, Console, GPO, MUTUA, OTIENO, WANJIKU, addStaff, auditRows, consentCode, loginCodesSent, seen, tokenFor } from './helpers';

/**
 * The staff JSON API (/staff/api): bearer tokens, the same consent, scope and audit rules as the
 * console, with `api` as the channel in the audit log.
 */
const blind = new BlindIndex(TEST_ID_HASH_KEY);
let t: TestApp;
let agent: Api;
let agentCs: Api;
let supervisor: Api;
let supervisorCs: Api;
let admin: Api;
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await createTestApp();
  for (const [u, role, centre] of [
    ['api.agent', 'agent', GPO], ['api.agent.cs', 'agent', CITY_SQUARE], ['api.super', 'supervisor', GPO], ['api.super.cs', 'supervisor', CITY_SQUARE], ['api.admin', 'admin', GPO],
  ] as const) ids[u] = (await addStaff(t, u, role, centre)).id;
  agent = new Api(t, await tokenFor(t, ids['api.agent'] as number));
  agentCs = new Api(t, await tokenFor(t, ids['api.agent.cs'] as number));
  supervisor = new Api(t, await tokenFor(t, ids['api.super'] as number));
  supervisorCs = new Api(t, await tokenFor(t, ids['api.super.cs'] as number));
  admin = new Api(t, await tokenFor(t, ids['api.admin'] as number));
});
afterAll(async () => t.close());

describe('authentication', () => {
  test('no token, a malformed token, an unknown token: 401 with a Bearer challenge', async () => {
    for (const header of [undefined, 'Bearer nope', `Bearer simu_st_${'A'.repeat(43)}`, 'Basic abc']) {
      const r = request(t.app).get('/staff/api/me');
      const res = header ? await r.set('Authorization', header) : await r;
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body).toEqual({ error: 'unauthorized' });
    }
  });

  test('the console cookie opens nothing in the API, and a token is stored only as its hash', async () => {
    const browser = new Console(t);
    expect((await browser.login('api.agent')).status).toBe(303);
    expect((await browser.agent.get('/staff/api/me')).status).toBe(401);
    const me = await agent.get('/me');
    expect(me.status).toBe(200);
    expect(me.body.staff).toMatchObject({ username: 'api.agent', role: 'agent', centre: GPO });
    const rows = await t.rt.db('staff_tokens').select('token_hash');
    for (const r of rows) expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a revoked token and the token of a deactivated member stop working', async () => {
    const member = await addStaff(t, 'short.lived', 'agent', GPO);
    const token = await tokenFor(t, member.id);
    const api = new Api(t, token);
    expect((await api.get('/me')).status).toBe(200);
    const list = await admin.get('/staff');
    expect(list.body.staff.map((s: { username: string }) => s.username)).toContain('short.lived');
    expect((await admin.post(`/staff/${member.id}/deactivate`)).status).toBe(200);
    expect((await api.get('/me')).status).toBe(401);
    expect((await admin.post(`/staff/${member.id}/activate`)).status).toBe(200);
    expect((await api.get('/me')).status).toBe(401); // deactivation revoked the tokens

    // Tokens only for oneself (issue 10): an admin cannot mint one for the member, only for themselves.
    const forOther = await admin.post(`/staff/${member.id}/tokens`, { label: 'kiosk' });
    expect(forOther.status).toBe(403);
    expect(forOther.body.error).toBe('own_tokens_only');
    const issued = await admin.post(`/staff/${ids['api.admin']}/tokens`, { label: 'kiosk' });
    expect(issued.status).toBe(201);
    const fresh = new Api(t, issued.body.token);
    expect((await fresh.get('/me')).body.staff.username).toBe('api.admin');
    expect((await admin.post(`/tokens/${issued.body.id}/revoke`)).status).toBe(200);
    expect((await fresh.get('/me')).status).toBe(401);
  });
});

describe('consent before citizen data', () => {
  test('lookup gives a masked phone; the citizen is refused until the code from the SMS is given', async () => {
    const found = await agent.post('/citizens/lookup', { idNumber: '2345 6789' });
    expect(found.status).toBe(201);
    expect(found.body.visit).toMatchObject({ state: 'found', phoneMasked: '+2547****5678' });
    expect(JSON.stringify(found.body)).not.toContain('Wanjiku');
    const visit = found.body.visit.id as number;

    const early = await agent.get(`/visits/${visit}/citizen`);
    expect(early.status).toBe(403);
    expect(early.body.error).toBe('consent_required');
    expect((await agent.post(`/visits/${visit}/login-code-reset`)).status).toBe(403);

    const sent = await agent.post(`/visits/${visit}/consent-code`);
    expect(sent.status).toBe(202);
    expect(sent.body.visit.state).toBe('code_sent');
    expect((await agent.post(`/visits/${visit}/consent-code`)).body).toMatchObject({ error: 'too_soon' });
    const code = await consentCode(t, visit);
    const wrong = await agent.post(`/visits/${visit}/consent`, { code: code === '000000' ? '000001' : '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toEqual({ error: 'wrong_code', attemptsLeft: 2 });
    const ok = await agent.post(`/visits/${visit}/consent`, { code });
    expect(ok.status).toBe(200);
    expect(ok.body.visit.state).toBe('open');

    const citizen = await agent.get(`/visits/${visit}/citizen`);
    expect(citizen.status).toBe(200);
    expect(citizen.body.citizen).toMatchObject({ firstName: 'Wanjiku', lastName: 'Kamau', phoneMasked: '+2547****5678', birthYear: 1990 });
    expect(citizen.body.citizen.applications[0]).toMatchObject({ reference: '1026100200488', status: 'READY_FOR_COLLECTION' });
    expect(JSON.stringify(citizen.body)).not.toContain(WANJIKU.phone);

    const rows = await auditRows(t, { staff_id: ids['api.agent'], channel: 'api' });
    expect(rows.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'citizen_lookup:found', 'citizen_view:consent_required', 'login_reset:consent_required', 'consent_code:sent', 'consent_verify:wrong_code', 'consent_verify:ok', 'citizen_view:ok',
    ]);
    for (const r of rows) expect(r).toMatchObject({ centre_code: GPO, id_hash: blind.idNumber(WANJIKU.id) });
  });

  test('the reset answers 202 without the code; the code is only in the SMS to the registered phone', async () => {
    const visit = await agent.openVisit(OTIENO.id);
    const r = await agent.post(`/visits/${visit}/login-code-reset`);
    expect(r.status).toBe(202);
    expect(Object.keys(r.body).sort()).toEqual(['status', 'validUntil']);
    const [sms] = await t.rt.db('sms_outbound').where({ kind: 'login_code', to_phone: OTIENO.phone });
    const code = /(\d{6})/.exec(sms.body)?.[1] as string;
    expect(r.text).not.toContain(code);
    expect(sms.body).toMatch(/^Nambari ya kuingia e-Citizen/); // Otieno reads Kiswahili
    const [row] = await auditRows(t, { action: 'login_reset', outcome: 'issued', channel: 'api' });
    expect(row).toMatchObject({ actor_type: 'staff', staff_id: ids['api.agent'], centre_code: GPO });
  });

  test('an agent of another centre is refused the visit, with an audit row', async () => {
    const visit = await agent.openVisit(MUTUA.id);
    for (const r of [await agentCs.get(`/visits/${visit}/citizen`), await agentCs.post(`/visits/${visit}/login-code-reset`), await agentCs.post(`/visits/${visit}/consent`, { code: '123456' })]) {
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'forbidden' });
    }
    const denied = await auditRows(t, { staff_id: ids['api.agent.cs'], outcome: 'denied' });
    expect(denied.map((d) => d.action)).toEqual(['citizen_view', 'login_reset', 'consent_verify']);
    expect(denied[0]).toMatchObject({ centre_code: CITY_SQUARE, id_hash: blind.idNumber(MUTUA.id), channel: 'api' });
  });

  test('bad input answers 400 with the field', async () => {
    expect((await agent.post('/citizens/lookup', {})).body).toMatchObject({ error: 'bad_request', field: 'idNumber' });
    expect((await agent.post('/citizens/lookup', { idNumber: '12' })).body).toEqual({ error: 'bad_id' });
    expect((await agent.post('/citizens/lookup', { idNumber: '11112222' })).status).toBe(404);
    const bad = await request(t.app).post('/staff/api/citizens/lookup').set('Authorization', `Bearer ${await tokenFor(t, ids['api.agent'] as number)}`).type('json').send('{"idNumber":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
  });
});

describe('bookings and phone changes', () => {
  test('book at the centre, move it, cancel it', async () => {
    const visit = await agent.openVisit(MUTUA.id);
    const opts = await agent.get(`/visits/${visit}/booking-options?service=id_card`);
    expect(opts.status).toBe(200);
    expect(opts.body.services).toContain('id_card');
    const [day1, day2] = opts.body.days as string[];
    const t1 = (await agent.get(`/visits/${visit}/booking-options?service=id_card&day=${day1}`)).body.times[0];
    const booked = await agent.post(`/visits/${visit}/bookings`, { service: 'id_card', day: day1, time: t1 });
    expect(booked.status).toBe(201);
    expect(booked.body.booking.code).toMatch(/^\d{8}$/);
    expect((await agent.post(`/visits/${visit}/bookings`, { service: 'id_card', day: day1, time: t1 })).body).toEqual({ error: 'duplicate' });

    const view = await agent.get(`/visits/${visit}/citizen`);
    const b = view.body.citizen.bookings.find((x: { service: string }) => x.service === 'id_card');
    expect(b).toMatchObject({ mine: true, day: day1, time: t1 });
    const t2 = (await agent.get(`/visits/${visit}/booking-options?service=id_card&day=${day2}`)).body.times[0];
    const moved = await agent.post(`/visits/${visit}/bookings/${b.id}/move`, { day: day2, time: t2 });
    expect(moved.status).toBe(200);
    const newId = (await t.rt.db('bookings').where({ phone: MUTUA.phone, status: 'active', service_code: 'id_card' }).first('id')).id;
    expect((await agent.post(`/visits/${visit}/bookings/${newId}/cancel`)).status).toBe(200);
    expect(await t.rt.db('sms_outbound').where({ to_phone: MUTUA.phone, kind: 'booking' }).count({ n: '*' }).first()).toEqual({ n: '3' });
  });

  test('phone change: code to the new phone, approval only by a supervisor of the same centre who did not request it', async () => {
    const found = await agent.post('/citizens/lookup', { idNumber: OTIENO.id });
    const visit = found.body.visit.id as number;
    expect((await agent.post(`/visits/${visit}/phone-change`, { newPhone: '0733 000 999' })).body).toMatchObject({ error: 'bad_request', field: 'idCardChecked' });
    const req = await agent.post(`/visits/${visit}/phone-change`, { newPhone: '0733 000 999', idCardChecked: true });
    expect(req.status).toBe(202);
    expect(req.body.phoneChange).toMatchObject({ status: 'unverified', newPhoneMasked: '+2547****0999', oldPhoneMasked: '+2547****0111' });
    expect(req.body.phoneChange.newPhone).toBeUndefined();
    const id = req.body.phoneChange.id as number;
    const code = /(\d{6})/.exec((await t.rt.db('sms_outbound').where({ ref: `phone_change:${id}` }).first()).body)?.[1] as string;
    expect((await supervisor.post(`/phone-changes/${id}/approve`)).body).toEqual({ error: 'not_pending' });
    expect((await agent.post(`/phone-changes/${id}/verify`, { code })).body.phoneChange.status).toBe('pending');

    expect((await agent.post(`/phone-changes/${id}/approve`)).status).toBe(403);
    expect((await supervisorCs.post(`/phone-changes/${id}/approve`)).status).toBe(403);
    expect((await admin.post(`/phone-changes/${id}/approve`)).status).toBe(403);
    const pending = await supervisor.get('/phone-changes?status=pending');
    expect(pending.body.phoneChanges.map((c: { id: number }) => c.id)).toEqual([id]);
    expect(pending.body.phoneChanges[0].newPhone).toBe('+254733000999');
    expect((await supervisorCs.get('/phone-changes?status=pending')).body.phoneChanges).toEqual([]);

    const approved = await supervisor.post(`/phone-changes/${id}/approve`, { note: 'ID card seen' });
    expect(approved.status).toBe(200);
    expect(approved.body.phoneChange).toMatchObject({ status: 'approved', approvedByUsername: 'api.super', decisionNote: 'ID card seen' });
    expect((await t.rt.db('citizens').where({ id_hash: blind.idNumber(OTIENO.id) }).first('phone')).phone).toBe('+254733000999');
    const old = await t.rt.db('sms_outbound').where({ to_phone: OTIENO.phone, kind: 'notice' }).first();
    expect(old.body).toMatch(/^Simu: simu ya e-Citizen yako imebadilishwa kuwa \+2547\*\*\*\*0999 \(Huduma Centre GPO, \d{4}-\d\d-\d\d\)/);
    expect(old.body.length).toBeLessThanOrEqual(160);
    // The language followed the citizen to the new phone.
    expect(await t.rt.services.preferences.language('+254733000999')).toBe('sw');
    expect((await supervisor.post(`/phone-changes/${id}/approve`)).body).toEqual({ error: 'not_pending' });
  });
  test('an open request blocks another until its code expires unverified', async () => {
    const first = (await agent.post('/citizens/lookup', { idNumber: WANJIKU.id })).body.visit.id as number;
    const a = await agent.post(`/visits/${first}/phone-change`, { newPhone: '0744 100 200', idCardChecked: true });
    expect(a.status).toBe(202);
    const second = (await agentCs.post('/citizens/lookup', { idNumber: WANJIKU.id })).body.visit.id as number;
    expect((await agentCs.post(`/visits/${second}/phone-change`, { newPhone: '0744 100 300', idCardChecked: true })).body).toEqual({ error: 'already_pending', id: a.body.phoneChange.id });
    await t.rt.db('phone_changes').where({ id: a.body.phoneChange.id }).update({ code_expires_at: new Date(Date.now() - 1000) });
    expect((await agentCs.post(`/visits/${second}/phone-change`, { newPhone: '0744 100 300', idCardChecked: true })).status).toBe(202);
    expect((await t.rt.db('phone_changes').where({ id: a.body.phoneChange.id }).first()).status).toBe('cancelled');
  });
});

describe('audit and staff management', () => {
  test('supervisors read their centre, agents nothing, admins everything; filtering by ID number only in a POST body', async () => {
    expect((await agent.get('/audit')).status).toBe(403);
    const mine = await supervisor.get('/audit?action=citizen_lookup');
    expect(mine.status).toBe(200);
    expect(mine.body.rows.length).toBeGreaterThan(0);
    for (const r of mine.body.rows) expect(r.centreCode).toBe(GPO);
    const theirs = await supervisorCs.get('/audit');
    for (const r of theirs.body.rows) expect(r.centreCode).toBe(CITY_SQUARE);
    const all = await admin.get('/audit.csv');
    expect(all.text).toContain(`,${CITY_SQUARE},`);
    expect(all.text).toContain(`,${GPO},`);

    const byId = await supervisor.post('/audit/query', { idNumber: MUTUA.id, action: 'citizen_lookup' });
    expect(byId.status).toBe(200);
    expect(byId.body.rows.length).toBeGreaterThan(0);
    for (const r of byId.body.rows) expect(r.idHash).toBe(blind.idNumber(MUTUA.id));
    const csv = await supervisor.post('/audit/query', { idNumber: MUTUA.id, format: 'csv' });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const reads = await auditRows(t, { staff_id: ids['api.super'], action: 'audit_view' });
    expect(reads.at(-1)?.id_hash).toBe(blind.idNumber(MUTUA.id));
  });

  test('admins create staff (argon2id hash, validation); others cannot', async () => {
    expect((await supervisor.post('/staff', { username: 'x.y', name: 'X Y', role: 'agent', centre: GPO, password: 'long-enough-pw' })).status).toBe(403);
    expect((await admin.post('/staff', { username: 'Bad Name', name: 'X Y', role: 'agent', centre: GPO, password: 'long-enough-pw' })).body).toEqual({ error: 'bad_username' });
    expect((await admin.post('/staff', { username: 'x.y', name: 'X Y', role: 'boss', centre: GPO, password: 'long-enough-pw' })).body).toEqual({ error: 'bad_role' });
    expect((await admin.post('/staff', { username: 'x.y', name: 'X Y', role: 'agent', centre: 'atlantis', password: 'long-enough-pw' })).body).toEqual({ error: 'unknown_centre' });
    const made = await admin.post('/staff', { username: 'x.y', name: 'X Y', role: 'agent', centre: GPO, password: 'long-enough-pw' });
    expect(made.status).toBe(201);
    expect((await admin.post('/staff', { username: 'X.Y', name: 'X Y', role: 'agent', centre: GPO, password: 'long-enough-pw' })).status).toBe(409);
    expect((await admin.post(`/staff/${ids['api.admin']}/deactivate`)).body).toEqual({ error: 'self' });
    expect((await auditRows(t, { action: 'staff_create', staff_id: ids['api.admin'] })).length).toBe(1);
  });
});

test('no API response in this file contained a login code', async () => {
  const codes = await loginCodesSent(t);
  expect(codes.length).toBeGreaterThan(0);
  for (const code of codes) for (const body of seen) expect(body.includes(code)).toBe(false);
});
