import { z } from 'zod';

/**
 * Every setting Simu reads, validated once at start. A bad value stops the process with a
 * message naming the variable, rather than failing later in the middle of a citizen's session.
 * Defaults are the dev defaults: local PostgreSQL and Redis, the fake Africa's Talking server.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/simu'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix for every Redis key, so several gateways (or test runs) can share one Redis. */
  REDIS_PREFIX: z.string().default('simu:'),
  WEBHOOK_SECRET: z.string().min(16, 'WEBHOOK_SECRET must be at least 16 characters'),
  ID_HASH_KEY: z.string().min(16, 'ID_HASH_KEY must be at least 16 characters'),
  USSD_SCREEN_LIMIT: z.coerce.number().int().min(60).max(182).default(160),
  USSD_HOP_DEADLINE_MS: z.coerce.number().int().min(100).max(10000).default(2000),
  SESSION_TTL_S: z.coerce.number().int().min(30).max(3600).default(180),
  /** How long after a dropped session a redial is offered "Continue". */
  RESUME_TTL_S: z.coerce.number().int().min(30).max(3600).default(300),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  /** The short code shown in help texts and printed at start. */
  USSD_CODE: z.string().default('*384*2222#'),
  /** Africa's Talking SMS (see README "Outbound SMS"). No AT_API_KEY outside production: the fake AT server. */
  AT_USERNAME: z.string().min(1).default('sandbox'),
  AT_API_KEY: z.string().min(1).optional(),
  AT_SENDER_ID: z.string().min(1).max(11).optional(),
  /** Base URL of AT's API; default from AT_USERNAME (sandbox or live host), or the fake AT server in dev. */
  AT_API_URL: z.string().url().optional(),
  AT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(10000),
  /** Outbound SMS rate across all workers (a token bucket in Redis); 0 = unthrottled. */
  SMS_MAX_PER_SECOND: z.coerce.number().min(0).max(10000).default(50),
  /** `off`: this process does not send SMS (run `npm run worker` elsewhere). */
  SMS_WORKER: z.enum(['on', 'off']).default('on'),
  SMS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** Retry n waits about SMS_RETRY_BASE_MS·2^(n-1) (with jitter), at most 15 minutes. */
  SMS_RETRY_BASE_MS: z.coerce.number().int().min(0).max(600000).default(5000),
  /** Failed staff logins from one client address per 15 minutes (besides the per-account lock). */
  STAFF_LOGIN_PER_IP: z.coerce.number().int().min(1).max(100000).default(30),
  /** Failed staff logins across the deployment per minute (password spraying over many accounts). */
  STAFF_LOGIN_GLOBAL_PER_MIN: z.coerce.number().int().min(1).max(100000).default(120),
  /** Console requests per minute from one client address with no signed-in staff member. */
  STAFF_CONSOLE_ANON_PER_IP_PER_MIN: z.coerce.number().int().min(1).max(100000).default(300),
  /** Consent-code SMS to one citizen per hour, across visits, staff and centres. */
  CONSENT_SMS_PER_CITIZEN_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(5),
});

export type Config = z.infer<typeof schema>;

/** Reads the environment (or any record, for tests) into a validated Config; throws one readable error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The secrets every process gets outside production when none are set: loud names, never for real use. */
export const DEV_SECRETS = { WEBHOOK_SECRET: 'dev-webhook-secret-not-for-production', ID_HASH_KEY: 'dev-id-hash-key-not-for-production' } as const;

/**
 * The environment with the dev secrets filled in where missing, outside production (`npm start`,
 * the worker and the CLI tools share the dev database and must hash ID numbers the same way).
 */
export function withDevDefaults(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const out = { ...env };
  if (out.NODE_ENV !== 'production') {
    out.WEBHOOK_SECRET ??= DEV_SECRETS.WEBHOOK_SECRET;
    out.ID_HASH_KEY ??= DEV_SECRETS.ID_HASH_KEY;
  }
  return out;
}
