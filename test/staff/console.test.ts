import { createHash } from 'node:crypto';
import request from 'supertest';
import { Client } from 'pg';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_ID_HASH_KEY } from '../helpers/env';
import { BlindIndex } from '../../src/services/blind-index';
import { MAX_FAILED_LOGINS } from '../../src/services/staff';
import { ACHIENG, CITY_SQUARE, Console, GPO, MUTUA, OTIENO, WANJIKU, addStaff, auditRows, consentCode, loginCodesSent, seen } from './helpers';

/**
 * The staff console over HTTP, against the real app, Postgres and Redis: login and lockout, CSRF,
 * consent before any citizen data, the login-code reset, scoping by staff member and centre, phone
 * changes with a supervisor's approval, bookings, the audit log and its CSV.
 */
const blind = new BlindIndex(TEST_ID_HASH_KEY);
let t: TestApp;
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await createTestApp();
  for (const [u, role, centre] of [
    ['agent.gpo', 'agent', GPO], ['agent2.gpo', 'agent', GPO], ['super.gpo', 'supervisor', GPO],
    ['agent.cs', 'agent', CITY_SQUARE], ['super.cs', 'supervisor', CITY_SQUARE], ['admin', 'admin', GPO], ['locky', 'agent', GPO],
  ] as const) ids[u] = (await addStaff(t, u, role, centre)).id;
});
afterAll(async () => t.close());

