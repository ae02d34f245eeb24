import { randomBytes } from 'node:crypto';
import net from 'node:net';
import request from 'supertest';
import { Client } from 'pg';
import { buildApp, createTestApp, createTestDatabase, type HandBuilt, type TestApp } from '../helpers/test-app';
import { UssdPhone } from '../helpers/phone';
import { DEMO, hop } from '../helpers/kit';
import { redisUrl, testStore } from '../helpers/env';

/**
 * Engine rule 5: each hop has a deadline (USSD_HOP_DEADLINE_MS, default 2000). A slow lookup, or
 * Postgres or Redis failing, answers 200 `END` with an apology in the session's language within
 * the deadline — never a 5xx, never a hang — and the error is logged with the session id.
 * "Within the deadline" is asserted as < deadline + 1500 ms: the margin is for supertest and a
 * busy 2-core machine, not for the engine.
 */
const APOLOGY_EN = 'END Sorry, Simu is not available right now. Please try again in a few minutes.';
const APOLOGY_SW = 'END Samahani, Simu haipatikani kwa sasa. Tafadhali jaribu tena baada ya dakika chache.';
const MARGIN_MS = 1500;
/** Collected: a status that no longer changes, so its answer ends the session. */
const HUSSEIN_PASSPORT = '1026091006001';
const newSession = () => `ATUid_${randomBytes(12).toString('hex')}`;
/** With the Postgres store, sessions live in the database that goes down; with Redis they do not. */
const STORE = testStore();

/** A TCP server that accepts connections and never says a word: a database that hangs. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/**
 * A TCP proxy in front of a shared server (Redis, or PostgreSQL for the Postgres store) that the
 * test can cut and restore: the shared server itself stays up for everyone else.
 */
async function tcpProxy(targetUrl: string, defaultPort: number): Promise<{ port: number; cut: () => Promise<void>; restore: () => Promise<void>; close: () => Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || defaultPort), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => (server as net.Server).listen(port, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  };
  const cut = () => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    if (server) server.close(() => r());
    else r();
    server = null;
  });
  await listen();
  return { port, cut, restore: listen, close: cut };
}

async function waitUntil(cond: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition never held');
}

