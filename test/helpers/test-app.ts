import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Client } from 'pg';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config';
import { createRuntime, type Runtime } from '../../src/runtime';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/log';
import { TEST_ID_HASH_KEY, TEST_WEBHOOK_SECRET, adminUrl, databaseUrl, storeEnv } from './env';

export interface TestApp {
  app: Express;
  rt: Runtime;
  config: Config;
  /** Every log line the app wrote, as JSON text. */
  logs: () => string;
  /** Stops the services' clock at an instant (ISO text or Date); null: the real clock again. */
  setNow(at: Date | string | null): void;
  /** The services' clock (for an SMS worker that should keep the same time). */
  now(): Date;
  close(): Promise<void>;
}

/** A copy of the run's template database for one test file. Retries: Postgres refuses two copies of one template at once. */
export async function createTestDatabase(): Promise<string> {
  const runId = process.env.SIMU_TEST_RUN;
  if (!runId) throw new Error('SIMU_TEST_RUN is not set: run the tests through jest (global setup)');
  const name = `simu_test_${runId}_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "simu_test_${runId}_tpl"`);
        return databaseUrl(name);
      } catch (err) {
        if (attempt > 50 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await client.end();
  }
}

export interface HandBuilt {
  app: Express;
  rt: Runtime;
  config: Config;
  logs: () => string;
}

/**
 * The real runtime and app over the given environment, with its logs kept for the test, and
 * without creating a database first: for a DATABASE_URL that points at nothing, or a store behind
 * a proxy the test can cut. Share `REDIS_PREFIX` with a healthy test app to continue its sessions.
 * `now`: the services' clock.
 */
export async function buildApp(env: Record<string, string>, now?: () => Date): Promise<HandBuilt> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ...storeEnv(), // TEST_STORE: Redis or the Postgres store
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ID_HASH_KEY: TEST_ID_HASH_KEY,
    LOG_LEVEL: 'debug',
    ...env,
  });
  const sink = new PassThrough();
  const chunks: string[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c.toString()));
  const rt = await createRuntime(config, { logger: createLogger(config.LOG_LEVEL, sink), ...(now ? { now } : {}) });
  return { app: createApp(rt), rt, config, logs: () => chunks.join('') };
}

/** The real app over its own database copy and its own store key prefix. */
export async function createTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const prefix = `simu-test:${process.env.SIMU_TEST_RUN}:${randomBytes(4).toString('hex')}:`;
  let fixed: Date | null = null;
  const now = () => (fixed ? new Date(fixed.getTime()) : new Date());
  const built = await buildApp({ DATABASE_URL: await createTestDatabase(), REDIS_PREFIX: prefix, ...overrides }, now);
  const { rt } = built;
  return {
    ...built,
    setNow(at) {
      fixed = at === null ? null : new Date(at);
    },
    now,
    async close() {
      await rt.store.clear();
      await rt.close();
    },
  };
}