describe('login', () => {
  test('the login page has labelled fields, a CSRF token, and speaks Kiswahili after the switch', async () => {
    const c = new Console(t);
    const page = await c.get('/staff/login');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<html lang="en">/);
    expect(page.text).toMatch(/<label for="f-username">Username<\/label>/);
    expect(page.text).toMatch(/<input id="f-password" name="password" type="password"[^>]*autocomplete="current-password"/);
    expect(page.text).not.toMatch(/<script/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['cache-control']).toBe('no-store');
    // No session before a login (issue 10): the form's CSRF token is a double-submit cookie.
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).not.toMatch(/simu_staff=/);
    expect(cookie).toMatch(/simu_staff_login=[A-Za-z0-9_-]{43}/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);

    const sw = await c.get('/staff/lang?to=sw&back=%2Fstaff%2Flogin');
    expect(sw.status).toBe(303);
    expect(sw.headers.location).toBe('/staff/login');
    const again = await c.get('/staff/login');
    expect(again.text).toMatch(/<html lang="sw">/);
    expect(again.text).toContain('Kuingia kwa wafanyakazi');
    expect(again.text).toContain('<label for="f-password">Nenosiri</label>');
  });

  test('the language switch only goes back into the console', async () => {
    const r = await request(t.app).get('/staff/lang?to=sw&back=https%3A%2F%2Fevil.example%2F');
    expect(r.headers.location).toBe('/staff/');
  });

  test('a right password logs in with a new session id; a wrong one is refused with one message for unknown users too', async () => {
    const c = new Console(t);
    const loginPage = await c.get('/staff/login');
    const before = /simu_staff=([^;]+)/.exec(String(loginPage.headers['set-cookie']))?.[1];
    const bad = await c.post('/staff/login', { username: 'agent.gpo', password: 'not-the-password' });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('The username or password is wrong.');
    const unknown = await c.post('/staff/login', { username: 'nobody.here', password: 'whatever-it-is' });
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('The username or password is wrong.');
    const ok = await c.post('/staff/login', { username: 'Agent.GPO', password: 'counter-pass-2026' });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/staff/find');
    const after = /simu_staff=([^;]+)/.exec(String(ok.headers['set-cookie']))?.[1];
    expect(after).toBeDefined();
    expect(String(ok.headers['set-cookie'])).toMatch(/simu_staff=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    expect(after).not.toBe(before);
    const find = await c.get('/staff/find');
    expect(find.status).toBe(200);
    expect(find.text).toContain('agent.gpo Test (agent), Huduma Centre GPO');
    const outcomes = (await auditRows(t, { action: 'staff_login', staff_id: ids['agent.gpo'] })).map((r) => r.outcome);
    expect(outcomes).toEqual(['bad_password', 'ok']);
  });

  test(`${MAX_FAILED_LOGINS} wrong passwords lock the account, even against the right password, until an admin unlocks it`, async () => {
    const c = new Console(t);
    await c.get('/staff/login');
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) expect((await c.post('/staff/login', { username: 'locky', password: `wrong-${i}-guess` })).status).toBe(401);
    const locking = await c.post('/staff/login', { username: 'locky', password: 'wrong-last-guess' });
    expect(locking.status).toBe(423);
    expect(locking.text).toContain('Too many failed attempts');
    const right = await c.post('/staff/login', { username: 'locky', password: 'counter-pass-2026' });
    expect(right.status).toBe(423);
    const row = await t.rt.db('staff').where({ id: ids.locky }).first('locked_until');
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    const admin = new Console(t);
    await admin.login('admin');
    const list = await admin.get('/staff/admin/staff');
    expect(list.text).toMatch(/Locked until/);
    expect((await admin.post(`/staff/admin/staff/${ids.locky}/unlock`)).status).toBe(303);
    expect((await c.post('/staff/login', { username: 'locky', password: 'counter-pass-2026' })).status).toBe(303);
    const outcomes = (await auditRows(t, { action: 'staff_login', staff_id: ids.locky })).map((r) => r.outcome);
    expect(outcomes).toEqual(['bad_password', 'bad_password', 'bad_password', 'bad_password', 'locked_now', 'locked', 'ok']);
    expect((await auditRows(t, { action: 'staff_unlock' })).length).toBe(1);
  });

  test('unknown usernames are locked out the same way', async () => {
    const c = new Console(t);
    await c.get('/staff/login');
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await c.post('/staff/login', { username: 'ghost', password: `guess-number-${i}` });
    const r = await c.post('/staff/login', { username: 'ghost', password: 'guess-number-x' });
    expect(r.status).toBe(423);
  });

  test('logout ends the session: the old cookie opens nothing', async () => {
    const c = new Console(t);
    const login = await c.login('agent2.gpo');
    const sid = /simu_staff=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1] as string;
    const stored = `staff:sess:${createHash('sha256').update(sid).digest('hex')}`;
    expect((await c.get('/staff/find')).status).toBe(200);
    expect(await t.rt.store.get(stored)).not.toBeNull();
    expect((await c.post('/staff/logout')).headers.location).toBe('/staff/login?bye=1');
    const after = await c.get('/staff/find');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/staff/login');
    // The old cookie, replayed by hand, is dead too: the session was deleted from the store.
    const replay = await request(t.app).get('/staff/find').set('Cookie', `simu_staff=${sid}`);
    expect(replay.headers.location).toBe('/staff/login');
    expect(await t.rt.store.get(stored)).toBeNull();
    expect((await auditRows(t, { action: 'staff_logout', staff_id: ids['agent2.gpo'] })).length).toBe(1);
  });
});

describe('CSRF', () => {
  test('a POST without the token, or with another session\'s token, is refused and does nothing', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    const other = new Console(t);
    await other.login('agent2.gpo');
    await other.get('/staff/find');

    const none = await c.post('/staff/find', { _csrf: null, id_number: WANJIKU.id });
    expect(none.status).toBe(403);
    expect(none.text).toContain('This form expired or was not sent from this console');
    const foreign = await c.post('/staff/find', { _csrf: other.csrf, id_number: WANJIKU.id });
    expect(foreign.status).toBe(403);
    expect(await auditRows(t, { action: 'citizen_lookup', staff_id: ids['agent.gpo'] })).toHaveLength(0);
    expect((await auditRows(t, { action: 'csrf_refused', staff_id: ids['agent.gpo'] })).length).toBe(2);

    const login = new Console(t);
    await login.get('/staff/login');
    const r = await login.post('/staff/login', { _csrf: 'forged', username: 'agent.gpo', password: 'counter-pass-2026' });
    expect(r.status).toBe(403);
    expect(r.headers.location).toBeUndefined();
  });
});

