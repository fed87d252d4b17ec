import { isIP } from 'node:net';

/** `ISTHMUS_TRUSTED_PROXIES` is not a list of addresses; the message says which entry. */
export class TrustedProxiesInvalid extends Error {
  readonly code = 'TRUSTED_PROXIES_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TrustedProxiesInvalid';
  }
}

/**
 * Parses `ISTHMUS_TRUSTED_PROXIES`: comma-separated IP addresses (v4 or v6,
 * no ranges: a range would trust whoever else sits in it) of the proxies in
 * front of the gateway, whose `x-forwarded-for` is believed
 * (`client-address.ts`). Empty: none, the socket's peer is the client.
 * IPv4-mapped IPv6 addresses are kept as IPv4, as `clientAddressOf` compares them.
 *
 * @example
 * parseTrustedProxies('10.0.0.2, 10.0.0.3'); // Set { '10.0.0.2', '10.0.0.3' }
 * @throws TrustedProxiesInvalid naming the first entry that is not an address.
 */
export function parseTrustedProxies(raw: string): ReadonlySet<string> {
  const proxies = new Set<string>();
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') return proxies;
  entries.forEach((entry, index) => {
    const address = entry.startsWith('::ffff:') && isIP(entry.slice(7)) === 4 ? entry.slice(7) : entry;
    if (isIP(address) === 0) throw new TrustedProxiesInvalid(`entry ${index + 1} is not an IP address (ranges are not accepted)`);
    proxies.add(address.toLowerCase());
  });
  return proxies;
}
