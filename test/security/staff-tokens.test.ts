import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { tokenHash } from '../../src/services/staff';
import { Api, Console, GPO, OTIENO, PASSWORD, addStaff, auditRows, tokenFor } from '../staff/helpers';

/**
 * Issue 10, finding 4: an admin minted an API token for a supervisor and, with it, approved their
 * own change of a citizen's registered phone (the takeover: the consent and login codes then go to
 * the new phone). Tokens are now only for oneself, every API action names its token and issuer,
 * and a phone change needs two different people whatever token or account the requester uses.
 */
let t: TestApp;
const ids: Record<string, number> = {};
let admin: Api;
const ATTACKER_PHONE = '+254733111222';

beforeAll(async () => {
  t = await createTestApp();
  for (const [u, role] of [['rogue.admin', 'admin'], ['real.super', 'supervisor'], ['other.super', 'supervisor']] as const) ids[u] = (await addStaff(t, u, role, GPO)).id;
  admin = new Api(t, await tokenFor(t, ids['rogue.admin'] as number));
});
afterAll(async () => t.close());

const citizenPhone = async () => (await t.rt.db('citizens').where({ id: (await t.rt.db('phone_changes').first('citizen_id')).citizen_id }).first('phone')).phone as string;

test('an admin cannot take over a citizen account with a supervisor token, a legacy token or a puppet account; two different people can change the phone', async () => {
  // The admin opens a visit with the citizen and asks for a change to a phone they hold.
  const visit = await admin.openVisit(OTIENO.id);
  const req = await admin.post(`/visits/${visit}/phone-change`, { newPhone: ATTACKER_PHONE, idCardChecked: true });
  expect(req.status).toBe(202);
  const changeId = req.body.phoneChange.id as number;
  const code = /(\d{6})/.exec((await t.rt.db('sms_outbound').where({ ref: `phone_change:${changeId}` }).first()).body)?.[1] as string;
  expect((await admin.post(`/phone-changes/${changeId}/verify`, { code })).status).toBe(200);

  // 1. A token for the supervisor: refused, and the refusal audited.
  const mint = await admin.post(`/staff/${ids['real.super']}/tokens`, { label: 'borrowed' });
  console.info(`admin token for another: HTTP ${mint.status} ${JSON.stringify(mint.body)}`);
  expect(mint.status).toBe(403);
  expect(mint.body.error).toBe('own_tokens_only');
  expect(mint.body.token).toBeUndefined();
  expect(await t.rt.db('staff_tokens').where({ staff_id: ids['real.super'] })).toHaveLength(0);
  expect((await auditRows(t, { action: 'token_issue', outcome: 'denied', staff_id: ids['rogue.admin'] })).length).toBe(1);

  // 2. A token minted for the supervisor before the fix (created_by = the admin) opens nothing.
  const legacy = `simu_st_${randomBytes(32).toString('base64url')}`;
  await t.rt.db('staff_tokens').insert({ staff_id: ids['real.super'], token_hash: tokenHash(legacy), label: 'old', created_by: ids['rogue.admin'], expires_at: new Date(Date.now() + 86_400_000) });
  expect((await new Api(t, legacy).post(`/phone-changes/${changeId}/approve`)).status).toBe(401);

  // 3. A supervisor account the admin creates (and so knows the password of) cannot approve either.
  expect((await admin.post('/staff', { username: 'puppet.super', name: 'Puppet Super', role: 'supervisor', centre: GPO, password: PASSWORD })).status).toBe(201);
  const puppet = new Console(t);
  expect((await puppet.login('puppet.super')).status).toBe(303);
  await puppet.get(`/staff/phone-changes/${changeId}`);
  const decided = await puppet.post(`/staff/phone-changes/${changeId}/decide`, { decision: 'approve' });
  expect(decided.status).toBe(303);
  expect((await puppet.get(`/staff/phone-changes/${changeId}`)).text).toContain('You cannot approve or reject your own request.');
  expect(await citizenPhone()).toBe(OTIENO.phone);
  expect((await t.rt.db('phone_changes').where({ id: changeId }).first()).status).toBe('pending');

  // 4. A supervisor who is someone else approves: the change goes through, and the API rows name the token and its issuer.
  const sup = new Api(t, await tokenFor(t, ids['other.super'] as number));
  const ok = await sup.post(`/phone-changes/${changeId}/approve`);
  expect(ok.status).toBe(200);
  expect(await citizenPhone()).toBe(ATTACKER_PHONE);
  const [row] = await auditRows(t, { action: 'phone_change_approve', outcome: 'approved' });
  const detail = typeof row?.detail === 'string' ? JSON.parse(row.detail) : row?.detail;
  expect(detail.token).toEqual({ id: expect.any(Number), issuedBy: null });
  const requestRow = (await auditRows(t, { action: 'phone_change_request', staff_id: ids['rogue.admin'] }))[0];
  const requestDetail = typeof requestRow?.detail === 'string' ? JSON.parse(requestRow.detail) : requestRow?.detail;
  expect(requestDetail.token.id).toEqual(expect.any(Number));
});