describe('consent and the citizen', () => {
  test('finding a citizen shows only the masked phone; the ID number is never echoed, stored or logged', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    const visit = await c.find(WANJIKU.id);
    const page = await c.get(`/staff/visits/${visit}`);
    expect(page.text).toContain('Registered phone: +2547****5678');
    expect(page.text).not.toContain('Wanjiku');
    expect(page.text).not.toContain(WANJIKU.id);
    const row = await t.rt.db('consents').where({ id: visit }).first();
    expect(row.id_hash).toBe(blind.idNumber(WANJIKU.id));
    expect(JSON.stringify(row)).not.toContain(WANJIKU.id);
    const [lookup] = await auditRows(t, { action: 'citizen_lookup', staff_id: ids['agent.gpo'] });
    expect(lookup).toMatchObject({ outcome: 'found', centre_code: GPO, channel: 'staff', id_hash: blind.idNumber(WANJIKU.id), phone_masked: '+2547****5678' });
    expect(t.logs()).not.toContain(WANJIKU.id);

    const missing = await c.post('/staff/find', { id_number: '99999999' });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('No citizen is registered with this ID number.');
    expect(missing.text).not.toContain('99999999');
  });

  test('nothing about the citizen before the code; a wrong code is refused; the code from the SMS opens the visit', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    const visit = await c.find(OTIENO.id);
    // Every action needs consent.
    await c.get(`/staff/visits/${visit}`);
    expect((await c.post(`/staff/visits/${visit}/reset-login-code`)).status).toBe(303);
    expect(await t.rt.db('login_codes').count({ n: '*' }).first()).toEqual({ n: '0' });
    expect((await c.get(`/staff/visits/${visit}/book`)).status).toBe(303);
    expect((await auditRows(t, { action: 'login_reset', outcome: 'consent_required' })).length).toBe(1);

    expect((await c.post(`/staff/visits/${visit}/send-code`)).status).toBe(303);
    const sms = await t.rt.db('sms_outbound').where({ ref: `consent:${visit}` }).first();
    expect(sms).toMatchObject({ to_phone: OTIENO.phone, kind: 'consent', essential: true, status: 'queued' });
    // Otieno chose Kiswahili: the SMS speaks it, and fits one SMS.
    expect(sms.body).toMatch(/^Simu: wafanyakazi wa Huduma Centre GPO/);
    expect(sms.body.length).toBeLessThanOrEqual(160);
    const code = await consentCode(t, visit);
    const stored = await t.rt.db('consents').where({ id: visit }).first();
    expect(JSON.stringify(stored)).not.toContain(code);

    const pending = await c.get(`/staff/visits/${visit}`);
    expect(pending.text).toContain('A code was sent to +2547****0111');
    expect(pending.text).not.toContain('Otieno');
    expect(pending.text).not.toContain(code);

    const wrong = await c.post(`/staff/visits/${visit}/verify`, { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('That code is wrong. Tries left: 2.');
    expect(wrong.text).not.toContain('Otieno');

    expect((await c.post(`/staff/visits/${visit}/verify`, { code })).status).toBe(303);
    const open = await c.get(`/staff/visits/${visit}`);
    expect(open.status).toBe(200);
    expect(open.text).toContain('Otieno Ochieng');
    expect(open.text).toContain('4026111003118');
    expect(open.text).toContain('Being reviewed');
    expect(open.text).toMatch(/Consent given. Open until \d\d:\d\d/);
    const outcomes = (await auditRows(t, { action: 'consent_verify', citizen_id: stored.citizen_id })).map((r) => r.outcome);
    expect(outcomes).toEqual(['wrong_code', 'ok']);
    const view = await auditRows(t, { action: 'citizen_view', citizen_id: stored.citizen_id });
    expect(view.at(-1)).toMatchObject({ staff_id: ids['agent.gpo'], centre_code: GPO, outcome: 'ok', id_hash: blind.idNumber(OTIENO.id) });
  });

  test('three wrong codes void the code; an expired consent closes the visit again', async () => {
    const c = new Console(t);
    await c.login('agent2.gpo');
    const visit = await c.find(MUTUA.id);
    await c.get(`/staff/visits/${visit}`);
    await c.post(`/staff/visits/${visit}/send-code`);
    const code = await consentCode(t, visit);
    const bad = code === '123456' ? '654321' : '123456';
    await c.get(`/staff/visits/${visit}`);
    await c.post(`/staff/visits/${visit}/verify`, { code: bad });
    await c.post(`/staff/visits/${visit}/verify`, { code: bad });
    expect((await c.post(`/staff/visits/${visit}/verify`, { code: bad })).text).toContain('Too many wrong codes');
    expect((await c.post(`/staff/visits/${visit}/verify`, { code })).status).toBe(422);

    const open = await c.openVisit(MUTUA.id);
    expect((await c.get(`/staff/visits/${open}`)).text).toContain('Mutua Nzioka');
    await t.rt.db('consents').where({ id: open }).update({ expires_at: new Date(Date.now() - 1000) });
    const expired = await c.get(`/staff/visits/${open}`);
    expect(expired.text).toContain('The consent for this visit has expired');
    expect(expired.text).not.toContain('Mutua');
  });

  test('ending the visit closes it', async () => {
    const c = new Console(t);
    await c.login('agent2.gpo');
    const visit = await c.openVisit(ACHIENG.id);
    await c.get(`/staff/visits/${visit}`);
    expect((await c.post(`/staff/visits/${visit}/close`)).headers.location).toBe('/staff/find');
    const page = await c.get(`/staff/visits/${visit}`);
    expect(page.text).toContain('This visit has ended.');
    expect(page.text).not.toContain('Achieng');
  });
});

