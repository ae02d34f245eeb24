import type { Knex } from 'knex';
import { loadConfig } from './src/config';
import { migrationSource } from './migrations';

/** For the knex CLI (`npx knex --knexfile knexfile.ts migrate:status`). The app itself migrates at start. */
const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL ?? loadConfig({ ...process.env, WEBHOOK_SECRET: 'x'.repeat(16), ID_HASH_KEY: 'x'.repeat(16) }).DATABASE_URL,
  migrations: { migrationSource },
};
export default config;
