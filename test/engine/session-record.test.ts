import { CODE_MASK } from '../../src/engine/one-time-codes';
import type { SessionRecord } from '../../src/engine/session-store';
import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, hop, insertCitizen, phoneForms, readRecord, sessionKey } from '../helpers/kit';
import { dumpStore, rewriteKeepingTtl, storeTtlS } from '../helpers/store';
import { flows } from '../../flows';

/**
 * Engine rule 1: one actor per session, rehydrated from its snapshot in Redis on every hop and
 * saved after the hop settles, with a TTL; a versioned envelope, and a snapshot from another
 * version (or one that cannot be read) restarts the citizen politely instead of crashing.
 */
describe('engine rule 1: the session lives in Redis as a small versioned snapshot', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const MAIN_EN = 'Simu e-Citizen\n1. Application status\n2. Reset login code\n3. Book Huduma appointment\n4. My appointments\n5. Language';

  test('each hop saves the snapshot under the session key with the session TTL (the resume TTL while a redial may continue it), after lookups have settled', async () => {
    const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
    await phone.dial();
    const key = sessionKey(t, phone.sessionId);
    // On the main menu nothing is worth continuing: the record lives SESSION_TTL_S.
    const menuTtl = await storeTtlS(t, key);
    expect(menuTtl).toBeGreaterThan(t.config.SESSION_TTL_S - 5);
    expect(menuTtl).toBeLessThanOrEqual(t.config.SESSION_TTL_S);
    await phone.reply('1');
    await phone.reply('2');
    // Inside a flow the phone's resume pointer names this record, which then lives RESUME_TTL_S.
    const ttl = await storeTtlS(t, key);
    expect(ttl).toBeGreaterThan(t.config.RESUME_TTL_S - 5);
    expect(ttl).toBeLessThanOrEqual(t.config.RESUME_TTL_S);

    const record = await readRecord(t, phone.sessionId);
    expect(record).toMatchObject({ v: 1, hops: 3, lang: 'en', state: { flow: 'check-status', version: flows['check-status'].version } });
    expect((record?.state.snapshot as { value: unknown }).value).toBe('askReference');

    // A hop that ran a lookup persists the state after it, never a child still running.
    await phone.reply('1026111105122'); // someone else's: the lookup runs, then askId
    const after = await readRecord(t, phone.sessionId);
    const snap = after?.state.snapshot as { value: unknown; children: Record<string, unknown>; status: string };
    expect(snap.value).toBe('askId');
    expect(snap.status).toBe('active');
    expect(snap.children).toEqual({});
  });

  test('the record stays under 2 KB, even holding the longest list (8 applications)', async () => {
    const phone = new UssdPhone(t.app, DEMO.hussein.phone);
    await phone.dial();
    await phone.reply('1');
    const list = await phone.reply('1');
    expect(list).toMatch(/^CON /);
    const raw = await t.rt.store.get(sessionKey(t, phone.sessionId));
    expect(Buffer.byteLength(raw ?? '')).toBeLessThan(2048);
    const all = await dumpStore(t);
    for (const { key, value } of all) expect({ key, bytes: Buffer.byteLength(value) < 2048 }).toEqual({ key, bytes: true });
    await phone.reply('00');
  });

  test('no phone number and no ID number anywhere in Redis, after sessions that typed ID numbers', async () => {
    // Otieno asks about Wanjiku's passport and types her ID number (ends with END).
    const otieno = new UssdPhone(t.app, DEMO.otieno.phone);
    await otieno.dial();
    await otieno.reply('1');
    await otieno.reply('2');
    await otieno.reply(DEMO.wanjiku.passport);
    expect(await otieno.reply(DEMO.wanjiku.id)).toMatch(/^(CON|END) Pasipoti 1026100200488\n/);

    // Achieng's ID number typed from a stranger's phone.
    const stranger = new UssdPhone(t.app, '+254700000401');
    await t.rt.services.preferences.setLanguage(stranger.phoneNumber, 'en');
    await stranger.dial();
    await stranger.reply('1');
    await stranger.reply('2');
    await stranger.reply(DEMO.achieng.passport);
    expect(await stranger.reply(DEMO.achieng.id)).toMatch(/^(CON|END) Passport 1026111105122\n/);
    await stranger.reply('00');

    // Hussein re-verifies with his ID number on resume and is left on his list (session open, resume pointer set).
    const hussein = new UssdPhone(t.app, DEMO.hussein.phone);
    await t.rt.services.preferences.setLanguage(hussein.phoneNumber, 'en');
    await hussein.dial();
    await hussein.reply('1');
    await hussein.reply('1');
    await hussein.dial(); // dropped; redial
    await hussein.reply('1'); // continue
    expect(await hussein.reply(DEMO.hussein.id)).toMatch(/^CON Your applications:/);

    const everything = (await dumpStore(t)).map(({ key, value }) => `${key} ${value}`).join('\n');
    expect(everything.length).toBeGreaterThan(0);
    const secrets = [
      ...[DEMO.otieno.phone, DEMO.hussein.phone, stranger.phoneNumber].flatMap(phoneForms),
      DEMO.wanjiku.id, DEMO.achieng.id, DEMO.hussein.id,
    ];
    for (const s of secrets) expect({ secret: s, found: everything.includes(s) }).toEqual({ secret: s, found: false });
    // The phone may appear neither with spaces nor split by a separator.
    expect(everything).not.toMatch(/(?<![\dA-Za-z])(?:\+?254|0)[17]\d{8}(?![\dA-Za-z])/);
  });

  test('an ended session keeps only its last reply: no flow snapshot (whose context held the reset) stays in Redis', async () => {
    const phone = new UssdPhone(t.app, '+254700000701');
    await insertCitizen(t, { idNumber: '45678124', phone: phone.phoneNumber, lang: 'en' }); // born 1990
    await phone.dial();
    await phone.reply('2');
    const before = await t.rt.store.get(sessionKey(t, phone.sessionId));
    expect(before).toMatch(/"context"/); // mid-flow, the snapshot is there (so the check below can fail)
    await phone.reply('45678124');
    const end = await phone.reply('1990');
    expect(end).toMatch(/^END .*code is \d{6}/);

    const raw = await t.rt.store.get(sessionKey(t, phone.sessionId));
    expect(raw).not.toBeNull(); // kept for AT's retries …
    expect(raw).not.toMatch(/"context"/); // … without the flow's state
    const record = await readRecord(t, phone.sessionId);
    expect((record?.state as { snapshot?: unknown } | undefined)?.snapshot ?? null).toBeNull();
    // A retried request still gets the same answer, with the code masked (the record keeps no code in clear).
    expect(await phone.retry()).toBe(end.replace(/\d{6}/, CODE_MASK));
  });

  describe('a snapshot the engine cannot use restarts the citizen politely, never a crash', () => {
    const tamper: Array<[string, (state: Record<string, unknown>) => Record<string, unknown>]> = [
      ['from another version of the flow', (s) => ({ ...s, version: (s.version as number) + 100 })],
      ['naming a state that does not exist', (s) => ({ ...s, snapshot: { ...(s.snapshot as object), value: 'noSuchState' } })],
      ['naming a flow that does not exist', (s) => ({ ...s, flow: 'no-such-flow' })],
      ['with no snapshot at all', (s) => ({ ...s, snapshot: null })],
      ['with a snapshot that is not an object', (s) => ({ ...s, snapshot: 'garbage' })],
    ];

    test.each(tamper)('a record %s', async (_label, change) => {
      const phone = new UssdPhone(t.app, DEMO.wanjiku.phone);
      await phone.dial();
      await phone.reply('1');
      const key = sessionKey(t, phone.sessionId);
      const record = JSON.parse((await t.rt.store.get(key)) as string) as { state: Record<string, unknown> };
      await rewriteKeepingTtl(t, key, JSON.stringify({ ...record, state: change(record.state) }));

      // The input was meant for a screen that no longer exists: it is not applied to the main menu.
      expect(await phone.reply('2')).toBe(`CON Sorry, we had to start again.\n${MAIN_EN}`);
      // And the session goes on normally from there.
      expect(await phone.reply('1')).toBe('CON Application status\n1. My applications\n2. Enter an application number\n0 Back\n00 Home');
      await phone.reply('00');
    });

    test('in the session language (Kiswahili)', async () => {
      const phone = new UssdPhone(t.app, DEMO.amina.phone);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'sw');
      await phone.dial();
      await phone.reply('1');
      const key = sessionKey(t, phone.sessionId);
      const record = JSON.parse((await t.rt.store.get(key)) as string) as { state: { version: number } };
      record.state.version += 1;
      await rewriteKeepingTtl(t, key, JSON.stringify(record));
      expect(await phone.reply('1')).toMatch(/^CON Samahani, tumeanza upya\.\nSimu e-Citizen\n1\. Hali ya ombi/);
      await phone.reply('00');
    });

    test('a record that is not JSON at all answers 200 with an END, never a 5xx', async () => {
      const sessionId = `ATUid_${randomBytes(8).toString('hex')}`;
      await t.rt.store.set(sessionKey(t, sessionId), '{not json', 60_000);
      const res = await hop(t.app, sessionId, DEMO.wanjiku.phone, '1');
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/^(CON|END) /);
    });

    test('a resume pointer from another version: Continue starts again politely', async () => {
      const phone = new UssdPhone(t.app, DEMO.kiprono.phone);
      await phone.dial();
      await phone.reply('1');
      await phone.reply('2'); // dropped on the number prompt
      // The pointer names the dropped session; the state it continues is that session's record.
      const pointers = (await dumpStore(t)).filter((k) => k.key.includes('ussd:resume:') && k.value.includes(phone.sessionId));
      expect(pointers).toHaveLength(1);
      const record = (await readRecord(t, phone.sessionId)) as SessionRecord;
      record.state.version += 100;
      await rewriteKeepingTtl(t, sessionKey(t, phone.sessionId), JSON.stringify(record));
      expect(await phone.dial()).toBe('CON You did not finish last time.\n1. Continue where you left off\n2. Start again');
      expect(await phone.reply('1')).toBe(`CON Sorry, we had to start again.\n${MAIN_EN}`);
      await phone.reply('00');
    });
  });
});