describe('scope', () => {
  test('an agent of another centre, and another agent of the same centre, are refused a visit; the refusal is audited', async () => {
    const mine = new Console(t);
    await mine.login('agent.gpo');
    const visit = await mine.openVisit(WANJIKU.id);

    const cs = new Console(t);
    await cs.login('agent.cs');
    const r = await cs.get(`/staff/visits/${visit}`);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('Wanjiku');
    await cs.get('/staff/find');
    expect((await cs.post(`/staff/visits/${visit}/reset-login-code`)).status).toBe(403);
    expect((await cs.post(`/staff/visits/${visit}/send-code`)).status).toBe(403);

    const colleague = new Console(t);
    await colleague.login('agent2.gpo');
    expect((await colleague.get(`/staff/visits/${visit}`)).status).toBe(403);

    const denied = await auditRows(t, { outcome: 'denied', staff_id: ids['agent.cs'] });
    expect(denied.map((d) => d.action)).toEqual(['visit_view', 'login_reset', 'consent_code']);
    expect(denied[0]).toMatchObject({ centre_code: CITY_SQUARE, id_hash: blind.idNumber(WANJIKU.id) });
  });

  test('agents cannot read the audit log or manage staff', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    expect((await c.get('/staff/audit')).status).toBe(403);
    expect((await c.get('/staff/audit.csv')).status).toBe(403);
    expect((await c.get('/staff/admin/staff')).status).toBe(403);
    const sup = new Console(t);
    await sup.login('super.gpo');
    expect((await sup.get('/staff/admin/staff')).status).toBe(403);
    expect((await auditRows(t, { action: 'access_denied' })).length).toBeGreaterThanOrEqual(4);
  });
});

