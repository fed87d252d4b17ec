import { decodeJwt, decodeProtectedHeader } from 'jose';

/** What a refused token claimed about where it came from: unverified, so only the issuer and key id, never the subject or anything else. */
export interface ClaimedToken {
  readonly issuer?: string;
  readonly keyId?: string;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The issuer and key id a bearer token claims, read without verifying it —
 * an operator tracing a flood of refused tokens wants to know which issuer
 * they pretend to be from. Nothing else is taken: the token itself and its
 * other claims (which may name a person) never leave this function.
 */
export function claimedToken(headers: Headers): ClaimedToken {
  const match = BEARER.exec(headers.get('authorization') ?? '');
  if (!match) return {};
  const token = match[1]!;
  let keyId: string | undefined;
  let issuer: string | undefined;
  try {
    const kid = decodeProtectedHeader(token).kid;
    if (typeof kid === 'string') keyId = kid;
  } catch {
    // not a JWS: nothing claimed
  }
  try {
    const iss = decodeJwt(token).iss;
    if (typeof iss === 'string') issuer = iss;
  } catch {
    // no readable payload
  }
  return { ...(issuer !== undefined && { issuer }), ...(keyId !== undefined && { keyId }) };
}
