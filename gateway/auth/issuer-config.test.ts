import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ConfigError, loadConfig } from '../config/config.ts';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, defineIssuer, parseIssuers, readIssuers } from './issuer-config.ts';

const SECRET = 'correct horse battery staple, 32+ bytes';
let rsaPublic: JWK;
let rsaPrivate: JWK;
let ecPublic: JWK;
let dir: string;

beforeAll(async () => {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  rsaPublic = await exportJWK(rsa.publicKey);
  rsaPrivate = await exportJWK(rsa.privateKey);
  ecPublic = await exportJWK((await generateKeyPair('ES256')).publicKey);
  dir = await mkdtemp(join(tmpdir(), 'isthmus-issuers-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const valid = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  issuer: 'https://sso.city.test',
  audience: 'isthmus-gateway',
  algorithms: ['RS256'],
  jwksUrl: 'https://sso.city.test/certs',
  ...extra,
});

/** The problems parseIssuers reports for one entry. */
const problemsOf = (entry: Record<string, unknown>): readonly string[] => parseIssuers([entry], 'ISTHMUS_ISSUERS').problems;

describe('parseIssuers', () => {
  it('accepts a minimal issuer and fills in the defaults', () => {
    const { issuers, problems } = parseIssuers([valid()], 'ISTHMUS_ISSUERS');
    expect(problems).toEqual([]);
    expect(issuers[0]).toMatchObject({
      issuer: 'https://sso.city.test',
      audience: ['isthmus-gateway'],
      algorithms: ['RS256'],
      jwksUrl: 'https://sso.city.test/certs',
      keys: undefined,
      clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
      bureaus: undefined,
    });
    expect(issuers[0]!.claims.app.map((ref) => ref.name)).toEqual(['azp', 'client_id']);
    expect(issuers[0]!.claims.scopes).toEqual([{ name: 'scope', path: ['scope'] }]);
    expect(issuers[0]!.claims.citizen).toEqual([{ name: 'citizen_id', path: ['citizen_id'] }]);
  });

  it('names the issuer and the setting in every problem, and reports them all at once', () => {
    const problems = problemsOf(valid({ audience: undefined, algorithms: ['none'], colour: 'blue' }));
    expect(problems).toHaveLength(3);
    for (const problem of problems) expect(problem).toContain('ISTHMUS_ISSUERS[0] issuer "https://sso.city.test"');
    expect(problems.join('\n')).toMatch(/colour is not a known setting/);
    expect(problems.join('\n')).toMatch(/audience is required/);
    expect(problems.join('\n')).toMatch(/must not contain "none"/);
  });

  const faults: readonly [string, Record<string, unknown>, RegExp][] = [
    ['a missing issuer', valid({ issuer: undefined }), /ISTHMUS_ISSUERS\[0\]: issuer is required/],
    ['a missing audience', valid({ audience: undefined }), /audience is required/],
    ['an empty audience list', valid({ audience: [] }), /audience is required/],
    ['alg none', valid({ algorithms: ['RS256', 'none'] }), /must not contain "none"/],
    ['an empty algorithm list', valid({ algorithms: [] }), /algorithms is required/],
    ['an unknown algorithm', valid({ algorithms: ['RS1'] }), /unsupported "RS1"/],
    ['mixed HMAC and asymmetric', valid({ algorithms: ['RS256', 'HS256'], jwksUrl: undefined, keys: SECRET }), /mixes HMAC \(HS\*\) and asymmetric/],
    ['an HMAC secret under 32 bytes', valid({ algorithms: ['HS256'], jwksUrl: undefined, keys: 'short' }), /at least 32 bytes/],
    ['an HS512 secret under 64 bytes', valid({ algorithms: ['HS512'], jwksUrl: undefined, keys: SECRET }), /at least 64 bytes/],
    ['HMAC without a secret', valid({ algorithms: ['HS256'], jwksUrl: undefined }), /keys is required: the shared secret/],
    ['HMAC with a jwksUrl', valid({ algorithms: ['HS256'] }), /jwksUrl cannot be used with HMAC/],
    ['discovery from a plain-http issuer', valid({ issuer: 'http://sso.city.test', jwksUrl: undefined }), /issuer must use https \(http only on 127\.0\.0\.1, ::1 or localhost\) \(with neither keys nor jwksUrl, its keys are found through OpenID Connect discovery/],
    ['discovery from an issuer that is no URL', valid({ issuer: 'market-sso', jwksUrl: undefined }), /issuer must be an absolute URL \(with neither keys nor jwksUrl/],
    ['discovery from an issuer with a query', valid({ issuer: 'https://sso.city.test/?realm=market', jwksUrl: undefined }), /issuer must have no query or fragment/],
    ['a JWKS cooldown that is not whole seconds', valid({ jwksCooldownSeconds: 0.5 }), /jwksCooldownSeconds must be a whole number of seconds from 0 to 600/],
    ['a JWKS cooldown over ten minutes', valid({ jwksCooldownSeconds: 601 }), /jwksCooldownSeconds must be a whole number of seconds from 0 to 600/],
    ['a refresh interval under 10 s', valid({ jwksRefreshSeconds: 1 }), /jwksRefreshSeconds must be a whole number of seconds from 10 to 86400/],
    ['a cooldown for configured keys', valid({ jwksUrl: undefined, keys: SECRET, algorithms: ['HS256'], jwksCooldownSeconds: 5 }), /jwksCooldownSeconds applies only to keys fetched from a jwksUrl or through discovery/],
    ['both jwksUrl and keys', valid({ keys: [] }), /both set: choose one/],
    ['a clear-text jwksUrl off loopback', valid({ jwksUrl: 'http://sso.city.test/certs' }), /must use https/],
    ['a jwksUrl that is no URL', valid({ jwksUrl: 'certs' }), /must be an absolute URL/],
    ['a bad clock tolerance', valid({ clockToleranceSeconds: 3_600 }), /clockToleranceSeconds must be a whole number from 0 to 300/],
    ['an unknown claim field', valid({ claims: { tenant: 'tid' } }), /claims\.tenant is not a known field/],
    ['a malformed JSON pointer', valid({ claims: { roles: '/realm_access//roles' } }), /claims\.roles must be a claim name/],
    ['an empty bureaus list', valid({ bureaus: [] }), /bureaus must be a non-empty list/],
  ];
  for (const [name, entry, expected] of faults) {
    it(`refuses ${name}`, () => {
      expect(problemsOf(entry).join('\n')).toMatch(expected);
    });
  }

  it('takes an issuer configured by its URL alone as one discovered through OpenID Connect, https or loopback http', () => {
    const { issuers, problems } = parseIssuers(
      [valid({ jwksUrl: undefined, jwksCooldownSeconds: 0, jwksRefreshSeconds: 60 }), valid({ issuer: 'http://127.0.0.1:8080/realms/hrss', jwksUrl: undefined })],
      'ISTHMUS_ISSUERS',
    );
    expect(problems).toEqual([]);
    expect(issuers[0]).toMatchObject({ issuer: 'https://sso.city.test', discovery: true, jwksUrl: undefined, keys: undefined, jwksCooldownSeconds: 0, jwksRefreshSeconds: 60 });
    expect(issuers[1]).toMatchObject({ issuer: 'http://127.0.0.1:8080/realms/hrss', discovery: true, jwksCooldownSeconds: undefined, jwksRefreshSeconds: undefined });
    // Configured keys or a jwksUrl: no discovery.
    expect(parseIssuers([valid()], 'ISTHMUS_ISSUERS').issuers[0]!.discovery).toBe(false);
    // An HMAC issuer has nothing to discover: its secret is required.
    expect(problemsOf(valid({ algorithms: ['HS256'], jwksUrl: undefined })).join('\n')).toMatch(/keys is required: the shared secret/);
  });

  it('checks configured public keys: shape, kind, and no private material', () => {
    expect(problemsOf(valid({ jwksUrl: undefined, keys: [rsaPublic] }))).toEqual([]);
    expect(problemsOf(valid({ jwksUrl: undefined, keys: [rsaPrivate] })).join('\n')).toMatch(/keys\[0\] is a private or secret key/);
    expect(problemsOf(valid({ jwksUrl: undefined, keys: [rsaPrivate] })).join('\n')).not.toContain(String(rsaPrivate.d));
    expect(problemsOf(valid({ jwksUrl: undefined, keys: [ecPublic] })).join('\n')).toMatch(/keys\[0\] \(kty "EC", crv "P-256"\) fits none of the algorithms RS256/);
    expect(problemsOf(valid({ jwksUrl: undefined, keys: [{ kty: 'RSA', e: 'AQAB' }] })).join('\n')).toMatch(/must have "n" and "e"/);
    expect(problemsOf(valid({ jwksUrl: undefined, algorithms: ['ES256'], keys: [ecPublic] }))).toEqual([]);
  });

  it('turns a shared secret into an oct JWK and accepts oct JWKs', () => {
    const { issuers, problems } = parseIssuers(
      [valid({ issuer: 'hr', algorithms: ['HS256'], jwksUrl: undefined, keys: SECRET }), valid({ issuer: 'hr-2', algorithms: ['HS256'], jwksUrl: undefined, keys: [{ kty: 'oct', kid: 'k1', k: Buffer.from(SECRET).toString('base64url') }] })],
      'ISTHMUS_ISSUERS',
    );
    expect(problems).toEqual([]);
    expect(issuers[0]!.keys).toEqual([{ kty: 'oct', k: Buffer.from(SECRET).toString('base64url') }]);
    expect(issuers[1]!.keys![0]!.kid).toBe('k1');
  });

  it('accepts loopback http for tests and the demo', () => {
    expect(problemsOf(valid({ jwksUrl: 'http://127.0.0.1:8080/jwks.json' }))).toEqual([]);
    expect(problemsOf(valid({ jwksUrl: 'http://localhost:8080/jwks.json' }))).toEqual([]);
  });

  it('parses claim mappings: names with dots, JSON pointers with escapes, fallback lists', () => {
    const { issuers } = parseIssuers(
      [valid({ claims: { bureau: 'https://city.example/bureau', roles: '/realm_access/roles', citizen: '/ext/a~1b~0c', app: ['appid', 'azp'] } })],
      'ISTHMUS_ISSUERS',
    );
    const claims = issuers[0]!.claims;
    expect(claims.bureau).toEqual([{ name: 'https://city.example/bureau', path: ['https://city.example/bureau'] }]);
    expect(claims.roles).toEqual([{ name: '/realm_access/roles', path: ['realm_access', 'roles'] }]);
    expect(claims.citizen[0]!.path).toEqual(['ext', 'a/b~c']);
    expect(claims.app.map((ref) => ref.name)).toEqual(['appid', 'azp']);
    expect(claims.user).toEqual([{ name: 'preferred_username', path: ['preferred_username'] }]);
  });

  it('refuses a list that is not an array, and an issuer listed twice', () => {
    expect(parseIssuers({}, 'ISTHMUS_ISSUERS').problems).toEqual(['ISTHMUS_ISSUERS must be a JSON array of issuers']);
    expect(parseIssuers([valid(), valid()], 'ISTHMUS_ISSUERS').problems).toEqual(['ISTHMUS_ISSUERS[1] issuer "https://sso.city.test" is listed twice']);
  });

  it('defineIssuer throws a TypeError listing the problems', () => {
    expect(() => defineIssuer({ issuer: 'x', audience: 'y', algorithms: ['HS256'], keys: 'short' })).toThrow(/issuer "x": keys \(the shared secret\) must be at least 32 bytes/);
  });
});

describe('readIssuers and loadConfig', () => {
  it('reads ISTHMUS_ISSUERS, or ISTHMUS_ISSUERS_FILE, but not both', async () => {
    expect(readIssuers({}).issuers).toEqual([]);
    expect(readIssuers({ ISTHMUS_ISSUERS: JSON.stringify([valid()]) }).issuers).toHaveLength(1);
    const file = join(dir, 'issuers.json');
    await writeFile(file, JSON.stringify([valid(), valid({ issuer: 'https://two.test' })]));
    expect(readIssuers({ ISTHMUS_ISSUERS_FILE: file }).issuers.map((issuer) => issuer.issuer)).toEqual(['https://sso.city.test', 'https://two.test']);
    expect(readIssuers({ ISTHMUS_ISSUERS: '[]', ISTHMUS_ISSUERS_FILE: file }).problems).toEqual(['set ISTHMUS_ISSUERS or ISTHMUS_ISSUERS_FILE, not both']);
    expect(readIssuers({ ISTHMUS_ISSUERS_FILE: join(dir, 'missing.json') }).problems[0]).toMatch(/cannot be read \(ENOENT\)/);
  });

  it('reports bad JSON without quoting it (it holds secrets)', () => {
    const text = `[{"issuer": "hr", "keys": "${SECRET}" oops}]`;
    const { problems } = readIssuers({ ISTHMUS_ISSUERS: text });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ISTHMUS_ISSUERS is not valid JSON/);
    expect(problems[0]).not.toContain('horse');
  });

  it('stops loadConfig with a ConfigError naming the issuer and the setting', () => {
    const bad = JSON.stringify([valid({ issuer: 'https://broken.test', algorithms: ['HS256', 'RS256'] })]);
    let caught: unknown;
    try {
      loadConfig({ ISTHMUS_ISSUERS: bad });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.join('\n')).toMatch(/ISTHMUS_ISSUERS\[0\] issuer "https:\/\/broken.test": algorithms mixes/);
  });

  it('adds issuers, the dev issuer switch and the keys folder to the config', () => {
    const config = loadConfig({ ISTHMUS_ISSUERS: JSON.stringify([valid()]), ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_DATA_DIR: join(dir, 'data') });
    expect(config.issuers.map((issuer) => issuer.issuer)).toEqual(['https://sso.city.test']);
    expect(config.devIssuer).toBe(true);
    expect(config.keysDir).toBe(dir);
    expect(loadConfig({}).devIssuer).toBe(false);
    expect(loadConfig({}).keysDir).toMatch(/\.isthmus$/);
    expect(loadConfig({ ISTHMUS_DATA_DIR: ':memory:' }).keysDir).toBeUndefined();
    expect(loadConfig({ ISTHMUS_DATA_DIR: ':memory:', ISTHMUS_KEYS_DIR: join(dir, 'keys') }).keysDir).toBe(join(dir, 'keys'));
    expect(() => loadConfig({ ISTHMUS_DEV_ISSUER: 'yes' })).toThrow(/ISTHMUS_DEV_ISSUER must be true or false/);
    expect(() => loadConfig({ ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_ISSUERS: JSON.stringify([valid({ issuer: 'isthmus-dev' })]) })).toThrow(/must not list "isthmus-dev"/);
  });
});