describe('login-code reset for the citizen', () => {
  test('the code goes to the registered phone by SMS; the page never shows it; the audit names staff and centre', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    const visit = await c.openVisit(WANJIKU.id);
    await c.get(`/staff/visits/${visit}`);
    const r = await c.post(`/staff/visits/${visit}/reset-login-code`);
    expect(r.status).toBe(303);
    const page = await c.get(`/staff/visits/${visit}`);
    expect(page.text).toMatch(/A new login code was sent by SMS to \+2547\*\*\*\*5678. It works until \d\d:\d\d/);

    const cid = (await t.rt.db('citizens').where({ id_hash: blind.idNumber(WANJIKU.id) }).first('id')).id;
    const codes = await t.rt.db('login_codes').where({ citizen_id: cid });
    expect(codes).toHaveLength(1);
    expect(codes[0].channel).toBe('staff');
    const sms = await t.rt.db('sms_outbound').where({ id: codes[0].sms_id }).first();
    expect(sms).toMatchObject({ to_phone: WANJIKU.phone, kind: 'login_code' });
    const code = /(\d{6})/.exec(sms.body)?.[1] as string;
    expect(page.text).not.toContain(code);
    const [row] = await auditRows(t, { action: 'login_reset', outcome: 'issued', citizen_id: cid });
    expect(row).toMatchObject({ actor_type: 'staff', staff_id: ids['agent.gpo'], centre_code: GPO, channel: 'staff', id_hash: blind.idNumber(WANJIKU.id) });
  });
});

describe('phone change', () => {
  test('agent requests with a code to the new phone; a supervisor of another centre is refused; the centre supervisor approves; the old phone is told', async () => {
    const agent = new Console(t);
    await agent.login('agent2.gpo');
    // The citizen lost the phone: no consent code, the ID card is checked in person.
    const visit = await agent.find(ACHIENG.id);
    await agent.get(`/staff/visits/${visit}/phone-change`);
    const noCheck = await agent.post(`/staff/visits/${visit}/phone-change`, { new_phone: '0711 222 333' });
    expect(noCheck.status).toBe(422);
    expect(noCheck.text).toContain('Check the ID card and tick the box.');
    const badPhone = await agent.post(`/staff/visits/${visit}/phone-change`, { new_phone: '12345', id_card_checked: 'yes' });
    expect(badPhone.status).toBe(422);
    const req = await agent.post(`/staff/visits/${visit}/phone-change`, { new_phone: '0711 222 333', id_card_checked: 'yes' });
    expect(req.status).toBe(303);
    const changeId = Number(/\/staff\/phone-changes\/(\d+)$/.exec(String(req.headers.location))?.[1]);
    const codeSms = await t.rt.db('sms_outbound').where({ ref: `phone_change:${changeId}` }).first();
    expect(codeSms).toMatchObject({ to_phone: '+254711222333', kind: 'consent' });
    const code = /(\d{6})/.exec(codeSms.body)?.[1] as string;

    const page = await agent.get(`/staff/phone-changes/${changeId}`);
    expect(page.text).toContain('waiting for the code');
    expect(page.text).not.toContain('+254711222333');
    expect((await agent.post(`/staff/phone-changes/${changeId}/verify`, { code })).status).toBe(303);
    expect((await t.rt.db('phone_changes').where({ id: changeId }).first()).status).toBe('pending');
    // Not yet in effect.
    const cid = (await t.rt.db('citizens').where({ id_hash: blind.idNumber(ACHIENG.id) }).first('id', 'phone'));
    expect(cid.phone).toBe(ACHIENG.phone);

    const other = new Console(t);
    await other.login('super.cs');
    expect((await other.get(`/staff/phone-changes/${changeId}`)).status).toBe(403);
    await other.get('/staff/phone-changes');
    expect((await other.post(`/staff/phone-changes/${changeId}/decide`, { decision: 'approve' })).status).toBe(403);
    expect(await t.rt.db('citizens').where({ id: cid.id }).first('phone')).toEqual({ phone: ACHIENG.phone });

    const sup = new Console(t);
    await sup.login('super.gpo');
    const list = await sup.get('/staff/phone-changes');
    expect(list.text).toContain('Achieng Akinyi');
    const detail = await sup.get(`/staff/phone-changes/${changeId}`);
    expect(detail.text).toContain('+254711222333'); // the supervisor checks the full new number
    expect(detail.text).toContain('+2547****0111');
    expect((await sup.post(`/staff/phone-changes/${changeId}/decide`, { decision: 'approve', note: 'ID seen' })).status).toBe(303);
    expect((await sup.get(`/staff/phone-changes/${changeId}`)).text).toContain('Approved. The new phone is registered');

    expect((await t.rt.db('citizens').where({ id: cid.id }).first('phone')).phone).toBe('+254711222333');
    const notice = await t.rt.db('sms_outbound').where({ to_phone: ACHIENG.phone, kind: 'notice' }).first();
    expect(notice.body).toMatch(/^Simu: your e-Citizen phone was changed to \+2547\*\*\*\*2333 at Huduma Centre GPO on \d{4}-\d\d-\d\d\. Not you\? Call 1919/);
    expect(notice.body.length).toBeLessThanOrEqual(160);
    expect(await t.rt.db('sms_outbound').where({ to_phone: '+254711222333', kind: 'notice' }).first()).toBeDefined();

    const trail = (await auditRows(t, { citizen_id: cid.id })).filter((r) => String(r.action).startsWith('phone_change'));
    expect(trail.map((r) => `${r.action}:${r.outcome}:${r.centre_code}`)).toEqual([
      `phone_change_request:code_sent:${GPO}`,
      `phone_change_view:ok:${GPO}`,
      `phone_change_verify:pending:${GPO}`,
      `phone_change_view:denied:${CITY_SQUARE}`,
      `phone_change_approve:denied:${CITY_SQUARE}`,
      `phone_change_view:ok:${GPO}`,
      `phone_change_approve:approved:${GPO}`,
      `phone_change_view:ok:${GPO}`,
    ]);
  });

  test('an agent cannot approve, and a supervisor cannot approve their own request', async () => {
    const sup = new Console(t);
    await sup.login('super.gpo');
    const visit = await sup.find(MUTUA.id);
    await sup.get(`/staff/visits/${visit}/phone-change`);
    const req = await sup.post(`/staff/visits/${visit}/phone-change`, { new_phone: '+254 700 111 222', id_card_checked: 'yes' });
    const changeId = Number(/(\d+)$/.exec(String(req.headers.location))?.[1]);
    const code = /(\d{6})/.exec((await t.rt.db('sms_outbound').where({ ref: `phone_change:${changeId}` }).first()).body)?.[1] as string;
    await sup.get(`/staff/phone-changes/${changeId}`);
    await sup.post(`/staff/phone-changes/${changeId}/verify`, { code });
    await sup.post(`/staff/phone-changes/${changeId}/decide`, { decision: 'approve' });
    expect((await sup.get(`/staff/phone-changes/${changeId}`)).text).toContain('You cannot approve or reject your own request.');

    const agent = new Console(t);
    await agent.login('agent.gpo');
    await agent.get('/staff/find');
    expect((await agent.post(`/staff/phone-changes/${changeId}/decide`, { decision: 'approve' })).status).toBe(403);
    expect((await t.rt.db('phone_changes').where({ id: changeId }).first()).status).toBe('pending');
  });
});

