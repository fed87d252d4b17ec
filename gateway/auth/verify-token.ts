import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type ProtectedHeaderParameters } from 'jose';
import { ROLES, type Principal, type Role } from '../../policies/principal.ts';
import { ClaimInvalid, IssuerUnknown, AlgorithmNotAllowed, TokenMalformed, TokenMissing } from './auth-error.ts';
import { isHmacAlgorithm, type ClaimField, type ClaimRef, type IssuerConfig } from './issuer-config.ts';
import { createTokenCache, DEFAULT_TOKEN_CACHE_SIZE, DEFAULT_TOKEN_CACHE_TTL_MS } from './token-cache.ts';
import { quote, toAuthError, type VerificationContext } from './to-auth-error.ts';
import { abortable } from './abortable.ts';
import { createRemoteKeySet, DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_REFRESH_MS, type KeySetStatus, type RemoteKeySet } from './remote-key-set.ts';

export { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_REFRESH_MS, type KeySetStatus } from './remote-key-set.ts';

/** Bound on one JWKS fetch; a request waiting on an identity provider must not hang. */
export const DEFAULT_JWKS_TIMEOUT_MS = 3_000;
/**
 * How long a fetched key set is used before it is fetched again (consumer
 * assertions; issuers' key sets use {@link DEFAULT_JWKS_REFRESH_MS}). Shorter
 * than jose's 10 minutes so that a key the issuer withdraws stops working
 * within this plus {@link DEFAULT_TOKEN_CACHE_TTL_MS}.
 */
export const DEFAULT_JWKS_MAX_AGE_MS = 300_000;
/** Longer "tokens" are refused before any parsing: no real access token is near this size. */
export const MAX_TOKEN_LENGTH = 16_384;

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** The trusted issuers (see `issuer-config.ts`); a token naming any other is `ISSUER_UNKNOWN`. */
  readonly issuers: readonly IssuerConfig[];
  /** The clock, in milliseconds since the epoch; tests move it. Default `Date.now`. */
  readonly now?: () => number;
  /** Bound on one JWKS fetch. Default {@link DEFAULT_JWKS_TIMEOUT_MS}. */
  readonly fetchTimeoutMs?: number;
  /** The JWKS cooldown of issuers that set no `jwksCooldownSeconds`. Default {@link DEFAULT_JWKS_COOLDOWN_MS}. */
  readonly jwksCooldownMs?: number;
  /** The key set refresh interval of issuers that set no `jwksRefreshSeconds`. Default {@link DEFAULT_JWKS_REFRESH_MS}. */
  readonly jwksMaxAgeMs?: number;
  /** Verified tokens remembered; `0` turns the cache off. Default {@link DEFAULT_TOKEN_CACHE_SIZE}. */
  readonly cacheSize?: number;
  /** Longest a verified token is remembered. Default {@link DEFAULT_TOKEN_CACHE_TTL_MS}. */
  readonly cacheTtlMs?: number;
  /** Told when an issuer's keys cannot be fetched, once per new reason (for the log). */
  readonly onKeySetFailure?: (status: KeySetStatus) => void;
}

/** Checks bearer tokens and says who they speak for. */
export interface TokenVerifier {
  /**
   * Verifies `token` against the issuer its `iss` names and maps its claims
   * onto a {@link Principal}.
   *
   * @throws AuthError with the reason (`TOKEN_EXPIRED`, `AUDIENCE_MISMATCH`, …).
   * @throws the signal's reason when `signal` aborts first.
   */
  verify(token: string, signal?: AbortSignal): Promise<Principal>;
  /** The trusted issuers' ids. */
  readonly issuers: readonly string[];
  /**
   * Fetches every remote issuer's keys now (discovery first where configured)
   * and again every refresh interval, in the background. Without it, keys are
   * fetched when the first token needs them.
   */
  start(): void;
  /** Stops the background refreshes. */
  close(): void;
  /** The state of each remote issuer's keys, for `/readyz`. */
  keySets(): readonly KeySetStatus[];
}

