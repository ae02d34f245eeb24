import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Issue 10, finding 17: the agency API answered an unknown `collection_centre` with a 500 (the
 * foreign-key error) and took any `reason`. Both are checked: a 400 that says what is wrong,
 * nothing written, no stack trace.
 */
let t: TestApp;
let token: string;
const REF = '1026111105122'; // an immigration application of the demo data
beforeAll(async () => {
  t = await createTestApp();
  token = await t.rt.services.agencies.issueToken('immigration');
});
afterAll(async () => t.close());

const post = (body: Record<string, unknown>) => request(t.app).post(`/api/applications/${REF}/status`).set('Authorization', `Bearer ${token}`).send(body);

test('an unknown collection centre or reason is a clear 400 and changes nothing', async () => {
  const before = await t.rt.db('applications').where({ reference: REF }).first('status', 'reason', 'collection_centre');
  const centre = await post({ status: 'READY_FOR_COLLECTION', collection_centre: 'atlantis' });
  expect(centre.status).toBe(400);
  expect(centre.body.error).toMatch(/unknown collection_centre/);
  const reason = await post({ status: 'QUERY_RAISED', reason: 'bring-a-bribe' });
  expect(reason.status).toBe(400);
  expect(reason.body.error).toMatch(/unknown reason/);
  for (const r of [centre, reason]) {
    expect(JSON.stringify(r.body)).not.toMatch(/ at |violates|foreign key|node_modules/);
  }
  expect(await t.rt.db('applications').where({ reference: REF }).first('status', 'reason', 'collection_centre')).toEqual(before);
  // Known values still work.
  expect((await post({ status: 'QUERY_RAISED', reason: 'photo_not_clear' })).status).toBe(200);
  expect((await post({ status: 'READY_FOR_COLLECTION', reason: null, collection_centre: 'nairobi-gpo' })).status).toBe(200);
});
