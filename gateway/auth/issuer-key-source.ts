import type { JWK } from 'jose';
import type { IssuerAlgorithm } from './issuer-config.ts';

/**
 * An issuer's keys as `ISTHMUS_ISSUERS` gives them: configured `keys` (public
 * JWKs, or an HMAC secret), a `jwksUrl`, or — with neither — OpenID Connect
 * discovery from the issuer URL itself; and how often a fetched key set is
 * fetched again. Checked with the rest of the issuer (`issuer-config.ts`).
 */

/** Shortest HMAC secret accepted (RFC 7518 §3.2: at least the hash size; HS384/HS512 need 48/64). */
export const MIN_HMAC_SECRET_BYTES = 32;

/** What key each algorithm needs: `oct` for HMAC, else the JWK `kty` (and `crv`). */
export const ALGORITHM_KEYS: Readonly<Record<IssuerAlgorithm, { readonly kty: string; readonly crv?: string; readonly secretBytes?: number }>> = {
  HS256: { kty: 'oct', secretBytes: 32 },
  HS384: { kty: 'oct', secretBytes: 48 },
  HS512: { kty: 'oct', secretBytes: 64 },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** JWK members that only private keys have: configuring them is a leak waiting to happen. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/** Longest JWKS cooldown accepted: past ten minutes a rotation would be refused (retryably) for longer than any client waits. */
export const MAX_JWKS_COOLDOWN_SECONDS = 600;
/** Bounds of the background refresh: not a busy loop against the provider, and at least daily. */
export const MIN_JWKS_REFRESH_SECONDS = 10;
export const MAX_JWKS_REFRESH_SECONDS = 86_400;

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The key-source settings of one issuer, checked. */
export interface KeySourceSettings {
  /** Where its public keys are published, when configured directly. */
  readonly jwksUrl: string | undefined;
  /** True when neither `jwksUrl` nor `keys` is set: `jwks_uri` comes from `<issuer>/.well-known/openid-configuration`. */
  readonly discovery: boolean;
  /** `jwksCooldownSeconds`: undefined leaves the verifier's default. */
  readonly jwksCooldownSeconds: number | undefined;
  /** `jwksRefreshSeconds`: undefined leaves the verifier's default. */
  readonly jwksRefreshSeconds: number | undefined;
}

type Problem = (setting: string, text: string) => void;

/**
 * Checks `jwksUrl`, the discovery case and the two timings of an issuer
 * entry. `keys` itself is checked by the caller; this only needs to know
 * whether it is there.
 */
export function checkKeySource(entry: Readonly<Record<string, unknown>>, issuer: string | undefined, hmac: boolean, problem: Problem): KeySourceSettings {
  let jwksUrl: string | undefined;
  if (entry.jwksUrl !== undefined) {
    jwksUrl = checkFetchUrl(entry.jwksUrl, 'jwksUrl', problem);
    if (hmac) problem('jwksUrl', 'cannot be used with HMAC algorithms: their shared secret goes in keys');
    if (entry.keys !== undefined) problem('keys', 'and jwksUrl are both set: choose one');
  }
  const discovery = entry.jwksUrl === undefined && entry.keys === undefined;
  if (discovery) {
    if (hmac) problem('keys', 'is required: the shared secret (at least 32 bytes)');
    // The issuer URL itself is fetched: the same rules as a jwksUrl, and OpenID Connect's (no query, no fragment).
    else if (issuer !== undefined) checkFetchUrl(issuer, 'issuer', problem, ' (with neither keys nor jwksUrl, its keys are found through OpenID Connect discovery at <issuer>/.well-known/openid-configuration)');
  }
  const remote = jwksUrl !== undefined || discovery;
  const seconds = (setting: 'jwksCooldownSeconds' | 'jwksRefreshSeconds', min: number, max: number): number | undefined => {
    const value = entry[setting];
    if (value === undefined) return undefined;
    if (!remote) {
      problem(setting, 'applies only to keys fetched from a jwksUrl or through discovery');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problem(setting, `must be a whole number of seconds from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  return {
    jwksUrl,
    discovery: discovery && !hmac,
    jwksCooldownSeconds: seconds('jwksCooldownSeconds', 0, MAX_JWKS_COOLDOWN_SECONDS),
    jwksRefreshSeconds: seconds('jwksRefreshSeconds', MIN_JWKS_REFRESH_SECONDS, MAX_JWKS_REFRESH_SECONDS),
  };
}

/**
 * True for a URL keys may be fetched from: https, or http on a loopback
 * host (tests, the demo). Keys fetched in clear text can be swapped in transit.
 */
export function isFetchableUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function checkFetchUrl(value: unknown, setting: string, problem: Problem, why = ''): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    problem(setting, `must be an absolute URL${why}`);
    return undefined;
  }
  const url = new URL(value);
  if (!isFetchableUrl(url)) {
    problem(setting, `must use https (http only on 127.0.0.1, ::1 or localhost)${why}`);
    return undefined;
  }
  if (setting === 'issuer' && (url.search !== '' || url.hash !== '')) {
    problem(setting, `must have no query or fragment${why}`);
    return undefined;
  }
  return url.href;
}

/** An HMAC issuer's `keys`: the secret itself, or `oct` JWKs, each long enough for the algorithms. */
export function checkSecrets(value: unknown, algorithms: readonly IssuerAlgorithm[], problem: Problem): readonly JWK[] | undefined {
  const needed = Math.max(MIN_HMAC_SECRET_BYTES, ...algorithms.map((algorithm) => ALGORITHM_KEYS[algorithm].secretBytes ?? 0));
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length < needed) {
      problem('keys', `(the shared secret) must be at least ${needed} bytes for ${algorithms.join(', ')}`);
      return undefined;
    }
    return [{ kty: 'oct', k: bytes.toString('base64url') }];
  }
  if (!Array.isArray(value) || value.length === 0) {
    problem('keys', `must be the shared secret (a string of at least ${needed} bytes) or a list of "oct" JWKs`);
    return undefined;
  }
  let ok = true;
  value.forEach((jwk: unknown, index) => {
    if (!isRecord(jwk) || jwk.kty !== 'oct' || typeof jwk.k !== 'string' || !/^[A-Za-z0-9_-]*$/.test(jwk.k)) {
      problem(`keys[${index}]`, 'must be an "oct" JWK with a base64url "k"');
      ok = false;
    } else if (Buffer.from(jwk.k, 'base64url').length < needed) {
      problem(`keys[${index}]`, `must hold a secret of at least ${needed} bytes for ${algorithms.join(', ')}`);
      ok = false;
    }
  });
  return ok ? (value as JWK[]).map((jwk) => ({ ...jwk })) : undefined;
}

/** An asymmetric issuer's `keys`: public JWKs only, each fitting one of the algorithms. */
export function checkPublicKeys(value: unknown, algorithms: readonly IssuerAlgorithm[], problem: Problem): readonly JWK[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problem('keys', 'must be a non-empty list of public JWKs');
    return undefined;
  }
  let ok = true;
  value.forEach((jwk: unknown, index) => {
    const at = `keys[${index}]`;
    if (!isRecord(jwk) || typeof jwk.kty !== 'string') {
      problem(at, 'must be a JWK object with a "kty"');
      ok = false;
      return;
    }
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk) || jwk.kty === 'oct') {
      problem(at, 'is a private or secret key: configure only the issuer\'s public key');
      ok = false;
      return;
    }
    const fits = algorithms.some((algorithm) => {
      const need = ALGORITHM_KEYS[algorithm];
      return need.kty === jwk.kty && (need.crv === undefined || need.crv === jwk.crv);
    });
    const members = jwk.kty === 'RSA' ? ['n', 'e'] : jwk.kty === 'EC' ? ['x', 'y'] : ['x'];
    if (!fits) {
      problem(at, `(kty "${jwk.kty}"${typeof jwk.crv === 'string' ? `, crv "${jwk.crv}"` : ''}) fits none of the algorithms ${algorithms.join(', ')}`);
      ok = false;
    } else if (!members.every((member) => typeof jwk[member] === 'string')) {
      problem(at, `must have ${members.map((member) => `"${member}"`).join(' and ')}`);
      ok = false;
    }
  });
  return ok ? (value as JWK[]).map((jwk) => ({ ...jwk })) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