describe('engine rule 5: a deadline on every hop; outages answer END with an apology, never a 5xx', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  describe('Postgres unreachable (connection refused)', () => {
    let dead: HandBuilt;
    beforeAll(async () => {
      // The real app whose database is a closed port; it shares the healthy app's store prefix, so
      // a session can start on one and go on on the other, as if Postgres went down mid-session
      // (with the Postgres store, the sessions are in the database that is down).
      dead = await buildApp({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x', REDIS_PREFIX: t.config.REDIS_PREFIX });
    });
    afterAll(async () => dead.rt.close());

    test('a first dial answers the apology at once, in English (the language is in Postgres)', async () => {
      const sessionId = newSession();
      const res = await hop(dead.app, sessionId, '+254700000801', '');
      expect(res.status).toBe(200);
      expect(res.body).toBe(APOLOGY_EN);
      expect(res.ms).toBeLessThan(dead.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);
      const line = dead.logs().split('\n').find((l) => l.includes(sessionId));
      expect(JSON.parse(line as string)).toMatchObject({ level: 'error', message: 'ussd hop failed', sessionId, cause: 'error' });
    });

    (STORE === 'redis' ? test : test.skip)('Redis store: mid-session, in the session language; a hop that needs no database still works; the citizen can resume once it is back', async () => {
      const sessionId = newSession();
      const amina = DEMO.amina.phone;
      await t.rt.services.preferences.setLanguage(amina, 'sw');
      await hop(t.app, sessionId, amina, '');
      expect((await hop(t.app, sessionId, amina, '1')).body).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');

      // "My applications" needs Postgres: the apology, in Kiswahili.
      const failed = await hop(dead.app, sessionId, amina, '1*1');
      expect(failed).toMatchObject({ status: 200, body: APOLOGY_SW });
      expect(failed.ms).toBeLessThan(dead.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);

      // Postgres is back (the healthy app): the redial offers to continue where the citizen was.
      const phone = new UssdPhone(t.app, amina);
      expect(await phone.dial()).toBe('CON Hukumaliza mara iliyopita.\n1. Endelea ulipoachia\n2. Anza upya');
      expect(await phone.reply('1')).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
      expect(await phone.reply('1')).toBe('CON Maombi yako:\n1. Cheti cha kuzaliwa: Limekataliwa\n0 Rudi\n00 Mwanzo');
      await phone.reply('00');

      // A hop that needs no database (status menu → number prompt) is served even with Postgres down.
      const other = newSession();
      const mutua = DEMO.mutua.phone;
      await hop(t.app, other, mutua, '');
      await hop(t.app, other, mutua, '1');
      expect((await hop(dead.app, other, mutua, '1*2')).body).toBe('CON Enter the 13-digit application number:\n0 Back\n00 Home');
      expect((await hop(dead.app, other, mutua, '1*2*2026101500091')).body).toBe(APOLOGY_EN);
    });

    (STORE === 'postgres' ? test : test.skip)('Postgres store: mid-session, the apology in English (the session and the saved language are both in the database that is down); the citizen can resume once it is back', async () => {
      const sessionId = newSession();
      const amina = DEMO.amina.phone;
      await t.rt.services.preferences.setLanguage(amina, 'sw');
      await hop(t.app, sessionId, amina, '');
      expect((await hop(t.app, sessionId, amina, '1')).body).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');

      const failed = await hop(dead.app, sessionId, amina, '1*1');
      expect(failed).toMatchObject({ status: 200, body: APOLOGY_EN });
      expect(failed.ms).toBeLessThan(dead.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);
      // Even a hop that needs no lookup fails: its session cannot be read.
      expect((await hop(dead.app, sessionId, amina, '1*2')).body).toBe(APOLOGY_EN);

      const phone = new UssdPhone(t.app, amina);
      expect(await phone.dial()).toBe('CON Hukumaliza mara iliyopita.\n1. Endelea ulipoachia\n2. Anza upya');
      expect(await phone.reply('1')).toBe('CON Hali ya ombi\n1. Maombi yangu\n2. Weka nambari ya ombi\n0 Rudi\n00 Mwanzo');
      expect(await phone.reply('1')).toBe('CON Maombi yako:\n1. Cheti cha kuzaliwa: Limekataliwa\n0 Rudi\n00 Mwanzo');
      await phone.reply('00');
    });

    test('readyz says which dependency is down (503); healthz stays 200', async () => {
      const ready = await request(dead.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual(STORE === 'redis' ? { postgres: 'down', redis: 'ok' } : { postgres: 'down', store: 'down' });
      expect((await request(dead.app).get('/healthz')).status).toBe(200);
    });
  });

  test('Postgres that accepts connections and never answers: the apology at the default deadline (2000 ms)', async () => {
    const silent = await silentServer();
    const hung = await buildApp({ DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/x`, REDIS_PREFIX: t.config.REDIS_PREFIX });
    try {
      expect(hung.config.USSD_HOP_DEADLINE_MS).toBe(2000);
      const sessionId = newSession();
      const res = await hop(hung.app, sessionId, '+254700000802', '');
      expect(res).toMatchObject({ status: 200, body: APOLOGY_EN });
      expect(res.ms).toBeLessThan(2000 + MARGIN_MS);
      expect(hung.logs()).toContain(sessionId);
    } finally {
      await silent.close();
      await hung.rt.close();
    }
  });

  describe('a slow lookup: the applications table locked by another connection', () => {
    let locker: Client;
    beforeEach(async () => {
      locker = new Client({ connectionString: t.config.DATABASE_URL });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE applications IN ACCESS EXCLUSIVE MODE');
    });
    afterEach(async () => {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    });

    test('the apology arrives at the deadline; after the lock is gone, the redial continues on the screen before the failure', async () => {
      const phone = new UssdPhone(t.app, DEMO.hussein.phone);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'en');
      await phone.dial();
      await phone.reply('1');
      await phone.reply('2');
      const started = Date.now();
      expect(await phone.reply(HUSSEIN_PASSPORT)).toBe(APOLOGY_EN);
      const ms = Date.now() - started;
      expect(ms).toBeGreaterThanOrEqual(t.config.USSD_HOP_DEADLINE_MS - 50); // it did wait for the lookup
      expect(ms).toBeLessThan(t.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);
      const line = t.logs().split('\n').find((l) => l.includes(phone.sessionId) && l.includes('ussd hop failed'));
      expect(JSON.parse(line as string)).toMatchObject({ level: 'error', cause: 'deadline', sessionId: phone.sessionId });

      await locker.query('COMMIT');
      expect(await phone.dial()).toBe('CON You did not finish last time.\n1. Continue where you left off\n2. Start again');
      expect(await phone.reply('1')).toBe('CON Enter the 13-digit application number:\n0 Back\n00 Home');
      expect(await phone.reply(HUSSEIN_PASSPORT)).toBe('END Passport 1026091006001\nCollected');
    });

    test('in Kiswahili for a Kiswahili session', async () => {
      const phone = new UssdPhone(t.app, DEMO.otieno.phone);
      await t.rt.services.preferences.setLanguage(phone.phoneNumber, 'sw');
      await phone.dial();
      await phone.reply('1');
      const started = Date.now();
      expect(await phone.reply('1')).toBe(APOLOGY_SW);
      expect(Date.now() - started).toBeLessThan(t.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);
      await locker.query('COMMIT');
      expect(await phone.dial()).toBe('CON Hukumaliza mara iliyopita.\n1. Endelea ulipoachia\n2. Anza upya');
      expect(await phone.reply('2')).toMatch(/^CON Simu e-Citizen\n1\. Hali ya ombi/);
    });
  });

  describe('Redis', () => {
    test('unreachable at start: the runtime refuses to start (the process exits with a message; nothing is served half-working)', async () => {
      await expect(buildApp({ DATABASE_URL: t.config.DATABASE_URL, STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' })).rejects.toThrow(/ECONNREFUSED|connect|closed/i);
    });

    test('a REDIS_URL that is set but does not answer is an error with STORE=auto too, never a silent switch to the Postgres store', async () => {
      await expect(buildApp({ DATABASE_URL: t.config.DATABASE_URL, STORE: 'auto', REDIS_URL: 'redis://127.0.0.1:1' })).rejects.toThrow(/ECONNREFUSED|connect|closed/i);
    });
  });

  describe(`the ${STORE} store lost mid-session`, () => {
    test('the apology at once, readyz 503; when it comes back the session can be resumed', async () => {
      // Redis: a proxy in front of Redis. The Postgres store: a proxy in front of PostgreSQL, which
      // then carries the database and the store both (a Postgres-only deployment losing its database).
      const proxy = STORE === 'redis' ? await tcpProxy(redisUrl(), 6379) : await tcpProxy(t.config.DATABASE_URL, 5432);
      const dbUrl = new URL(await createTestDatabase());
      if (STORE === 'postgres') dbUrl.port = String(proxy.port);
      const viaProxy = await buildApp({
        DATABASE_URL: dbUrl.toString(),
        ...(STORE === 'redis' ? { REDIS_URL: `redis://127.0.0.1:${proxy.port}` } : {}),
        REDIS_PREFIX: `${t.config.REDIS_PREFIX}proxy:`,
      });
      try {
        const sessionId = newSession();
        const phone = DEMO.wanjiku.phone;
        await hop(viaProxy.app, sessionId, phone, '');
        expect((await hop(viaProxy.app, sessionId, phone, '1')).body).toMatch(/^CON Application status\n/);

        await proxy.cut();
        const failed = await hop(viaProxy.app, sessionId, phone, '1*2');
        expect(failed).toMatchObject({ status: 200, body: APOLOGY_EN });
        expect(failed.ms).toBeLessThan(viaProxy.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);
        const ready = await request(viaProxy.app).get('/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body).toEqual(STORE === 'redis' ? { postgres: 'ok', redis: 'down' } : { postgres: 'down', store: 'down' });
        expect(viaProxy.logs()).toContain(sessionId);
        // The session's language lives in the store; with Redis down the phone's saved language
        // comes from Postgres instead; with the Postgres store, that is down too: English.
        const amina = await hop(viaProxy.app, newSession(), DEMO.amina.phone, '');
        expect(amina).toMatchObject({ status: 200, body: STORE === 'redis' ? APOLOGY_SW : APOLOGY_EN });
        expect(amina.ms).toBeLessThan(viaProxy.config.USSD_HOP_DEADLINE_MS + MARGIN_MS);

        await proxy.restore();
        await waitUntil(async () => (await request(viaProxy.app).get('/readyz')).status === 200);
        const again = newSession();
        expect((await hop(viaProxy.app, again, phone, '')).body).toBe('CON You did not finish last time.\n1. Continue where you left off\n2. Start again');
        expect((await hop(viaProxy.app, again, phone, '1')).body).toMatch(/^CON Application status\n/);
      } finally {
        await viaProxy.rt.store.clear().catch(() => undefined);
        await viaProxy.rt.close();
        await proxy.close();
      }
    });
  });
});
