import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_WEBHOOK_SECRET } from '../helpers/env';
import { runScript } from '../../src/tools/simulate';

/** The terminal phone (`npm run simulate`) driven by scripted lines against the real gateway on a real port. */
describe('npm run simulate', () => {
  let t: TestApp;
  let server: Server;
  let url: string;

  const listen = (s: Server) =>
    new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const close = (s: Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });

  beforeAll(async () => {
    t = await createTestApp();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ussd?token=${TEST_WEBHOOK_SECRET}`;
  });
  afterAll(async () => {
    await close(server);
    await t.close();
  });

  const eventsOf = (sessionId: string) => t.rt.db('ussd_events').where({ session_id: sessionId }).select('status', 'hops');

  test('a whole session to END: screens, the END, and a Success notification the gateway records', async () => {
    const phone = '+254700000002'; // no applications: "My applications" ends the session
    await t.rt.services.preferences.setLanguage(phone, 'en');
    const r = await runScript(['1', '1', 'n'], { url, phone });
    expect(r.screens.map((s) => s.kind)).toEqual(['CON', 'CON', 'END']);
    expect(r.screens[0]?.text).toMatch(/^Simu e-Citizen\n1\. Application status/);
    expect(r.screens[2]?.text).toMatch(/^No applications are registered to this phone/);
    expect(r.transcript).toContain('│ No applications are registered');
    expect(r.transcript).toContain('again? [Y/n] n');

    expect(r.events).toHaveLength(1);
    const e = r.events[0]!;
    expect(e.answered).toBe(200);
    expect(e.fields).toMatchObject({ status: 'Success', hopsCount: '3', input: '1*1', phoneNumber: phone, networkCode: '63902' });
    expect(e.fields.lastAppResponse).toMatch(/^END No applications/);
    expect(e.fields.sessionId).toMatch(/^ATUid_[0-9a-f]{32}$/);
    expect(await eventsOf(e.fields.sessionId!)).toEqual([{ status: 'Success', hops: 3 }]);
  });

  test('/quit mid-session posts Incomplete, and a redial from that phone is offered to continue', async () => {
    const phone = '+254799000111';
    await t.rt.services.preferences.setLanguage(phone, 'en');
    const first = await runScript(['1', '2', '/quit'], { url, phone });
    expect(first.screens.map((s) => s.kind)).toEqual(['CON', 'CON', 'CON']);
    expect(first.events.map((e) => [e.fields.status, e.fields.hopsCount, e.fields.input])).toEqual([['Incomplete', '3', '1*2']]);
    expect(await eventsOf(first.screens[0]!.sessionId)).toEqual([{ status: 'Incomplete', hops: 3 }]);

    const again = await runScript(['1', '1026111105122', '/quit'], { url, phone });
    expect(again.screens[0]?.text).toContain('You did not finish last time.');
    expect(again.screens[1]?.text).toContain('Enter the 13-digit application number');
    expect(again.screens[0]?.sessionId).not.toBe(first.screens[0]?.sessionId);
  });

  test('/redial hangs up (Incomplete) and dials a new session; y after END dials again', async () => {
    const phone = '+254700000002';
    await t.rt.services.preferences.setLanguage(phone, 'en');
    const r = await runScript(['1', '/redial', '1', '1', 'y', '/quit'], { url, phone, eventsUrl: null });
    const sessions = [...new Set(r.screens.map((s) => s.sessionId))];
    expect(sessions).toHaveLength(3);
    expect(r.screens.map((s) => s.kind)).toEqual(['CON', 'CON', 'CON', 'CON', 'END', 'CON']);
    expect(r.events).toEqual([]);
  });

  test('a wrong token is a failed session (HTTP 401), reported Failed', async () => {
    const bad = url.replace(/token=.*/, 'token=wrong-token-0123456789');
    const r = await runScript(['n'], { url: bad, phone: '+254712345678', eventsUrl: null });
    expect(r.screens).toEqual([expect.objectContaining({ kind: 'FAILED', text: 'HTTP 401: unauthorized' })]);
    expect(r.transcript).toContain('Connection problem or');
  });

  test('a body not starting with CON/END, and no answer within the timeout, are failed sessions', async () => {
    const garbage = createServer((_req, res) => res.end('Hello there'));
    const silent = createServer(() => undefined);
    const [gPort, sPort] = [await listen(garbage), await listen(silent)];
    try {
      const g = await runScript([], { url: `http://127.0.0.1:${gPort}/ussd`, phone: '+254712345678', eventsUrl: null });
      expect(g.screens[0]).toMatchObject({ kind: 'FAILED', text: expect.stringContaining('does not start with "CON " or "END "') });
      const started = Date.now();
      const s = await runScript([], { url: `http://127.0.0.1:${sPort}/ussd`, phone: '+254712345678', eventsUrl: null, timeoutMs: 300 });
      expect(s.screens[0]).toMatchObject({ kind: 'FAILED', text: 'no answer within 300 ms' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await Promise.all([close(garbage), close(silent)]);
    }
  });
});
