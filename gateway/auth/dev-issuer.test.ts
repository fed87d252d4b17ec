import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_KEY_FILE, openDevIssuer, type DevTokenClaims } from './dev-issuer.ts';
import { openSigningKey, SigningKeyError } from './signing-key.ts';
import { MAX_DEV_TOKEN_TTL_SECONDS, parseTtl } from './token-ttl.ts';
import { createTokenVerifier } from './verify-token.ts';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isthmus-dev-issuer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the dev issuer', () => {
  it('signs tokens that the verifier accepts with the dev issuer config (in memory)', async () => {
    const dev = await openDevIssuer({ keysDir: undefined, now: () => T0 });
    expect(dev.keyFile).toBeUndefined();
    // Every claim the dev issuer can sign, as the Principal the verifier should make of it.
    const claims = {
      bureau: 'market-supervision',
      app: 'licensing-portal',
      user: 'li.wei',
      roles: ['developer' as const],
      scopes: ['hrss.social-insurance', 'psb.household'],
      citizen: '110101199003071234',
      purpose: 'licence-review',
      caseId: 'MS-2026-0042',
    } satisfies Omit<DevTokenClaims, 'ttl'>;
    const token = await dev.signDevToken({ ...claims, ttl: '1h' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: dev.kid, typ: 'JWT' });
    const principal = await createTokenVerifier({ issuers: [dev.issuerConfig], now: () => T0 + 1_000 }).verify(token);
    expect(principal).toEqual({ issuer: DEV_ISSUER, subject: 'li.wei', ...claims, expiresAt: T0 / 1_000 + 3_600 });
    expect(dev.jwks).toEqual({ keys: [expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: dev.kid, alg: 'ES256', use: 'sig' })] });
    expect(dev.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('makes the app the subject when there is no user, and leaves out empty claims', async () => {
    const dev = await openDevIssuer({ keysDir: undefined, now: () => T0 });
    const claims = decodeJwt(await dev.signDevToken({ bureau: 'hrss', app: 'pension-batch', ttl: 60 }));
    expect(claims).toMatchObject({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 'pension-batch', azp: 'pension-batch', iat: T0 / 1_000, exp: T0 / 1_000 + 60 });
    expect(claims).not.toHaveProperty('scope');
    expect(claims).not.toHaveProperty('roles');
    expect(claims).not.toHaveProperty('citizen_id');
  });

  it('refuses bad claims and lifetimes', async () => {
    const dev = await openDevIssuer({ keysDir: undefined });
    await expect(dev.signDevToken({ bureau: '', app: 'a', ttl: '1h' })).rejects.toThrow(/bureau must be a non-empty string/);
    await expect(dev.signDevToken({ bureau: 'b', app: 'a', roles: ['root' as never], ttl: '1h' })).rejects.toThrow(/role "root" is not one of/);
    await expect(dev.signDevToken({ bureau: 'b', app: 'a', scopes: ['two words'], ttl: '1h' })).rejects.toThrow(/without spaces/);
    await expect(dev.signDevToken({ bureau: 'b', app: 'a', ttl: '99d' })).rejects.toThrow(/at most 30d/);
  });

  it('keeps its key in a 0600 file under the keys folder and finds it again', async () => {
    const keysDir = join(dir, 'persisted');
    const first = await openDevIssuer({ keysDir });
    const file = join(keysDir, DEV_ISSUER_KEY_FILE);
    expect(first.keyFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, alg: 'ES256', privateJwk: { kty: 'EC', crv: 'P-256' } });

    const second = await openDevIssuer({ keysDir });
    expect(second.kid).toBe(first.kid);
    const token = await first.signDevToken({ bureau: 'hrss', app: 'portal', ttl: '5m' });
    expect((await createTokenVerifier({ issuers: [second.issuerConfig] }).verify(token)).bureau).toBe('hrss');
  });

  it('ends up with one key when several processes create it at once', async () => {
    const keysDir = join(dir, 'race');
    const issuers = await Promise.all(Array.from({ length: 8 }, () => openDevIssuer({ keysDir })));
    expect(new Set(issuers.map((issuer) => issuer.kid)).size).toBe(1);
  });
});

describe('key files', () => {
  it('refuses a key file other users can read, naming the file and the fix', async () => {
    const keysDir = join(dir, 'open');
    await openSigningKey({ dir: keysDir, fileName: 'k.json', purpose: 'test' });
    await chmod(join(keysDir, 'k.json'), 0o644);
    const error = await openSigningKey({ dir: keysDir, fileName: 'k.json', purpose: 'test' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SigningKeyError);
    expect(error).toMatchObject({ code: 'SIGNING_KEY_UNUSABLE', file: join(keysDir, 'k.json') });
    expect((error as Error).message).toContain(`chmod 600 ${join(keysDir, 'k.json')}`);
  });

  it('refuses a file that is not a key, without quoting it', async () => {
    const keysDir = join(dir, 'corrupt');
    await openSigningKey({ dir: keysDir, fileName: 'k.json', purpose: 'test' });
    await writeFile(join(keysDir, 'k.json'), '{"version":1,"alg":"ES256","privateJwk":{"kty":"EC","crv":"P-256","x":"AAAA","y":"BBBB","d":"SECRETSECRET"}}');
    const error = (await openSigningKey({ dir: keysDir, fileName: 'k.json', purpose: 'test' }).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(SigningKeyError);
    expect(error.message).toMatch(/is not a usable Isthmus key/);
    expect(error.message).not.toContain('SECRETSECRET');
    await writeFile(join(keysDir, 'k.json'), 'SECRETSECRET not json');
    const again = (await openSigningKey({ dir: keysDir, fileName: 'k.json', purpose: 'test' }).catch((caught: unknown) => caught)) as Error;
    expect(again).toBeInstanceOf(SigningKeyError);
    expect(again.message).not.toContain('SECRETSECRET');
  });
});

describe('parseTtl', () => {
  it('reads seconds and durations up to the maximum', () => {
    expect(parseTtl('90s')).toBe(90);
    expect(parseTtl('30m')).toBe(1_800);
    expect(parseTtl('1h')).toBe(3_600);
    expect(parseTtl('7d')).toBe(604_800);
    expect(parseTtl(120)).toBe(120);
    expect(parseTtl('30d')).toBe(MAX_DEV_TOKEN_TTL_SECONDS);
    for (const bad of ['31d', '0m', '1w', 'h', '-1h', '1.5h', '']) expect(() => parseTtl(bad), bad).toThrow(TypeError);
    expect(() => parseTtl(0)).toThrow(TypeError);
  });
});
