import type { Principal } from '../../policies/principal.ts';
import { TokenMalformed, TokenMissing } from './auth-error.ts';
import type { TokenVerifier } from './verify-token.ts';

/** Request headers as fetch (`Headers`) or node:http (`IncomingHttpHeaders`) hand them over. */
export type RequestHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The bearer token of a request's `Authorization` header.
 *
 * @throws TokenMissing when there is no `Authorization` header.
 * @throws TokenMalformed when it is not `Bearer <token>` (another scheme, an empty token, two headers).
 */
export function readBearerToken(headers: RequestHeaders): string {
  let value: string | readonly string[] | null | undefined;
  // Duck-typed: graphql-yoga's server adapter hands over its own Headers class, not the global one.
  if (typeof (headers as Headers).get === 'function') value = (headers as Headers).get('authorization');
  else value = (headers as Record<string, string | readonly string[] | undefined>).authorization ?? (headers as Record<string, string | undefined>).Authorization;
  if (value === undefined || value === null || value === '') {
    throw new TokenMissing("no bearer token: send the header 'Authorization: Bearer <token>' (for the demo city, 'npx isthmus token --help')");
  }
  if (typeof value !== 'string') throw new TokenMalformed('send one Authorization header, not several');
  // RFC 9110 makes the scheme case-insensitive; the token itself has no spaces.
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  if (!match) {
    const scheme = value.split(' ', 1)[0]!;
    throw new TokenMalformed(
      scheme.toLowerCase() === 'bearer' ? "the Authorization header must be 'Bearer <token>' with one token" : 'the Authorization header must use the Bearer scheme',
    );
  }
  return match[1]!;
}

/**
 * Authenticates a request: reads its bearer token and verifies it.
 *
 * @example
 * const principal = await authenticateRequest(request.headers, verifier, request.signal);
 * @throws AuthError (`TOKEN_MISSING`, `TOKEN_EXPIRED`, …).
 */
export function authenticateRequest(headers: RequestHeaders, verifier: TokenVerifier, signal?: AbortSignal): Promise<Principal> {
  let token: string;
  try {
    token = readBearerToken(headers);
  } catch (error) {
    return Promise.reject(error);
  }
  return verifier.verify(token, signal);
}
