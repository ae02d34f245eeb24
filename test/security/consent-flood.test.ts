import { createTestApp, type TestApp } from '../helpers/test-app';
import { Api, CITY_SQUARE, GPO, WANJIKU, addStaff, tokenFor } from '../staff/helpers';

/**
 * Issue 10, finding 13: the consent-code limit was per visit (3 codes, a minute apart), so new
 * visits, by several staff at several centres, sent a citizen 8 SMS in 3 seconds. Now there is a
 * per-citizen budget across visits and staff (CONSENT_SMS_PER_CITIZEN_PER_HOUR, default 5).
 */
let t: TestApp;
const staff: Api[] = [];
beforeAll(async () => {
  t = await createTestApp();
  for (const [u, centre] of [['flood.a', GPO], ['flood.b', GPO], ['flood.c', CITY_SQUARE]] as const) {
    staff.push(new Api(t, await tokenFor(t, (await addStaff(t, u, 'agent', centre)).id)));
  }
});
afterAll(async () => t.close());

test('eight visits by three staff members send the citizen at most the per-citizen budget of consent codes', async () => {
  const answers: number[] = [];
  const visits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const api = staff[i % staff.length] as Api;
    const found = await api.post('/citizens/lookup', { idNumber: WANJIKU.id });
    expect(found.status).toBe(201);
    visits.push(found.body.visit.id);
    const sent = await api.post(`/visits/${found.body.visit.id}/consent-code`);
    answers.push(sent.status);
    if (sent.status !== 202) expect(sent.body.error).toBe('citizen_limit');
  }
  const sms = await t.rt.db('sms_outbound').where({ kind: 'consent' }).whereIn('ref', visits.map((v) => `consent:${v}`)).count({ n: '*' }).first();
  expect(Number(sms?.n)).toBe(t.config.CONSENT_SMS_PER_CITIZEN_PER_HOUR);
  expect(answers).toEqual([...Array(5).fill(202), 429, 429, 429]);
});
