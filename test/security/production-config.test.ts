import { randomBytes } from 'node:crypto';
import { DEV_SECRETS, loadConfig, withDevDefaults } from '../../src/config';
import { TEST_ID_HASH_KEY, TEST_WEBHOOK_SECRET } from '../helpers/env';

/**
 * Issue 10, finding 6: production accepted the published dev secrets and any 16-character value.
 * The config loader is what every process (gateway, worker, tools) starts from, so it is tested
 * directly here; test/security/production-startup.test.ts starts the real gateway.
 */
const hex32 = () => randomBytes(32).toString('hex');
const good = () => ({ NODE_ENV: 'production', WEBHOOK_SECRET: hex32(), ID_HASH_KEY: hex32() });

/** The loader's error text, or '' if it accepted the environment. */
function refusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

test('a production environment of random secrets is accepted', () => {
  expect(refusal(good())).toBe('');
  expect(refusal({ ...good(), ID_HASH_KEY: randomBytes(32).toString('base64') })).toBe('');
  expect(refusal({ ...good(), WEBHOOK_SECRET_PREVIOUS: hex32() })).toBe('');
});

describe.each([
  ['WEBHOOK_SECRET', DEV_SECRETS.WEBHOOK_SECRET],
  ['ID_HASH_KEY', DEV_SECRETS.ID_HASH_KEY],
  ['WEBHOOK_SECRET_PREVIOUS', DEV_SECRETS.WEBHOOK_SECRET],
  ['AT_API_KEY', DEV_SECRETS.AT_API_KEY],
  // A published value is refused in any variable, not only in the one it is the default of.
  ['WEBHOOK_SECRET', DEV_SECRETS.ID_HASH_KEY],
])('production refuses the published dev value of %s', (variable, value) => {
  test(`${variable}=${value}`, () => {
    const message = refusal({ ...good(), [variable]: value });
    expect(message).toMatch(new RegExp(`^\\s+${variable}: is a published dev default, refused in production`, 'm'));
    expect(message).toContain('openssl rand -hex 32');
  });
});

test('production refuses a missing secret, naming it (no dev default is filled in)', () => {
  const env = withDevDefaults({ NODE_ENV: 'production', ID_HASH_KEY: hex32() });
  expect(refusal(env)).toMatch(/^\s+WEBHOOK_SECRET: is required \(no dev default in production/m);
});

test.each([
  ['16 characters (what was accepted)', 'a'.repeat(16)],
  ['31 characters', randomBytes(32).toString('hex').slice(0, 31)],
  ['the tests\' own secret', TEST_WEBHOOK_SECRET],
])('production refuses a WEBHOOK_SECRET of %s', (_label, value) => {
  expect(refusal({ ...good(), WEBHOOK_SECRET: value })).toMatch(/^\s+WEBHOOK_SECRET: must be at least 32 characters in production/m);
  expect(refusal({ ...good(), WEBHOOK_SECRET_PREVIOUS: value })).toMatch(/^\s+WEBHOOK_SECRET_PREVIOUS: must be at least 32 characters in production/m);
});

test.each([
  ['16 characters (what was accepted)', 'k'.repeat(16)],
  ['the tests\' own key', TEST_ID_HASH_KEY],
  ['63 hex characters', hex32().slice(0, 63)],
  ['base64 of 31 bytes', randomBytes(31).toString('base64')],
  ['a long passphrase', 'correct horse battery staple and a county name too'],
])('production refuses an ID_HASH_KEY of %s', (_label, value) => {
  expect(refusal({ ...good(), ID_HASH_KEY: value })).toMatch(/^\s+ID_HASH_KEY: must be at least 32 random bytes in production, as 64 hex or 44 base64 characters/m);
});

test('production refuses one secret used as both the ID hash key and the webhook secret', () => {
  const same = hex32();
  expect(refusal({ ...good(), WEBHOOK_SECRET: same, ID_HASH_KEY: same })).toMatch(/^\s+ID_HASH_KEY: must differ from the webhook secret/m);
});

test('outside production the dev defaults and the tests\' own keys still work', () => {
  expect(refusal(withDevDefaults({ NODE_ENV: 'development' }))).toBe('');
  expect(refusal({ NODE_ENV: 'test', WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, ID_HASH_KEY: TEST_ID_HASH_KEY })).toBe('');
  expect(loadConfig(withDevDefaults({})).WEBHOOK_SECRET).toBe(DEV_SECRETS.WEBHOOK_SECRET);
});

describe('AT_CALLBACK_ALLOW', () => {
  test('unset or empty: no allow-list; a list of IPv4 and IPv6 CIDRs and addresses is read', () => {
    expect(loadConfig(good()).AT_CALLBACK_ALLOW).toBeNull();
    expect(loadConfig({ ...good(), AT_CALLBACK_ALLOW: '' }).AT_CALLBACK_ALLOW).toBeNull();
    expect(loadConfig({ ...good(), AT_CALLBACK_ALLOW: ' 196.201.214.0/24, 2c0f:fe38:2000::/36 ,10.0.0.7' }).AT_CALLBACK_ALLOW)
      .toEqual(['196.201.214.0/24', '2c0f:fe38:2000::/36', '10.0.0.7']);
  });

  test.each(['196.201.214.0/33', 'africastalking.com', '196.201.214/24', '2c0f::/129', '10.0.0.0/8/8', '10.0.0.0/'])('refuses %s, naming the variable and the entry', (value) => {
    expect(refusal({ ...good(), AT_CALLBACK_ALLOW: `196.201.214.0/24,${value}` })).toMatch(new RegExp(`^\\s+AT_CALLBACK_ALLOW: "${value.replace(/[.*/]/g, '\\$&')}" is not an IPv4/IPv6 address or CIDR`, 'm'));
  });
});

describe('TRUST_PROXY', () => {
  test('unset, empty, false or 0: no proxy is trusted', () => {
    for (const v of [undefined, '', 'false', '0']) expect(loadConfig({ ...good(), TRUST_PROXY: v }).TRUST_PROXY).toBe(false);
  });

  test('a hop count, or proxy addresses (and express\'s names)', () => {
    expect(loadConfig({ ...good(), TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ ...good(), TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
  });

  test.each([
    ['true', /"true" would trust any X-Forwarded-For/],
    ['11', /a hop count is at most 10/],
    ['10.0.0.0/33', /"10\.0\.0\.0\/33" is not an IPv4\/IPv6 address or CIDR/],
    ['my-proxy', /"my-proxy" is not an IPv4\/IPv6 address or CIDR/],
  ])('refuses %s', (value, message) => {
    const text = refusal({ ...good(), TRUST_PROXY: value });
    expect(text).toMatch(/^\s+TRUST_PROXY: /m);
    expect(text).toMatch(message);
  });
});
