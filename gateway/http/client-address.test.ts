import { Socket } from 'node:net';
import { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, UNKNOWN_CLIENT_ADDRESS } from './client-address.ts';
import { NO_TRUSTED_PROXIES, parseTrustedProxies, TrustedProxiesInvalid } from './trusted-proxies.ts';

function requestFrom(peer: string | undefined, forwardedFor?: string): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: peer });
  const request = new IncomingMessage(socket);
  if (forwardedFor !== undefined) request.headers['x-forwarded-for'] = forwardedFor;
  return request;
}

describe('clientAddressOf', () => {
  it('is the socket peer when no proxy is trusted, whatever x-forwarded-for says', () => {
    expect(clientAddressOf(requestFrom('10.0.0.7', '1.2.3.4'), NO_TRUSTED_PROXIES)).toBe('10.0.0.7');
  });

  it('gives an IPv4-mapped peer as IPv4', () => {
    expect(clientAddressOf(requestFrom('::ffff:127.0.0.1'), NO_TRUSTED_PROXIES)).toBe('127.0.0.1');
  });

  it('takes the right-most hop that is not a trusted proxy', () => {
    const proxies = parseTrustedProxies('10.0.0.2, 10.0.0.3');
    expect(clientAddressOf(requestFrom('10.0.0.2', '198.51.100.4, 203.0.113.9, 10.0.0.3'), proxies)).toBe('203.0.113.9');
  });

  it('ignores x-forwarded-for from a peer that is not a trusted proxy', () => {
    expect(clientAddressOf(requestFrom('203.0.113.9', '198.51.100.4'), parseTrustedProxies('10.0.0.2'))).toBe('203.0.113.9');
  });

  it('stops at the proxy when a hop is not an address', () => {
    expect(clientAddressOf(requestFrom('10.0.0.2', '198.51.100.4, <script>'), parseTrustedProxies('10.0.0.2'))).toBe('10.0.0.2');
  });

  it('says unknown when the socket has no peer any more', () => {
    expect(clientAddressOf(requestFrom(undefined), NO_TRUSTED_PROXIES)).toBe(UNKNOWN_CLIENT_ADDRESS);
  });

  it('trusts proxies in a range, as an ingress whose pods change address needs', () => {
    const proxies = parseTrustedProxies('10.244.3.0/24, fd00:10::/64');
    expect(clientAddressOf(requestFrom('10.244.3.17', '198.51.100.4'), proxies)).toBe('198.51.100.4');
    expect(clientAddressOf(requestFrom('::ffff:10.244.3.200', '198.51.100.4, 10.244.3.5'), proxies)).toBe('198.51.100.4');
    expect(clientAddressOf(requestFrom('fd00:10::9', '2001:db8::7'), proxies)).toBe('2001:db8::7');
    // Next door to the range: not trusted.
    expect(clientAddressOf(requestFrom('10.244.4.1', '198.51.100.4'), proxies)).toBe('10.244.4.1');
  });
});

describe('parseTrustedProxies', () => {
  it('lists addresses and ranges as configured, IPv4-mapped given as IPv4', () => {
    expect(parseTrustedProxies('10.0.0.2, ::FFFF:10.0.0.3, 10.244.0.0/16, FD00::/48').listed).toEqual(['10.0.0.2', '10.0.0.3', '10.244.0.0/16', 'fd00::/48']);
    expect(parseTrustedProxies('').size).toBe(0);
  });

  it('refuses what is not an address or range, and a range wide enough to trust anyone, naming the entry', () => {
    for (const [raw, entry] of [['10.0.0.2, proxy.internal', 2], ['0.0.0.0/0', 1], ['10.0.0.2, 10.0.0.0/7', 2], ['::/0', 1], ['10.0.0.0/33', 1], ['10.0.0.0/x', 1], ['10.0.0.0/8/8', 1]] as const) {
      expect(() => parseTrustedProxies(raw)).toThrow(TrustedProxiesInvalid);
      expect(() => parseTrustedProxies(raw)).toThrow(`entry ${entry}`);
    }
  });
});
