import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { startSmsHarness, type SmsHarness } from '../helpers/sms';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { DEMO } from '../helpers/kit';
import { dumpStore } from '../helpers/store';

/**
 * Issue 10, finding 2: what citizens text (ID numbers, years of birth, phone numbers) is not kept
 * at rest. Whole SMS conversations through AT's inbound callback and the real outbox worker, one
 * of them past the flood limit; then every text-like column of every table, and every store key of
 * this app, is searched for what was typed.
 */
let t: TestApp;
let sms: SmsHarness;
beforeAll(async () => {
  t = await createTestApp();
  sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
});
afterAll(async () => {
  await sms.close();
  await t.close();
});

let n = 0;
async function send(from: string, text: string): Promise<string> {
  const id = `ATXid_rest_${++n}`;
  const res = await request(t.app).post(`/sms/inbound?token=${TEST_WEBHOOK_SECRET}`).type('form').send({ id, from, to: '22384', text, networkCode: '63902' });
  expect(res.status).toBe(200);
  await sms.drain(); // one at a time, so the citizen's SMS arrive in order
  return id;
}

/** Columns whose job is to say where an SMS goes: the one place a full phone number may be kept. */
const ADDRESSING = new Set(['citizens.phone', 'sms_outbound.to_phone', 'bookings.phone', 'subscriptions.phone', 'sms_delivery_unmatched.phone', 'phone_changes.old_phone', 'phone_changes.new_phone']);

/** Every value of every text, varchar, char, json and jsonb column of every table, as text. */
async function dumpDatabase(db: Knex): Promise<Array<{ column: string; value: string }>> {
  const columns: Array<{ table_name: string; column_name: string }> = await db('information_schema.columns')
    .where({ table_schema: 'public' })
    .whereIn('data_type', ['text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY'])
    .select('table_name', 'column_name');
  const out: Array<{ column: string; value: string }> = [];
  for (const { table_name: table, column_name: column } of columns) {
    const { rows } = await db.raw('select ??::text as v from ?? where ?? is not null', [column, table, column]);
    for (const r of rows as Array<{ v: string }>) out.push({ column: `${table}.${column}`, value: r.v });
  }
  return out;
}

/** Every key of this app in the store (Redis or the Postgres store's tables) with its value. */
async function dumpStoreKeys(): Promise<Array<{ column: string; value: string }>> {
  return (await dumpStore(t)).map(({ key, value }) => ({ column: `store ${key}`, value: `${key} ${value}` }));
}

test('no ID number, year of birth or phone number a citizen texted is kept in the database or the store', async () => {
  const otieno = DEMO.otieno; // born 1985
  const stranger = '+254700000901';
  const flooder = '+254700000902';

  // The RESET conversation, with a wrong year first, then the ID number typed with a space.
  for (const text of ['RESET', otieno.id, '1984', '3012 3456', '1985']) await send(otieno.phone, text);
  // Someone else's application, with the applicant's ID number and with a wrong one.
  await send(stranger, `STATUS ${DEMO.achieng.passport} ${DEMO.achieng.id}`);
  await send(stranger, `STATUS ${DEMO.achieng.passport} 99887766`);
  await send(stranger, 'please call me on 0799 123 456');
  // Past the flood limit: stored and acknowledged, never handled.
  for (let i = 0; i < 12; i++) await send(flooder, 'HELP');
  const limited = await send(flooder, `STATUS ${DEMO.achieng.passport} 44556677`);

  // What held: every message is stored once, the flood is recorded, the citizens got their answers.
  expect(await t.rt.db('sms_inbound').count({ n: '*' }).first()).toEqual({ n: String(n) });
  expect((await t.rt.db('sms_inbound').where({ at_id: limited }).first('outcome')).outcome).toBe('rate_limited');
  expect(sms.fake.messagesTo(otieno.phone).at(-1)?.message).toMatch(/ \d{6}\b/);
  expect(sms.fake.messagesTo(stranger)[0]?.message).toContain(DEMO.achieng.passport);

  const ids = [otieno.id, DEMO.achieng.id, '99887766', '44556677'];
  const years = ['1984', '1985'];
  const typedPhone = '799123456';
  const senders = [otieno.phone, stranger, flooder].map((p) => p.slice(4)); // 722000111: any writing of the number contains it
  const standalone = (s: string) => new RegExp(`(?<![0-9A-Za-z])${s}(?![0-9A-Za-z])`);

  const found: string[] = [];
  for (const { column, value } of [...(await dumpDatabase(t.rt.db)), ...(await dumpStoreKeys())]) {
    const squeezed = value.replace(/\s+/g, '');
    for (const id of ids) if (squeezed.includes(id)) found.push(`ID number ${id} in ${column}`);
    for (const year of years) if (standalone(year).test(value)) found.push(`year ${year} in ${column}`);
    if (squeezed.includes(typedPhone)) found.push(`typed phone number in ${column}`);
    if (!ADDRESSING.has(column)) for (const p of senders) if (squeezed.includes(p)) found.push(`sender's phone number in ${column}`);
  }
  expect([...new Set(found)]).toEqual([]);

  // The figure (`select count(*) from sms_inbound where text ~ '\d{7,8}'`), over every text
  // column of sms_inbound but AT's own identifiers and the sender's hash (hex, whose digits can run).
  const columns: string[] = await t.rt.db('information_schema.columns').where({ table_schema: 'public', table_name: 'sms_inbound' }).whereIn('data_type', ['text', 'character varying']).pluck('column_name');
  for (const column of columns.filter((c) => !['at_id', 'link_id', 'from_hash'].includes(c))) {
    const { rows } = await t.rt.db.raw(`select count(*)::int as n from sms_inbound where ?? ~ '\\d{7,8}'`, [column]);
    expect({ column, n: rows[0].n }).toEqual({ column, n: 0 });
  }
});
