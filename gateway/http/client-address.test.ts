import { Socket } from 'node:net';
import { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, UNKNOWN_CLIENT_ADDRESS } from './client-address.ts';

function requestFrom(peer: string | undefined, forwardedFor?: string): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: peer });
  const request = new IncomingMessage(socket);
  if (forwardedFor !== undefined) request.headers['x-forwarded-for'] = forwardedFor;
  return request;
}

describe('clientAddressOf', () => {
  it('is the socket peer when no proxy is trusted, whatever x-forwarded-for says', () => {
    expect(clientAddressOf(requestFrom('10.0.0.7', '1.2.3.4'), new Set())).toBe('10.0.0.7');
  });

  it('gives an IPv4-mapped peer as IPv4', () => {
    expect(clientAddressOf(requestFrom('::ffff:127.0.0.1'), new Set())).toBe('127.0.0.1');
  });

  it('takes the right-most hop that is not a trusted proxy', () => {
    const proxies = new Set(['10.0.0.2', '10.0.0.3']);
    expect(clientAddressOf(requestFrom('10.0.0.2', '198.51.100.4, 203.0.113.9, 10.0.0.3'), proxies)).toBe('203.0.113.9');
  });

  it('ignores x-forwarded-for from a peer that is not a trusted proxy', () => {
    expect(clientAddressOf(requestFrom('203.0.113.9', '198.51.100.4'), new Set(['10.0.0.2']))).toBe('203.0.113.9');
  });

  it('stops at the proxy when a hop is not an address', () => {
    expect(clientAddressOf(requestFrom('10.0.0.2', '198.51.100.4, <script>'), new Set(['10.0.0.2']))).toBe('10.0.0.2');
  });

  it('says unknown when the socket has no peer any more', () => {
    expect(clientAddressOf(requestFrom(undefined), new Set())).toBe(UNKNOWN_CLIENT_ADDRESS);
  });
});