interface PreparedIssuer {
  readonly config: IssuerConfig;
  /** Asymmetric keys, local or remote. */
  readonly keySet: ReturnType<typeof createLocalJWKSet> | RemoteKeySet['getKey'] | undefined;
  readonly remote: RemoteKeySet | undefined;
  /** HMAC secrets, by `kid` where the JWK has one. */
  readonly secrets: readonly { readonly kid: string | undefined; readonly secret: Uint8Array }[] | undefined;
}

/**
 * Builds the gateway's token verifier. Nothing is fetched until the first
 * token of a JWKS issuer arrives, or {@link TokenVerifier.start} is called;
 * a token whose `kid` the key set lacks triggers a refetch at once when the
 * cooldown allows, and inside it is answered `KEY_NOT_YET_KNOWN` (retryable),
 * so issuers rotate keys without a restart and without a refusal that reads
 * as a forgery (see `remote-key-set.ts`).
 *
 * Verified tokens are cached (keyed by their hash) until their `exp`, and
 * for at most `cacheTtlMs`.
 *
 * @example
 * const verifier = createTokenVerifier({ issuers: config.issuers });
 * const principal = await verifier.verify(token, request.signal);
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
  const cooldownMs = options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  const maxAgeMs = options.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
  if (!Array.isArray(options.issuers)) throw new TypeError('issuers must be a list of issuer configurations');
  if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs < 1 || fetchTimeoutMs > 60_000) throw new TypeError('fetchTimeoutMs must be a whole number from 1 to 60000');
  if (!Number.isInteger(cooldownMs) || cooldownMs < 0) throw new TypeError('jwksCooldownMs must be a whole number ≥ 0');
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new TypeError('jwksMaxAgeMs must be a whole number ≥ 0');
  const cache = createTokenCache<Principal>({ maxEntries: options.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE, ttlMs: options.cacheTtlMs ?? DEFAULT_TOKEN_CACHE_TTL_MS });

  const trusted = new Map<string, PreparedIssuer>();
  for (const config of options.issuers) {
    if (trusted.has(config.issuer)) throw new TypeError(`issuer ${config.issuer} is listed twice`);
    trusted.set(config.issuer, prepareIssuer(config, { timeoutMs: fetchTimeoutMs, cooldownMs, refreshMs: maxAgeMs, now, onFailure: options.onKeySetFailure }));
  }
  const known = [...trusted.keys()];

  async function verifyUncached(token: string, nowMs: number): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenMalformed(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch (error) {
      throw new TokenMalformed('the token is not a signed JWT in compact form (base64url header.payload.signature)', { cause: error });
    }
    // The unverified `iss` only picks whose rules apply; jwtVerify then
    // requires the same `iss` under that issuer's signature.
    if (typeof unverified.iss !== 'string') throw new IssuerUnknown('the token has no "iss" claim naming its issuer');
    const issuer = trusted.get(unverified.iss);
    if (!issuer) {
      throw new IssuerUnknown(`the token's issuer ${quote(unverified.iss)} is not trusted${known.length > 0 ? ` (trusted: ${known.join(', ')})` : ': no issuers are configured'}`);
    }
    const { config } = issuer;
    const context: VerificationContext = {
      issuer: config.issuer,
      subject: 'token',
      audience: config.audience,
      algorithms: config.algorithms,
      clockToleranceSeconds: config.clockToleranceSeconds,
      header,
      jwksUrl: issuer.remote?.where(),
      fetchTimeoutMs,
    };
    // Checked here too (jose checks again) for a message that names the
    // allow-list: this is where `alg: none` and HS256-with-the-RSA-public-key end.
    if (typeof header.alg !== 'string' || !(config.algorithms as readonly string[]).includes(header.alg)) {
      const alg = typeof header.alg === 'string' ? header.alg : 'no algorithm';
      throw new AlgorithmNotAllowed(`the token is signed with ${quote(alg)}; issuer ${config.issuer} accepts only ${config.algorithms.join(', ')}`, alg, { issuer: config.issuer });
    }
    const verifyOptions: JWTVerifyOptions = {
      issuer: config.issuer,
      audience: [...config.audience],
      algorithms: [...config.algorithms],
      clockTolerance: config.clockToleranceSeconds,
      requiredClaims: ['exp'],
      currentDate: new Date(nowMs),
    };
    let payload: JWTPayload;
    try {
      payload = await verifyWith(issuer, token, header, verifyOptions);
    } catch (error) {
      throw toAuthError(error, context);
    }
    return toPrincipal(payload, config);
  }

  const remotes = [...trusted.values()].flatMap((issuer) => (issuer.remote ? [issuer.remote] : []));
  return {
    issuers: known,
    start: () => remotes.forEach((remote) => remote.start()),
    close: () => remotes.forEach((remote) => remote.close()),
    keySets: () => remotes.map((remote) => remote.status()),
    async verify(token, signal) {
      signal?.throwIfAborted();
      if (typeof token !== 'string' || token === '') throw new TokenMissing('no token was given');
      const nowMs = now();
      const cached = cache.get(token, nowMs);
      if (cached !== undefined) return cached;
      const principal = await abortable(verifyUncached(token, nowMs), signal);
      cache.set(token, principal, principal.expiresAt * 1_000, nowMs);
      return principal;
    },
  };
}

interface RemoteDefaults {
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly refreshMs: number;
  readonly now: () => number;
  readonly onFailure: ((status: KeySetStatus) => void) | undefined;
}

function prepareIssuer(config: IssuerConfig, defaults: RemoteDefaults): PreparedIssuer {
  if (config.jwksUrl !== undefined || config.discovery) {
    const remote = createRemoteKeySet({
      issuer: config.issuer,
      jwksUrl: config.jwksUrl,
      algorithms: config.algorithms,
      cooldownMs: config.jwksCooldownSeconds === undefined ? defaults.cooldownMs : config.jwksCooldownSeconds * 1_000,
      refreshMs: config.jwksRefreshSeconds === undefined ? defaults.refreshMs : config.jwksRefreshSeconds * 1_000,
      timeoutMs: defaults.timeoutMs,
      now: defaults.now,
      ...(defaults.onFailure && { onFailure: defaults.onFailure }),
    });
    return { config, keySet: remote.getKey, remote, secrets: undefined };
  }
  const keys = config.keys ?? [];
  if (config.algorithms.some(isHmacAlgorithm)) {
    return {
      config,
      keySet: undefined,
      remote: undefined,
      secrets: keys.map((jwk) => ({ kid: jwk.kid, secret: new Uint8Array(Buffer.from(jwk.k ?? '', 'base64url')) })),
    };
  }
  return { config, keySet: createLocalJWKSet({ keys: keys.map((jwk) => ({ ...jwk })) }), remote: undefined, secrets: undefined };
}

/** Runs jwtVerify with the issuer's keys; where several keys could match (no `kid`), each is tried. */
async function verifyWith(issuer: PreparedIssuer, token: string, header: ProtectedHeaderParameters, options: JWTVerifyOptions): Promise<JWTPayload> {
  if (issuer.secrets !== undefined) {
    const candidates = issuer.secrets.filter((secret) => header.kid === undefined || secret.kid === undefined || secret.kid === header.kid);
    if (candidates.length === 0) throw new errors.JWKSNoMatchingKey();
    return tryEach(token, candidates.map((candidate) => candidate.secret), options);
  }
  try {
    return (await jwtVerify(token, issuer.keySet!, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    const keys = [];
    for await (const key of error) keys.push(key);
    return tryEach(token, keys, options);
  }
}

async function tryEach(token: string, keys: readonly (CryptoKey | Uint8Array)[], options: JWTVerifyOptions): Promise<JWTPayload> {
  let failure: unknown = new errors.JWSSignatureVerificationFailed();
  for (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      // Only a signature mismatch means "try the next key"; an expired token
      // signed with the right key is expired, whatever the other keys say.
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
      failure = error;
    }
  }
  throw failure;
}

/** Maps the verified claims onto a Principal, refusing any claim that has the wrong shape. */
function toPrincipal(payload: JWTPayload, config: IssuerConfig): Principal {
  const issuer = config.issuer;
  const find = (field: ClaimField): { readonly ref: ClaimRef; readonly value: unknown } | undefined => {
    for (const ref of config.claims[field]) {
      const value = lookup(payload, ref.path);
      if (value !== undefined && value !== null) return { ref, value };
    }
    return undefined;
  };
  const names = (field: ClaimField): string => config.claims[field].map((ref) => `"${ref.name}"`).join(' or ');
  const required = (field: ClaimField, what: string): string => {
    const found = find(field);
    if (found === undefined) throw new ClaimInvalid(`the token must name ${what} in claim ${names(field)}`, config.claims[field][0]!.name, { issuer });
    if (typeof found.value !== 'string' || found.value === '') throw new ClaimInvalid(`claim "${found.ref.name}" (${what}) must be a non-empty string`, found.ref.name, { issuer });
    return found.value;
  };
  const optional = (field: ClaimField, what: string): string | undefined => {
    const found = find(field);
    if (found === undefined) return undefined;
    if (typeof found.value !== 'string' || found.value === '') throw new ClaimInvalid(`claim "${found.ref.name}" (${what}) must be a non-empty string`, found.ref.name, { issuer });
    return found.value;
  };
  const list = (field: ClaimField, what: string): readonly string[] => {
    const found = find(field);
    if (found === undefined) return [];
    const { ref, value } = found;
    // A malformed list is refused rather than read as "none": a token whose
    // scopes an issuer meant to grant must not silently lose them, and one
    // whose shape we misread must not silently gain any.
    const shape = new ClaimInvalid(`claim "${ref.name}" (${what}) must be a space-separated string or an array of strings`, ref.name, { issuer });
    let items: string[];
    if (typeof value === 'string') items = value.split(/\s+/).filter((item) => item !== '');
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '' && !/\s/.test(item))) items = value as string[];
    else throw shape;
    return Object.freeze([...new Set(items)]);
  };

  const subject = required('subject', 'the subject');
  const bureau = required('bureau', 'the consumer bureau');
  const app = required('app', 'the client application');
  if (config.bureaus !== undefined && !config.bureaus.includes(bureau)) {
    const claim = find('bureau')!.ref.name;
    throw new ClaimInvalid(`issuer ${issuer} may not speak for bureau ${quote(bureau)} (only ${config.bureaus.join(', ')})`, claim, { issuer });
  }
  const roles = list('roles', 'roles');
  const unknownRole = roles.find((role) => !(ROLES as readonly string[]).includes(role));
  if (unknownRole !== undefined) {
    const claim = find('roles')!.ref.name;
    throw new ClaimInvalid(`claim "${claim}" has unknown role ${quote(unknownRole)} (known: ${ROLES.join(', ')})`, claim, { issuer });
  }
  const user = optional('user', 'the user');
  const citizen = optional('citizen', "the citizen's ID number");
  const purpose = optional('purpose', 'the purpose');
  const caseId = optional('caseId', 'the case id');
  return Object.freeze({
    issuer,
    subject,
    bureau,
    app,
    ...(user === undefined ? {} : { user }),
    roles: roles as readonly Role[],
    scopes: list('scopes', 'scopes'),
    ...(citizen === undefined ? {} : { citizen }),
    ...(purpose === undefined ? {} : { purpose }),
    ...(caseId === undefined ? {} : { caseId }),
    // jwtVerify required `exp` and checked that it is a number.
    expiresAt: payload.exp!,
  } satisfies Principal);
}

function lookup(payload: JWTPayload, path: readonly string[]): unknown {
  let value: unknown = payload;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}
