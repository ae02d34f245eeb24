import { z } from 'zod';
import { parseCidrList, parseTrustProxy } from './http/addresses';

/** The command the errors suggest for a new secret (32 random bytes as 64 hex characters). */
export const GENERATE_SECRET = 'openssl rand -hex 32';

/** A missing secret (in production; outside it withDevDefaults fills them in). */
const required = (issue: { input?: unknown }) => (issue.input === undefined ? `is required (no dev default in production; generate one: ${GENERATE_SECRET})` : 'must be text');

/** Empty means unset: `WEBHOOK_SECRET_PREVIOUS=` once a rotation is over. */
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

/** Runs a parser that throws a one-line message; the message becomes the variable's config error. */
function orIssue<T>(ctx: z.RefinementCtx, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
}

/** True for at least 32 bytes written as hex (64+ characters) or as canonical base64 (44+ characters). */
export function isKeyOf32Bytes(key: string): boolean {
  if (/^[0-9a-fA-F]+$/.test(key)) return key.length >= 64;
  const bytes = Buffer.from(key, 'base64');
  return bytes.length >= 32 && bytes.toString('base64') === key;
}

/**
 * Every setting Simu reads, validated once at start. A bad value stops the process with a
 * message naming the variable, rather than failing later in the middle of a citizen's session.
 * Defaults are the dev defaults: local PostgreSQL, Redis if it answers, the fake Africa's Talking server.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/simu'),
  /**
   * Where ephemeral state lives (src/store): `redis`, `postgres` (unlogged tables in DATABASE_URL's
   * database), or `auto`: Redis when REDIS_URL is set or Redis answers on 127.0.0.1:6379, else postgres.
   */
  STORE: z.enum(['redis', 'postgres', 'auto']).default('auto'),
  /** Unset (or empty): Redis is looked for on 127.0.0.1:6379 (STORE=auto) and used if it answers. */
  REDIS_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
  /** Prefix of every key of the store (Redis or Postgres), so several gateways (or test runs) can share one. */
  REDIS_PREFIX: z.string().default('simu:'),
  WEBHOOK_SECRET: z.string({ error: required }).min(16, 'must be at least 16 characters'),
  /** The secret being retired during a rotation: accepted beside WEBHOOK_SECRET until it is unset (README, Security). */
  WEBHOOK_SECRET_PREVIOUS: z.preprocess(unsetIfEmpty, z.string().min(16, 'must be at least 16 characters').optional()),
  ID_HASH_KEY: z.string({ error: required }).min(16, 'must be at least 16 characters'),
  /** Where AT's callbacks may come from (comma-separated CIDRs, IPv4/IPv6); unset: anywhere (the token alone). */
  AT_CALLBACK_ALLOW: z.preprocess(unsetIfEmpty, z.string().optional()).transform((v, ctx) => (v === undefined ? null : orIssue(ctx, () => parseCidrList(v)))),
  /** Proxy hops in front of the gateway whose X-Forwarded-For is believed (count or addresses); unset: none. */
  TRUST_PROXY: z.string().optional().transform((v, ctx) => orIssue(ctx, () => parseTrustProxy(v))),
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
  /** Outbound SMS rate across all workers (a token bucket in the store); 0 = unthrottled. */
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

/**
 * Production refuses secrets anyone can read in this repository and keys too short to be random:
 * the dev defaults (and the fake AT's key), a webhook secret under 32 characters, an ID_HASH_KEY
 * that is not at least 32 bytes written as hex or base64, one secret used for two things.
 */
const productionSecrets = (c: z.output<typeof schema>, ctx: z.RefinementCtx) => {
  if (c.NODE_ENV !== 'production') return;
  const refuse = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const published: Record<string, string | undefined> = { WEBHOOK_SECRET: c.WEBHOOK_SECRET, WEBHOOK_SECRET_PREVIOUS: c.WEBHOOK_SECRET_PREVIOUS, ID_HASH_KEY: c.ID_HASH_KEY, AT_API_KEY: c.AT_API_KEY };
  for (const [variable, value] of Object.entries(published)) {
    if (value !== undefined && PUBLISHED_SECRETS.has(value)) refuse(variable, `is a published dev default, refused in production; set your own (${GENERATE_SECRET})`);
  }
  for (const variable of ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS'] as const) {
    const value = c[variable];
    if (value !== undefined && value.length < 32) refuse(variable, `must be at least 32 characters in production (${GENERATE_SECRET})`);
  }
  if (!isKeyOf32Bytes(c.ID_HASH_KEY)) refuse('ID_HASH_KEY', `must be at least 32 random bytes in production, as 64 hex or 44 base64 characters (${GENERATE_SECRET})`);
  if (c.ID_HASH_KEY === c.WEBHOOK_SECRET || c.ID_HASH_KEY === c.WEBHOOK_SECRET_PREVIOUS) refuse('ID_HASH_KEY', 'must differ from the webhook secret (that one travels in URLs)');
};

export type Config = z.infer<typeof schema>;

/** Reads the environment (or any record, for tests) into a validated Config; throws one readable error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.superRefine(productionSecrets).safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The secrets every process gets outside production when none are set: loud names, never for real use. */
export const DEV_SECRETS = {
  WEBHOOK_SECRET: 'dev-webhook-secret-not-for-production',
  ID_HASH_KEY: 'dev-id-hash-key-not-for-production',
  /** The fake AT server's key (src/sms/fake-at.ts), filled in by `npm start` without AT credentials. */
  AT_API_KEY: 'fake-at-key',
} as const;

/** Every secret value written in this repository's code: refused in production whatever variable holds it. */
const PUBLISHED_SECRETS: ReadonlySet<string> = new Set(Object.values(DEV_SECRETS));

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
