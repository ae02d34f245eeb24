import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { TEST_ID_HASH_KEY } from '../helpers/env';
import { BlindIndex } from '../../src/services/blind-index';
import { failInserts } from '../helpers/db-faults';
import { insertCitizen } from '../helpers/kit';

/**
 * The login-code reset's side effects, seen where they land: the outbox row for the SMS, the hashed
 * code, the account state, the audit log and the limits. Demo citizens: seeds/data/demo.json.
 */
const WANJIKU = { phone: '+254712345678', id: '23456789', year: '1990' };
const MUTUA = { phone: '+254701987654', id: '7654321', year: '1962' };
const blind = new BlindIndex(TEST_ID_HASH_KEY);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function reset(phone: string, id: string, year: string): Promise<string> {
  const p = new UssdPhone(t.app, phone);
  // A failed try leaves the session on "Enter your ID number"; the redial offers to continue it.
  if (/You did not finish/.test(await p.dial())) await p.reply('2');
  await p.reply('2');
  await p.reply(id);
  return p.reply(year);
}

const codeOf = (screen: string) => /code is (\d{6})/.exec(screen)?.[1];
const citizenId = async (id: string) => (await t.rt.db('citizens').where({ id_hash: blind.idNumber(id) }).first('id')).id as number;

describe('a successful reset', () => {
  test('shows a 6-digit code, stores it only hashed, sends it by SMS in the same transaction, unlocks the account, audits it', async () => {
    const screen = await reset(WANJIKU.phone, WANJIKU.id, WANJIKU.year);
    const code = codeOf(screen);
    expect(code).toMatch(/^\d{6}$/);
    const cid = await citizenId(WANJIKU.id);

    const codes = await t.rt.db('login_codes').where({ citizen_id: cid });
    expect(codes).toHaveLength(1);
    expect(JSON.stringify(codes)).not.toContain(code);
    expect(new Date(codes[0].expires_at).getTime() - new Date(codes[0].created_at).getTime()).toBeGreaterThan(9 * 60 * 1000);

    const sms = await t.rt.db('sms_outbound').where({ id: codes[0].sms_id }).first();
    expect(sms).toMatchObject({ to_phone: WANJIKU.phone, kind: 'login_code', essential: true, status: 'queued' });
    expect(sms.body).toContain(code);
    expect(sms.body).toMatch(/Never share it/);

    expect((await t.rt.db('accounts').where({ citizen_id: cid }).first()).login_state).toBe('ACTIVE');
    const rows = await t.rt.db('audit_log').where({ citizen_id: cid, action: 'login_reset' });
    expect(rows.map((r) => r.outcome)).toEqual(['issued']);
    expect(rows[0]).toMatchObject({ actor_type: 'citizen', channel: 'ussd', phone_masked: '+2547****5678', id_hash: blind.idNumber(WANJIKU.id) });
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(JSON.stringify(rows)).not.toContain(WANJIKU.id);
  });

  test('a second reset revokes the first code', async () => {
    await reset(WANJIKU.phone, WANJIKU.id, WANJIKU.year);
    const cid = await citizenId(WANJIKU.id);
    const codes = await t.rt.db('login_codes').where({ citizen_id: cid }).orderBy('id');
    expect(codes.length).toBe(2);
    expect(codes[0].revoked_at).not.toBeNull();
    expect(codes[0].code_sealed).toBeNull();
    expect(codes[1].revoked_at).toBeNull();
  });

  test('a retried AT request (same session, same text) issues no second code and no second SMS', async () => {
    const cid = await citizenId(MUTUA.id);
    const p = new UssdPhone(t.app, MUTUA.phone);
    await p.dial();
    await p.reply('2');
    await p.reply(MUTUA.id);
    const first = await p.reply(MUTUA.year);
    const again = await p.retry();
    // The same screen, with the code masked: the session keeps no code in clear (issue 10 #9).
    expect(again).toBe(first.replace(codeOf(first) as string, '******'));
    expect(await t.rt.db('login_codes').where({ citizen_id: cid }).count({ n: '*' }).first()).toEqual({ n: '1' });
    expect(await t.rt.db('sms_outbound').where({ to_phone: MUTUA.phone }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  test('the code never reaches a log line', async () => {
    const screen = await reset(MUTUA.phone, MUTUA.id, MUTUA.year);
    const code = codeOf(screen) as string;
    expect(t.logs()).not.toContain(code);
    expect(t.logs()).not.toContain(MUTUA.id);
  });
});

describe('one transaction', () => {
  test('when the last write of a reset fails (its audit row), no code is left and no SMS is queued', async () => {
    const citizen = { phone: '+254700000501', id: '45678123' };
    const cid = await insertCitizen(t, { idNumber: citizen.id, phone: citizen.phone, lang: 'en' }); // born 1990
    const restore = await failInserts(t.rt.db, 'audit_log', "NEW.action = 'login_reset' AND NEW.outcome = 'issued'");
    let screen: string;
    try {
      screen = await reset(citizen.phone, citizen.id, '1990');
    } finally {
      await restore();
    }
    expect(codeOf(screen)).toBeUndefined(); // an apology, not a code that was rolled back
    expect(await t.rt.db('login_codes').where({ citizen_id: cid })).toEqual([]);
    expect(await t.rt.db('sms_outbound').where({ to_phone: citizen.phone })).toEqual([]);
    // The same reset once the fault is gone: one code, one SMS carrying it.
    const code = codeOf(await reset(citizen.phone, citizen.id, '1990'));
    expect(code).toMatch(/^\d{6}$/);
    const queued = await t.rt.db('sms_outbound').where({ to_phone: citizen.phone });
    expect(queued).toHaveLength(1);
    expect(queued[0].body).toContain(code);
  });
});

describe('limits', () => {
  test('three failed attempts for one ID number lock it for the day, from any phone, without saying whether it exists', async () => {
    const id = '28765432'; // Kiprono, born 1995
    for (const phone of ['+254700000201', '+254700000202', '+254700000203']) {
      await t.rt.services.preferences.setLanguage(phone, 'en');
      expect(await reset(phone, id, '1994')).toMatch(/do not match/);
    }
    // Even the right details from the right phone are refused now, at the first question.
    const p = new UssdPhone(t.app, '+254110123456');
    await p.dial();
    await p.reply('2');
    expect(await p.reply(id)).toBe('END Too many attempts. Try again tomorrow or visit a Huduma Centre with your ID card.');
    const rows = await t.rt.db('audit_log').where({ id_hash: blind.idNumber(id) }).orderBy('id');
    const kiprono = await citizenId(id);
    expect(rows.map((r) => [r.action, r.outcome, r.citizen_id === null ? null : Number(r.citizen_id)])).toEqual([
      ['login_reset', 'mismatch', kiprono],
      ['login_reset', 'mismatch', kiprono],
      ['login_reset', 'mismatch', kiprono],
      ['login_reset', 'locked', null],
    ]);
  });

  test('three failed attempts from one phone lock the phone, whatever ID numbers it tries', async () => {
    const phone = '+254700000301';
    await t.rt.services.preferences.setLanguage(phone, 'en');
    for (const id of ['11111111', '22222222', '33333333']) expect(await reset(phone, id, '1980')).toMatch(/do not match/);
    const p = new UssdPhone(t.app, phone);
    expect(await p.dial()).toBe('CON You did not finish last time.\n1. Continue where you left off\n2. Start again');
    expect(await p.reply('1')).toMatch(/^CON The details do not match our records. Try again.\nReset login code\nEnter your ID number:/);
    expect(await p.reply('44444444')).toMatch(/^END Too many attempts/);
  });

  test('the right ID number and year of birth from phones that are not the registered one count as failed attempts', async () => {
    // Otieno's details (demo.json), tried from four phones that are not his: someone who knows a
    // victim's ID number and year of birth must not get unlimited tries by changing SIM card.
    const otieno = { id: '30123456', year: '1985' };
    const phones = ['+254700000401', '+254700000402', '+254700000403', '+254700000404'];
    for (const phone of phones) await t.rt.services.preferences.setLanguage(phone, 'en');
    for (const phone of phones.slice(0, 3)) expect(await reset(phone, otieno.id, otieno.year)).toMatch(/^CON This is not the phone registered on your account/);
    const fourth = new UssdPhone(t.app, phones[3]!);
    await fourth.dial();
    await fourth.reply('2');
    expect(await fourth.reply(otieno.id)).toBe('END Too many attempts. Try again tomorrow or visit a Huduma Centre with your ID card.');
    const outcomes = (await t.rt.db('audit_log').where({ id_hash: blind.idNumber(otieno.id) }).orderBy('id')).map((r) => r.outcome);
    expect(outcomes).toEqual(['wrong_phone', 'wrong_phone', 'wrong_phone', 'locked']);
  });

  test('at most three successful resets per account per day', async () => {
    const amina = { phone: '+254733222333', id: '12345678', year: '1978' };
    await t.rt.services.preferences.setLanguage(amina.phone, 'en');
    for (let i = 0; i < 3; i++) expect(codeOf(await reset(amina.phone, amina.id, amina.year))).toBeDefined();
    expect(await reset(amina.phone, amina.id, amina.year)).toBe('END You have reset your code 3 times today. Try again tomorrow or visit a Huduma Centre.');
    const last = await t.rt.db('audit_log').where({ id_hash: blind.idNumber(amina.id) }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ action: 'login_reset', outcome: 'too_many_resets' });
  });
});

describe('one journey across USSD and SMS', () => {
  test('when the code SMS failed, the next dial from that phone shows the code first, once', async () => {
    const hussein = { phone: '+254745678901', id: '29887766', year: '1988' };
    await t.rt.services.preferences.setLanguage(hussein.phone, 'en');
    const code = codeOf(await reset(hussein.phone, hussein.id, hussein.year)) as string;
    // What a delivery report of "Failed" leaves behind (the worker and /sms/delivery set this status).
    const lc = await t.rt.db('login_codes').where({ citizen_id: await citizenId(hussein.id) }).orderBy('id', 'desc').first();
    await t.rt.db('sms_outbound').where({ id: lc.sms_id }).update({ status: 'failed' });

    const p = new UssdPhone(t.app, hussein.phone);
    const first = await p.dial();
    expect(first).toMatch(new RegExp(`^CON Your last login code could not be sent by SMS: ${code}\\. It works until \\d\\d:\\d\\d\\.\\n1\\. Main menu$`));
    expect(await p.reply('1')).toMatch(/^CON Simu e-Citizen\n1\. Application status/);
    expect(await new UssdPhone(t.app, hussein.phone).dial()).toMatch(/^CON Simu e-Citizen/);
  });
});

describe('the whole journey through the real SMS path', () => {
  test('AT reports the code SMS Failed → the next dial shows the code; a delivered code is not shown again', async () => {
    const { startSmsHarness } = await import('../helpers/sms');
    const sms = await startSmsHarness(t.rt.db, t.rt.logger, { app: t.app });
    try {
      const achieng = { phone: '+254799000111', id: '33445566', year: '2001' };
      await t.rt.services.preferences.setLanguage(achieng.phone, 'en');
      const code = codeOf(await reset(achieng.phone, achieng.id, achieng.year)) as string;
      await sms.drain();
      const [sent] = sms.fake.messagesTo(achieng.phone);
      expect(sent?.message).toContain(code);
      expect(await sms.fake.deliver(sent!.messageId, 'Failed', { failureReason: 'AbsentSubscriber' })).toBe(200);

      const p = new UssdPhone(t.app, achieng.phone);
      expect(await p.dial()).toMatch(new RegExp(`^CON Your last login code could not be sent by SMS: ${code}\\.`));

      // A second reset whose SMS is delivered: nothing to show on the next dial.
      const code2 = codeOf(await reset(achieng.phone, achieng.id, achieng.year)) as string;
      await sms.drain();
      const delivered = sms.fake.messagesTo(achieng.phone).find((m) => m.message.includes(code2));
      expect(await sms.fake.deliver(delivered!.messageId, 'Success')).toBe(200);
      expect(await new UssdPhone(t.app, achieng.phone).dial()).toMatch(/^CON Simu e-Citizen/);
    } finally {
      await sms.close();
    }
  });
});
