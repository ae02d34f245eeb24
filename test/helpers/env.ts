/**
 * Where the tests find PostgreSQL and Redis: the local services, unless TEST_PG_URL / TEST_REDIS_URL
 * say otherwise. With no PostgreSQL on 5432, global-setup.ts starts an embedded one and sets TEST_PG_URL.
 */
export const TEST_ID_HASH_KEY = 'test-id-hash-key-0123456789';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

const pgBase = () => process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(pgBase());
  url.pathname = `/${name}`;
  return url.toString();
}

export const adminUrl = () => databaseUrl('postgres');
export const redisUrl = () => process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type TestStore = 'redis' | 'postgres';

/**
 * The store the whole suite runs against: TEST_STORE (redis or postgres), else Redis when it
 * answers (global setup probes it), else the Postgres store.
 */
export function testStore(): TestStore {
  const chosen = process.env.TEST_STORE;
  if (chosen === 'redis' || chosen === 'postgres') return chosen;
  if (chosen) throw new Error(`TEST_STORE must be redis or postgres, not ${chosen}`);
  return process.env.SIMU_TEST_REDIS === 'up' ? 'redis' : 'postgres';
}

/** The stores the store contract (test/store/contract.test.ts) runs against: TEST_STORE alone when set, else every store that answers. */
export function availableStores(): TestStore[] {
  if (process.env.TEST_STORE) return [testStore()];
  return process.env.SIMU_TEST_REDIS === 'up' ? ['redis', 'postgres'] : ['postgres'];
}

/** The environment that puts a gateway or worker on the test store. */
export function storeEnv(kind: TestStore = testStore()): Record<string, string> {
  return kind === 'redis' ? { STORE: 'redis', REDIS_URL: redisUrl() } : { STORE: 'postgres' };
}
