import { BlockList, isIP } from 'node:net';

/** `ISTHMUS_TRUSTED_PROXIES` is not a list of addresses and ranges; the message says which entry. */
export class TrustedProxiesInvalid extends Error {
  readonly code = 'TRUSTED_PROXIES_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TrustedProxiesInvalid';
  }
}

/** The proxies whose `x-forwarded-for` is believed: what `clientAddressOf` asks of them. */
export interface TrustedProxies {
  /** Entries configured; 0: none, the socket's peer is the client. */
  readonly size: number;
  /** True for an address (plain IPv4 or IPv6, IPv4-mapped already unmapped) that is, or lies in, an entry. */
  has(address: string): boolean;
  /** The entries as configured (normalized), for start-up logs and tests. */
  readonly listed: readonly string[];
}

/** No trusted proxy. */
export const NO_TRUSTED_PROXIES: TrustedProxies = { size: 0, has: () => false, listed: [] };

/**
 * The narrowest ranges an entry may name: a Kubernetes ingress's pods sit in
 * a node's pod range (a /24 or so of a /16 cluster range), which is what a
 * range is for; a wider one would trust whoever else sits in it.
 */
const WIDEST_PREFIX = { 4: 8, 6: 32 } as const;

/**
 * Parses `ISTHMUS_TRUSTED_PROXIES`: comma-separated IP addresses or CIDR
 * ranges (v4 or v6) of the proxies in front of the gateway, whose
 * `x-forwarded-for` is believed (`client-address.ts`). A range is for
 * proxies whose addresses change (an ingress controller's pods); it must be
 * no wider than /8 (IPv4) or /32 (IPv6): `0.0.0.0/0` would let any client
 * name its own address. IPv4-mapped IPv6 addresses are kept as IPv4, as
 * `clientAddressOf` compares them. Empty: none.
 *
 * @example
 * parseTrustedProxies('10.0.0.2, 10.244.3.0/24').has('10.244.3.17'); // true
 * @throws TrustedProxiesInvalid naming the first entry that is neither an address nor a range.
 */
export function parseTrustedProxies(raw: string): TrustedProxies {
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') return NO_TRUSTED_PROXIES;
  const exact = new Set<string>();
  const ranges = new BlockList();
  const named: string[] = [];
  entries.forEach((entry, index) => {
    const [addressPart = '', prefixPart, ...rest] = entry.split('/');
    const address = unmapped(addressPart.toLowerCase());
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new TrustedProxiesInvalid(`entry ${index + 1} is not an IP address or a CIDR range (such as 10.0.0.2 or 10.244.3.0/24)`);
    if (prefixPart === undefined) {
      exact.add(address.toLowerCase());
      named.push(address.toLowerCase());
      return;
    }
    const prefix = /^\d{1,3}$/.test(prefixPart) ? Number(prefixPart) : NaN;
    const longest = family === 4 ? 32 : 128;
    const widest = WIDEST_PREFIX[family as 4 | 6];
    if (!(prefix >= widest && prefix <= longest)) throw new TrustedProxiesInvalid(`entry ${index + 1}: a range's prefix must be from /${widest} to /${longest} for IPv${family}`);
    ranges.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    named.push(`${address.toLowerCase()}/${prefix}`);
  });
  const hasRanges = named.length > exact.size;
  return {
    size: named.length,
    listed: named,
    has: (address) => exact.has(address) || (hasRanges && ranges.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')),
  };
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
