import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { startSmsHarness, eventually } from '../helpers/sms';
import { DEMO } from '../helpers/kit';
import { Api, GPO, OTIENO, addStaff, tokenFor } from '../staff/helpers';

/**
 * Issue 10 ("also"): the AES-GCM sealed copy of a login or consent code exists only while the code
 * is valid. Once it expires, the SMS worker's periodic sweep clears it, and so does a dial that
 * reads the citizen's codes. Time is the services' and the worker's injectable clock.
 */
const START = new Date('2026-11-30T09:00:00Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function newLoginCode(who: { phone: string; id: string }, year: string): Promise<number> {
  await t.rt.services.preferences.setLanguage(who.phone, 'en');
  const p = new UssdPhone(t.app, who.phone);
  await p.dial();
  await p.reply('2');
  await p.reply(who.id);
  expect(await p.reply(year)).toMatch(/code is \d{6}/);
  const citizen = await t.rt.db('citizens').where({ phone: who.phone }).first('id');
  const row = await t.rt.db('login_codes').where({ citizen_id: citizen.id }).orderBy('id', 'desc').first('id', 'code_sealed');
  expect(row.code_sealed).not.toBeNull();
  return row.id as number;
}

const sealedLogin = async (id: number) => (await t.rt.db('login_codes').where({ id }).first('code_sealed')).code_sealed as string | null;
const sealedConsent = async (id: number) => (await t.rt.db('consents').where({ id }).first('code_sealed')).code_sealed as string | null;

test('the SMS worker’s loop clears sealed copies once their codes expire, and only then', async () => {
  t.setNow(START);
  const wanjikuCode = await newLoginCode({ phone: DEMO.wanjiku.phone, id: DEMO.wanjiku.id }, '1990');
  const agent = new Api(t, await tokenFor(t, (await addStaff(t, 'seal.agent', 'agent', GPO)).id));
  const visit = (await agent.post('/citizens/lookup', { idNumber: OTIENO.id })).body.visit.id as number;
  expect((await agent.post(`/visits/${visit}/consent-code`)).status).toBe(202);
  expect(await sealedConsent(visit)).not.toBeNull();
  t.setNow(at(5));
  const mutuaCode = await newLoginCode({ phone: DEMO.mutua.phone, id: DEMO.mutua.id }, '1962');

  // Eleven minutes on: the first two codes expired, Mutua's (issued at +5) still runs until +15.
  t.setNow(at(11));
  const sms = await startSmsHarness(t.rt.db, t.rt.logger, { worker: { now: () => t.now().getTime() } });
  try {
    sms.worker.start();
    await eventually(async () => (await sealedLogin(wanjikuCode)) === null && (await sealedConsent(visit)) === null);
    expect(await sealedLogin(mutuaCode)).not.toBeNull();
  } finally {
    await sms.close();
  }
});

test('a dial that reads a citizen’s codes clears that citizen’s expired sealed copies', async () => {
  t.setNow(at(100));
  const hussein = { phone: DEMO.hussein.phone, id: DEMO.hussein.id };
  const code = await newLoginCode(hussein, '1988');
  const row = await t.rt.db('login_codes').where({ id: code }).first('sms_id');
  await t.rt.db('sms_outbound').where({ id: row.sms_id }).update({ status: 'failed' });

  t.setNow(at(111));
  expect(await t.rt.services.notices.undeliveredCode(hussein.phone)).toBeNull();
  expect(await sealedLogin(code)).toBeNull();
  t.setNow(null);
});
