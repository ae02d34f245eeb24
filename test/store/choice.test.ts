import { buildApp, createTestDatabase } from '../helpers/test-app';
import { redisUrl } from '../helpers/env';
import { redisAnswers } from '../helpers/global-setup';

/**
 * Which store a gateway uses (STORE, REDIS_URL, and whether Redis answers on the default address),
 * and that it says so at start. A REDIS_URL that does not answer is refused: see the outage tests.
 */
describe('the store is chosen once at start, and logged', () => {
  let dbUrl: string;
  beforeAll(async () => {
    dbUrl = await createTestDatabase();
  });

  const startWith = async (env: Record<string, string>) => {
    const built = await buildApp({ DATABASE_URL: dbUrl, ...env });
    await built.rt.close();
    const line = built.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; reason?: string }).find((l) => l.message.startsWith('store: '));
    return { kind: built.rt.store.kind, line };
  };

  test('STORE=postgres: the Postgres store, even with Redis configured', async () => {
    const { kind, line } = await startWith({ STORE: 'postgres', REDIS_URL: redisUrl() });
    expect(kind).toBe('postgres');
    expect(line).toMatchObject({ message: 'store: postgres', reason: 'STORE=postgres' });
  });

  (process.env.SIMU_TEST_REDIS === 'up' ? test : test.skip)('STORE=auto with REDIS_URL set: Redis', async () => {
    const { kind, line } = await startWith({ STORE: 'auto', REDIS_URL: redisUrl() });
    expect(kind).toBe('redis');
    expect(line).toMatchObject({ message: 'store: redis', reason: 'REDIS_URL is set' });
  });

  test('STORE=auto without REDIS_URL: Redis if it answers on 127.0.0.1:6379, else the Postgres store', async () => {
    // An empty REDIS_URL is an unset one (buildApp would otherwise put the test store's in).
    const { kind, line } = await startWith({ STORE: 'auto', REDIS_URL: '' });
    const local = await redisAnswers('redis://127.0.0.1:6379'); // the address STORE=auto probes
    expect(kind).toBe(local ? 'redis' : 'postgres');
    expect(line?.reason).toBe(local ? 'Redis answers on the default address' : 'no REDIS_URL and nothing answers on 127.0.0.1:6379');
  });
});
