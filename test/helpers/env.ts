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
