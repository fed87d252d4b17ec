import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startJwksServer, type JwksServer } from '../../test/support/jwks-server.ts';
import { authenticateRequest } from '../auth/authenticate-request.ts';
import { defineIssuer } from '../auth/issuer-config.ts';
import { createTokenVerifier } from '../auth/verify-token.ts';
import { ApiError } from '../errors/api-error.ts';
import { errorResponse } from '../errors/error-response.ts';
import { authenticateCaller } from './authenticate-caller.ts';

const ISSUER = 'https://sso.city.test/realms/hrss';
const AUDIENCE = 'isthmus-gateway';

let jwks: JwksServer | undefined;
afterEach(async () => {
  await jwks?.close();
});

async function key(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

describe('authenticateCaller', () => {
  it('answers a key not yet known with 503 and the retry-after of the issuer\'s cooldown, not the table\'s default', async () => {
    const first = await key('es-1');
    const rotated = await key('es-2');
    jwks = await startJwksServer({ keys: [first.jwk] });
    let clock = Date.UTC(2026, 5, 1);
    const verifier = createTokenVerifier({ issuers: [defineIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwksUrl: jwks.url, jwksCooldownSeconds: 45 })], now: () => clock });
    const sign = (signer: typeof first, kid = signer.kid) =>
      new SignJWT({ bureau: 'hrss', azp: 'pension-desk', sub: 'clerk-1' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(clock / 1_000 + 300).sign(signer.privateKey);
    const authenticate = (request: Request) => authenticateRequest(request.headers, verifier, request.signal);
    const asking = async (token: string) => new Request('http://127.0.0.1/admin/api/agreements', { headers: { authorization: `Bearer ${token}` } });

    expect((await authenticateCaller(authenticate, await asking(await sign(first)))).app).toBe('pension-desk');
    // A made-up kid: looked up at once, so the 45 s cooldown starts.
    await expect(authenticateCaller(authenticate, await asking(await sign(rotated, 'made-up')))).rejects.toMatchObject({ code: 'SIGNATURE_INVALID', status: 401 });
    clock += 15_000;
    const refused = await authenticateCaller(authenticate, await asking(await sign(rotated))).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'KEY_NOT_YET_KNOWN', status: 503, retryAfterSeconds: 30 });
    const response = errorResponse(refused as ApiError, 'req-1');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(((await response.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'KEY_NOT_YET_KNOWN', requestId: 'req-1' });
  });

  it('keeps the table\'s answer for a failure with no retry: a 401 sends no retry-after, whatever the error says', () => {
    const response = errorResponse(new ApiError('TOKEN_EXPIRED', 'the token expired', { retryAfterSeconds: 9 }), 'req-2');
    expect(response.status).toBe(401);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});
