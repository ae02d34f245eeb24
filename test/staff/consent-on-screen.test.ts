import { createTestApp, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { Api, GPO, OTIENO, addStaff, tokenFor } from './helpers';

/**
 * Issue 6: the consent code goes by SMS to the citizen's registered phone "and shows it on screen if
 * the citizen dials the short code at that moment". The citizen at the counter whose SMS is slow
 * dials, reads the code off the screen, and the agent types it.
 */
let t: TestApp;
let agent: Api;
beforeAll(async () => {
  t = await createTestApp();
  agent = new Api(t, await tokenFor(t, (await addStaff(t, 'screen.agent', 'agent', GPO)).id));
});
afterAll(async () => t.close());

test('a pending consent code is shown first on the citizen’s next dial, in their language; once verified it is gone', async () => {
  const visit = (await agent.post('/citizens/lookup', { idNumber: OTIENO.id })).body.visit.id as number;
  expect((await agent.post(`/visits/${visit}/consent-code`)).status).toBe(202);

  // Otieno's saved language is Kiswahili.
  const phone = new UssdPhone(t.app, OTIENO.phone);
  const screen = await phone.dial();
  const m = /^CON Huduma Centre GPO inaomba idhini yako\. Uko kaunta\? Msomee afisa nambari hii: (\d{6})\. Kama sivyo, usimpe mtu yeyote\.\n1\. Menyu kuu$/.exec(screen);
  expect(m).not.toBeNull();
  expect(await phone.reply('1')).toMatch(/^CON Simu e-Citizen\n1\. Hali ya ombi/);

  // Someone else's phone sees nothing of it.
  expect(await new UssdPhone(t.app, '+254700000801').dial()).not.toMatch(/idhini|consent/);

  const ok = await agent.post(`/visits/${visit}/consent`, { code: m?.[1] });
  expect(ok.status).toBe(200);
  expect(ok.body.visit.state).toBe('open');
  expect(await new UssdPhone(t.app, OTIENO.phone).dial()).toMatch(/^CON Simu e-Citizen/);
  expect((await t.rt.db('consents').where({ id: visit }).first()).code_sealed).toBeNull();
});

test('a visit closed before the code is used takes the code off the screen', async () => {
  const other = new Api(t, await tokenFor(t, (await addStaff(t, 'screen.agent2', 'agent', GPO)).id));
  const visit = (await other.post('/citizens/lookup', { idNumber: OTIENO.id })).body.visit.id as number;
  expect((await other.post(`/visits/${visit}/consent-code`)).status).toBe(202);
  expect(await new UssdPhone(t.app, OTIENO.phone).dial()).toMatch(/inaomba idhini yako/);
  const closed = await other.post(`/visits/${visit}/close`);
  expect([200, 204]).toContain(closed.status);
  expect(await new UssdPhone(t.app, OTIENO.phone).dial()).toMatch(/^CON Simu e-Citizen/);
});
