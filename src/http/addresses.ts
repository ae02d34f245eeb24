import { BlockList, isIP } from 'node:net';

/**
 * Address lists from the environment: `AT_CALLBACK_ALLOW` (where AT's callbacks may come from) and
 * `TRUST_PROXY` (which proxies may tell us the client's address). Both are comma-separated
 * addresses or CIDRs, IPv4 or IPv6 (`196.201.214.0/24, 2c0f:fe38::/32, 10.0.0.7`).
 */

/** One `address[/prefix]` entry, checked; null when it is not one. */
function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Splits a comma-separated list; throws a one-line message naming the bad entry. */
export function parseCidrList(text: string): string[] {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of entries) {
    if (!parseCidr(e)) throw new Error(`"${e}" is not an IPv4/IPv6 address or CIDR (e.g. 196.201.214.0/24, 2001:db8::/32)`);
  }
  return entries;
}

/**
 * The allow-list as node's own BlockList (used here as a list of what is allowed). An IPv4-mapped
 * IPv6 address (`::ffff:196.201.214.5`, what a dual-stack socket reports) matches IPv4 entries.
 */
export class SourceAllowList {
  private readonly list = new BlockList();

  constructor(readonly entries: readonly string[]) {
    for (const e of entries) {
      const c = parseCidr(e);
      if (!c) throw new Error(`not an address or CIDR: ${e}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
    }
  }

  allows(address: string | undefined): boolean {
    const version = address ? isIP(address) : 0;
    if (!address || version === 0) return false;
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * `TRUST_PROXY` as express's `trust proxy` setting. Unset, empty, `false` or `0`: trust no proxy
 * (the client is the socket's peer, and X-Forwarded-For is ignored). A number: that many proxy hops
 * in front of the gateway. Otherwise addresses/CIDRs of the proxies, or express's names `loopback`,
 * `linklocal`, `uniquelocal`. `true` (trust every hop, so anyone can name their own address) is refused.
 */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function parseTrustProxy(text: string | undefined): TrustProxy {
  const value = (text ?? '').trim();
  if (value === '' || value === 'false' || value === '0') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) throw new Error('a hop count is at most 10');
    return hops;
  }
  if (value === 'true') throw new Error('"true" would trust any X-Forwarded-For; give the number of proxy hops or their addresses');
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const addresses = parseCidrList(entries.filter((e) => !PROXY_NAMES.has(e)).join(','));
  return [...entries.filter((e) => PROXY_NAMES.has(e)), ...addresses];
}
