import type { TrustedProxies } from './trusted-proxies.ts';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** What {@link clientAddressOf} answers when the socket is already gone: never an empty string in a record. */
export const UNKNOWN_CLIENT_ADDRESS = 'unknown';

/**
 * The address a request came from, as security events and failed-sign-in
 * throttling record it: the socket's peer, unless that peer is one of
 * `trustedProxies` (the load balancer in front of the replicas), in which
 * case the right-most `x-forwarded-for` hop that is not itself a trusted
 * proxy. Right-most, because every hop appends and only the hops we trust
 * wrote the tail: a client can put anything at the head of the header.
 * An IPv4-mapped IPv6 peer (`::ffff:10.0.0.7`) is given as IPv4, so one
 * client is one key whichever way the kernel reports it.
 *
 * @example
 * clientAddressOf(request, new Set()); // '10.0.0.7'
 * clientAddressOf(request, new Set(['10.0.0.2'])); // x-forwarded-for: 198.51.100.4, 10.0.0.9 via 10.0.0.2 → '10.0.0.9'
 */
export function clientAddressOf(request: IncomingMessage, trustedProxies: TrustedProxies): string {
  const peer = plain(request.socket?.remoteAddress);
  if (peer === undefined) return UNKNOWN_CLIENT_ADDRESS;
  if (trustedProxies.size === 0 || !trustedProxies.has(peer)) return peer;
  const forwarded = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((hop) => hop.trim());
  for (let at = hops.length - 1; at >= 0; at--) {
    const hop = plain(hops[at]);
    // A hop that is not an address is forged or garbled: stop at the proxy that passed it on.
    if (hop === undefined) return peer;
    if (!trustedProxies.has(hop)) return hop;
  }
  return peer;
}

function plain(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const unmapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(unmapped) ? unmapped.toLowerCase() : undefined;
}