describe('appointments at the centre', () => {
  test('book at this centre for the citizen (SMS to the citizen), then cancel it', async () => {
    const c = new Console(t);
    await c.login('agent.gpo');
    const visit = await c.openVisit(MUTUA.id);
    const services = await c.get(`/staff/visits/${visit}/book`);
    expect(services.status).toBe(200);
    expect(services.text).toContain('<label for="f-service">Service</label>');
    const days = await c.get(`/staff/visits/${visit}/book?service=passport`);
    const day = /<option value="(\d{4}-\d\d-\d\d)"/.exec(days.text)?.[1] as string;
    expect(day).toBeDefined();
    const times = await c.get(`/staff/visits/${visit}/book?service=passport&day=${day}`);
    const time = /<option value="(\d\d:\d\d)"/.exec(times.text)?.[1] as string;
    const booked = await c.post(`/staff/visits/${visit}/book`, { service: 'passport', day, time });
    expect(booked.status).toBe(303);
    const page = await c.get(`/staff/visits/${visit}`);
    expect(page.text).toMatch(/Booked. Code \d{8}/);
    const b = await t.rt.db('bookings').where({ phone: MUTUA.phone, status: 'active' }).first();
    expect(b).toMatchObject({ centre_code: GPO, service_code: 'passport', channel: 'staff', made_by: `staff:${ids['agent.gpo']}` });
    expect(await t.rt.db('sms_outbound').where({ ref: `booking:${b.id}`, kind: 'booking', to_phone: MUTUA.phone }).first()).toBeDefined();

    // Another centre's agent (with their own consent) sees the booking but cannot cancel it.
    const cs = new Console(t);
    await cs.login('agent.cs');
    const theirs = await cs.openVisit(MUTUA.id);
    const view = await cs.get(`/staff/visits/${theirs}`);
    expect(view.text).toContain('Another centre: only that centre can change it.');
    expect((await cs.post(`/staff/visits/${theirs}/bookings/${b.id}/cancel`)).status).toBe(403);

    // The other centre gets no confirmation page either; the booking's own centre is asked once more.
    expect((await cs.get(`/staff/visits/${theirs}/bookings/${b.id}/cancel`)).status).toBe(303);
    const visitPage = await c.get(`/staff/visits/${visit}`);
    expect(visitPage.text).toContain(`href="/staff/visits/${visit}/bookings/${b.id}/cancel"`);
    const confirm = await c.get(`/staff/visits/${visit}/bookings/${b.id}/cancel`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toMatch(new RegExp(`Cancel appointment ${b.code.slice(0, 4)} ?${b.code.slice(4)}: Passport, GPO, \\w{3} \\d{1,2} \\w{3} \\d\\d:\\d\\d\\?`));
    expect((await t.rt.db('bookings').where({ id: b.id }).first()).status).toBe('active');
    expect((await c.post(`/staff/visits/${visit}/bookings/${b.id}/cancel`)).status).toBe(303);
    expect((await t.rt.db('bookings').where({ id: b.id }).first()).status).toBe('cancelled');
    const actions = (await auditRows(t, { action: 'booking_create' })).concat(await auditRows(t, { action: 'booking_cancel' }));
    expect(actions.map((a) => `${a.action}:${a.outcome}:${a.centre_code}`).sort()).toEqual(
      [`booking_cancel:cancelled:${GPO}`, `booking_cancel:denied:${CITY_SQUARE}`, `booking_create:booked:${GPO}`].sort(),
    );
  });

  test('"continue on your phone" starts the booking conversation by SMS on the registered phone', async () => {
    const c = new Console(t);
    await c.login('agent2.gpo');
    const visit = await c.openVisit(OTIENO.id);
    await c.get(`/staff/visits/${visit}`);
    expect((await c.post(`/staff/visits/${visit}/push`, { flow: 'book-appointment' })).status).toBe(303);
    const sent = await t.rt.db('sms_outbound').where({ ref: `consent:${visit}:push` }).orderBy('id');
    expect(sent).toHaveLength(2);
    expect(sent[0].to_phone).toBe(OTIENO.phone);
    expect(sent[0].body).toMatch(/^Simu: kama mlivyokubaliana/);
    expect(sent[1].body.length).toBeGreaterThan(10);
    expect(await t.rt.sms.active(OTIENO.phone)).toBe(true);
    expect((await auditRows(t, { action: 'flow_push' }))[0]).toMatchObject({ outcome: 'sent', staff_id: ids['agent2.gpo'] });
  });
});

describe('audit log', () => {
  test('a supervisor reads and exports their centre only; an admin reads all; an ID filter works without showing the number', async () => {
    const sup = new Console(t);
    await sup.login('super.gpo');
    const page = await sup.get('/staff/audit');
    expect(page.status).toBe(200);
    expect(page.text).toContain('citizen_lookup');
    expect(page.text).not.toContain(CITY_SQUARE);

    const csv = await sup.get('/staff/audit.csv?action=citizen_lookup');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="simu-audit-nairobi-gpo-/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,at_utc,at_nairobi,actor_type,staff_id,staff_username,centre_code,citizen_id,id_hash,phone_masked,channel,action,outcome,detail');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines.slice(1)) expect(line).toMatch(/,nairobi-gpo,.*,citizen_lookup,/);

    await sup.get('/staff/audit');
    const redirect = await sup.post('/staff/audit/by-id', { id_number: WANJIKU.id });
    expect(redirect.headers.location).toBe(`/staff/audit?idHash=${blind.idNumber(WANJIKU.id)}`);
    const byId = await sup.get(String(redirect.headers.location));
    expect(byId.text).toContain(blind.idNumber(WANJIKU.id).slice(0, 10));
    expect(byId.text).not.toContain(blind.idNumber(OTIENO.id).slice(0, 10));
    expect(byId.text).not.toContain(WANJIKU.id);

    const admin = new Console(t);
    await admin.login('admin');
    const all = await admin.get('/staff/audit.csv');
    expect(all.text).toContain(`,${CITY_SQUARE},`);
    expect(all.text).toContain(`,${GPO},`);
    const reads = await auditRows(t, { action: 'audit_export' });
    expect(reads.length).toBe(2);
  });

  test('the audit log refuses UPDATE, DELETE and TRUNCATE, and PUBLIC has no right to change it', async () => {
    await expect(t.rt.db('audit_log').update({ outcome: 'x' })).rejects.toThrow(/append-only/);
    await expect(t.rt.db('audit_log').del()).rejects.toThrow(/append-only/);
    await expect(t.rt.db.raw('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    const { rows } = await t.rt.db.raw("SELECT has_table_privilege('public', 'audit_log', 'UPDATE') AS u, has_table_privilege('public', 'audit_log', 'DELETE') AS d");
    expect(rows[0]).toEqual({ u: false, d: false });
  });
  test('a gateway role granted only SELECT and INSERT can append to the log but not change it', async () => {
    const role = `simu_app_${Math.random().toString(36).slice(2, 10)}`;
    const client = new Client({ connectionString: t.config.DATABASE_URL });
    await client.connect();
    try {
      await client.query(`CREATE ROLE ${role} NOLOGIN`);
      await client.query(`GRANT SELECT, INSERT ON audit_log TO ${role}; GRANT USAGE ON SEQUENCE audit_log_id_seq TO ${role}`);
      await client.query(`SET ROLE ${role}`);
      await client.query("INSERT INTO audit_log (actor_type, channel, action, outcome) VALUES ('system', 'staff', 'role_check', 'ok')");
      for (const sql of ["UPDATE audit_log SET outcome = 'x'", 'DELETE FROM audit_log', 'TRUNCATE audit_log']) {
        await expect(client.query(sql)).rejects.toThrow(/permission denied/);
      }
    } finally {
      await client.query('RESET ROLE').catch(() => undefined);
      await client.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await client.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await client.end();
    }
  });
});

describe('admin', () => {
  test('an admin creates a staff member who can then log in; a deactivated member is logged out at once', async () => {
    const admin = new Console(t);
    await admin.login('admin');
    await admin.get('/staff/admin/staff');
    const weak = await admin.post('/staff/admin/staff', { username: 'new.agent', name: 'New Agent', role: 'agent', centre: GPO, password: 'short' });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('The password needs at least 10 characters.');
    const made = await admin.post('/staff/admin/staff', { username: 'new.agent', name: 'New Agent', role: 'agent', centre: GPO, password: 'a-long-enough-pass' });
    expect(made.status).toBe(303);
    const stored = await t.rt.db('staff').where({ username: 'new.agent' }).first();
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    expect(stored.password_hash).not.toContain('a-long-enough-pass');

    const n = new Console(t);
    expect((await n.login('new.agent', 'a-long-enough-pass')).status).toBe(303);
    expect((await n.get('/staff/find')).status).toBe(200);
    await admin.get('/staff/admin/staff');
    expect((await admin.post(`/staff/admin/staff/${stored.id}/deactivate`)).status).toBe(303);
    expect((await n.get('/staff/find')).status).toBe(303);
    // Refused like a wrong password (issue 10): the answer does not confirm the password.
    expect((await n.login('new.agent', 'a-long-enough-pass')).status).toBe(401);
  });
});

test('no response seen by staff in this file contained a login code', async () => {
  const codes = await loginCodesSent(t);
  expect(codes.length).toBeGreaterThan(0);
  for (const code of codes) for (const body of seen) expect(body.includes(code)).toBe(false);
});
