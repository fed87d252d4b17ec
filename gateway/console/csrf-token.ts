import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of randomness in a CSRF token (and a session id): 256 bits, unguessable. */
const TOKEN_BYTES = 32;

/** A fresh random token, base64url: for a session id, a session's CSRF token or the signed-out visitor's. */
export function newRandomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * Whether the token a form carried is the one expected, compared in constant
 * time so that the comparison leaks nothing about how much of it matched.
 * A missing token on either side never matches.
 */
export function sameToken(sent: string | undefined, expected: string | undefined): boolean {
  if (!sent || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
