import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JWK } from 'jose';
import { ALGORITHM_KEYS, checkKeySource, checkPublicKeys, checkSecrets, MIN_HMAC_SECRET_BYTES } from './issuer-key-source.ts';

export { MIN_HMAC_SECRET_BYTES };

/**
 * Trusted token issuers: which identity providers may speak for a bureau,
 * how to check their tokens, and where in their tokens each part of a
 * `Principal` lives. Read from `ISTHMUS_ISSUERS` (a JSON array) or
 * `ISTHMUS_ISSUERS_FILE` (a path to one) and checked eagerly, so a bad entry
 * stops the gateway at start-up with a message naming the issuer and the
 * setting instead of failing every request later.
 *
 * Key material is checked for shape only, synchronously, so that every
 * problem is reported together; the verifier imports the keys.
 */

/**
 * Clock skew allowed on `exp` and `nbf` when an issuer does not say: an
 * expired token is still accepted this long after its `exp`. Set
 * `clockToleranceSeconds` per issuer (0 for none) where clocks are kept by NTP.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** More skew than this hides a broken clock rather than absorbing drift. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/** JWS algorithms an issuer may allow. `none` is deliberately not one of them. */
export type IssuerAlgorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519';

const ALGORITHMS = Object.keys(ALGORITHM_KEYS) as IssuerAlgorithm[];

/** True for the HMAC algorithms, whose "key" is a secret shared with the issuer. */
export function isHmacAlgorithm(algorithm: string): boolean {
  return algorithm.startsWith('HS');
}

/** The `Principal` fields an issuer's claims are mapped onto. */
export type ClaimField = 'subject' | 'bureau' | 'app' | 'user' | 'roles' | 'scopes' | 'citizen' | 'purpose' | 'caseId';

/**
 * Where each field is found when an issuer does not say. A list means
 * "the first one present": OAuth access tokens name the client in `azp`
 * (OIDC) or `client_id` (RFC 9068) depending on the provider.
 */
export const DEFAULT_CLAIMS: Readonly<Record<ClaimField, readonly string[]>> = {
  subject: ['sub'],
  bureau: ['bureau'],
  app: ['azp', 'client_id'],
  user: ['preferred_username'],
  roles: ['roles'],
  scopes: ['scope'],
  citizen: ['citizen_id'],
  purpose: ['purpose'],
  caseId: ['case_id'],
};
const CLAIM_FIELDS = Object.keys(DEFAULT_CLAIMS) as ClaimField[];

/**
 * One place to look for a claim: a top-level claim name (`azp`, or a
 * namespaced `https://city.example/bureau`, dots and all), or an RFC 6901
 * JSON pointer starting with `/` for nested claims (`/realm_access/roles`).
 */
export interface ClaimRef {
  /** As written in the configuration; error messages quote it. */
  readonly name: string;
  /** Property names from the claims set's root. */
  readonly path: readonly string[];
}

/** A trusted issuer, validated and normalised. Build one with {@link defineIssuer} or {@link parseIssuers}. */
export interface IssuerConfig {
  /** The exact `iss` its tokens carry. */
  readonly issuer: string;
  /** Accepted `aud` values; a token must name at least one. */
  readonly audience: readonly string[];
  /** The `alg` allow-list: all HMAC or all asymmetric, never `none`. */
  readonly algorithms: readonly IssuerAlgorithm[];
  /** Where its public keys are published; refetched when a token names an unknown `kid`. */
  readonly jwksUrl: string | undefined;
  /**
   * True when the issuer is configured by its URL alone (no `jwksUrl`, no
   * `keys`): the key set's address is the `jwks_uri` of
   * `<issuer>/.well-known/openid-configuration`, whose `issuer` must be this one exactly.
   */
  readonly discovery: boolean;
  /** After a fetch for an unknown `kid`, how long before another may happen; undefined: the verifier's default. */
  readonly jwksCooldownSeconds: number | undefined;
  /** How often the key set (and discovery document) is fetched again in the background; undefined: the verifier's default. */
  readonly jwksRefreshSeconds: number | undefined;
  /** Its public keys, or for HMAC its shared secrets as `oct` JWKs, when there is no `jwksUrl`. */
  readonly keys: readonly JWK[] | undefined;
  /** Where each `Principal` field is found, in order of preference. */
  readonly claims: Readonly<Record<ClaimField, readonly ClaimRef[]>>;
  /** Skew allowed on `exp` and `nbf`, in seconds ({@link DEFAULT_CLOCK_TOLERANCE_SECONDS} unless set). */
  readonly clockToleranceSeconds: number;
  /** When set, the only bureaus this issuer may speak for; a token naming another is refused. */
  readonly bureaus: readonly string[] | undefined;
}

/**
 * An issuer as written in `ISTHMUS_ISSUERS`.
 *
 * @example
 * {
 *   "issuer": "https://sso.city.example/realms/market",
 *   "audience": "isthmus-gateway",
 *   "algorithms": ["RS256"],
 *   "jwksUrl": "https://sso.city.example/realms/market/protocol/openid-connect/certs",
 *   "claims": { "roles": "/realm_access/roles" },
 *   "bureaus": ["market-supervision"]
 * }
 * @example
 * // Discovery: keys from https://sso.city.example/realms/hrss/.well-known/openid-configuration
 * { "issuer": "https://sso.city.example/realms/hrss", "audience": "isthmus-gateway", "algorithms": ["RS256"], "jwksCooldownSeconds": 5 }
 */
export interface IssuerInput {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly algorithms: readonly string[];
  readonly jwksUrl?: string;
  /** Public JWKs; for HMAC, `oct` JWKs or the shared secret itself as a string (its UTF-8 bytes are the key). */
  readonly keys?: readonly JWK[] | string;
  readonly claims?: Partial<Readonly<Record<ClaimField, string | readonly string[]>>>;
  readonly clockToleranceSeconds?: number;
  readonly jwksCooldownSeconds?: number;
  readonly jwksRefreshSeconds?: number;
  readonly bureaus?: readonly string[];
}

const ISSUER_KEYS: ReadonlySet<string> = new Set(['issuer', 'audience', 'algorithms', 'jwksUrl', 'keys', 'claims', 'clockToleranceSeconds', 'jwksCooldownSeconds', 'jwksRefreshSeconds', 'bureaus']);

/**
 * Validates a list of issuers and reports every problem at once, each naming
 * `source` (the setting it came from) and the issuer.
 *
 * @param input The parsed JSON: must be an array of {@link IssuerInput}.
 * @param source The setting's name, for messages (`ISTHMUS_ISSUERS`).
 */
export function parseIssuers(input: unknown, source: string): { readonly issuers: readonly IssuerConfig[]; readonly problems: readonly string[] } {
  if (!Array.isArray(input)) return { issuers: [], problems: [`${source} must be a JSON array of issuers`] };
  const problems: string[] = [];
  const issuers: IssuerConfig[] = [];
  const seen = new Set<string>();
  input.forEach((entry: unknown, index) => {
    const checked = checkIssuer(entry, `${source}[${index}]`);
    problems.push(...checked.problems);
    if (!checked.issuer) return;
    if (seen.has(checked.issuer.issuer)) {
      problems.push(`${source}[${index}] issuer "${checked.issuer.issuer}" is listed twice`);
      return;
    }
    seen.add(checked.issuer.issuer);
    issuers.push(checked.issuer);
  });
  return { issuers, problems };
}

/**
 * Validates one issuer given in code (tests, the dev issuer).
 *
 * @throws TypeError listing every problem.
 */
export function defineIssuer(input: IssuerInput): IssuerConfig {
  const { issuer, problems } = checkIssuer(input, 'issuer');
  if (!issuer) throw new TypeError(`invalid issuer:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  return issuer;
}

/**
 * Reads `ISTHMUS_ISSUERS` or `ISTHMUS_ISSUERS_FILE` (not both). Neither set
 * means no external issuer is trusted. The file is read synchronously
 * because this runs once, at start-up, before anything listens.
 */
export function readIssuers(env: Readonly<Record<string, string | undefined>>): { readonly issuers: readonly IssuerConfig[]; readonly problems: readonly string[] } {
  const inline = env.ISTHMUS_ISSUERS || undefined;
  const file = env.ISTHMUS_ISSUERS_FILE || undefined;
  if (inline !== undefined && file !== undefined) {
    return { issuers: [], problems: ['set ISTHMUS_ISSUERS or ISTHMUS_ISSUERS_FILE, not both'] };
  }
  let text: string;
  let source: string;
  if (file !== undefined) {
    source = `ISTHMUS_ISSUERS_FILE (${resolve(file)})`;
    try {
      text = readFileSync(resolve(file), 'utf8');
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unreadable';
      return { issuers: [], problems: [`${source} cannot be read (${code})`] };
    }
  } else if (inline !== undefined) {
    source = 'ISTHMUS_ISSUERS';
    text = inline;
  } else {
    return { issuers: [], problems: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text around the fault, and this text holds
    // secrets: keep only the position.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    return { issuers: [], problems: [`${source} is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`] };
  }
  return parseIssuers(parsed, source);
}

function checkIssuer(entry: unknown, at: string): { readonly issuer?: IssuerConfig; readonly problems: readonly string[] } {
  if (!isRecord(entry)) return { problems: [`${at} must be an object`] };
  const id = typeof entry.issuer === 'string' && entry.issuer !== '' ? entry.issuer : undefined;
  const where = id === undefined ? at : `${at} issuer "${id}"`;
  const problems: string[] = [];
  const problem = (setting: string, text: string): void => {
    problems.push(`${where}: ${setting} ${text}`);
  };

  for (const key of Object.keys(entry)) {
    if (!ISSUER_KEYS.has(key)) problem(key, `is not a known setting (known: ${[...ISSUER_KEYS].join(', ')})`);
  }
  if (id === undefined) problem('issuer', 'is required: the exact `iss` value of its tokens');

  const audience = stringList(entry.audience);
  if (audience === undefined || audience.length === 0) problem('audience', 'is required: a string or a non-empty list of strings');

  const algorithms = checkAlgorithms(entry.algorithms, problem);
  const hmac = algorithms !== undefined && algorithms.length > 0 && isHmacAlgorithm(algorithms[0]!);

  const source = checkKeySource(entry, id, hmac, problem);
  let keys: readonly JWK[] | undefined;
  if (entry.keys !== undefined && entry.jwksUrl === undefined && algorithms !== undefined && algorithms.length > 0) {
    keys = hmac ? checkSecrets(entry.keys, algorithms, problem) : checkPublicKeys(entry.keys, algorithms, problem);
  }

  const claims = checkClaims(entry.claims, problem);

  let clockToleranceSeconds = DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (entry.clockToleranceSeconds !== undefined) {
    const value = entry.clockToleranceSeconds;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_CLOCK_TOLERANCE_SECONDS) {
      problem('clockToleranceSeconds', `must be a whole number from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
    } else clockToleranceSeconds = value;
  }

  let bureaus: readonly string[] | undefined;
  if (entry.bureaus !== undefined) {
    bureaus = stringList(entry.bureaus);
    if (bureaus === undefined || bureaus.length === 0 || typeof entry.bureaus === 'string') {
      problem('bureaus', 'must be a non-empty list of bureau ids');
      bureaus = undefined;
    }
  }

  if (problems.length > 0 || id === undefined || audience === undefined || algorithms === undefined || claims === undefined) return { problems };
  return {
    problems,
    issuer: { issuer: id, audience, algorithms, ...source, keys, claims, clockToleranceSeconds, bureaus },
  };
}

type Problem = (setting: string, text: string) => void;

function checkAlgorithms(value: unknown, problem: Problem): readonly IssuerAlgorithm[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    problem('algorithms', `is required: a non-empty list such as ["RS256"] (allowed: ${ALGORITHMS.join(', ')})`);
    return undefined;
  }
  const names = value as string[];
  if (names.some((name) => name.toLowerCase() === 'none')) {
    problem('algorithms', 'must not contain "none": unsigned tokens are never accepted');
    return undefined;
  }
  const unknown = names.filter((name) => !(ALGORITHMS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    problem('algorithms', `has unsupported ${unknown.map((name) => `"${name}"`).join(', ')} (allowed: ${ALGORITHMS.join(', ')})`);
    return undefined;
  }
  const hmac = names.filter(isHmacAlgorithm);
  if (hmac.length > 0 && hmac.length < names.length) {
    // One issuer with both lets an attacker sign HS256 with the RSA public
    // key as the "secret" (algorithm confusion).
    problem('algorithms', 'mixes HMAC (HS*) and asymmetric algorithms: one issuer must use one kind');
    return undefined;
  }
  return [...new Set(names)] as IssuerAlgorithm[];
}

function checkClaims(value: unknown, problem: Problem): Readonly<Record<ClaimField, readonly ClaimRef[]>> | undefined {
  const claims = Object.fromEntries(CLAIM_FIELDS.map((field) => [field, DEFAULT_CLAIMS[field].map(topLevel)])) as unknown as Record<ClaimField, readonly ClaimRef[]>;
  if (value === undefined) return claims;
  if (!isRecord(value)) {
    problem('claims', 'must be an object mapping fields to claim names');
    return undefined;
  }
  let ok = true;
  for (const [field, names] of Object.entries(value)) {
    if (!(CLAIM_FIELDS as readonly string[]).includes(field)) {
      problem(`claims.${field}`, `is not a known field (known: ${CLAIM_FIELDS.join(', ')})`);
      ok = false;
      continue;
    }
    const list = stringList(names);
    const refs = list?.map(claimRef);
    if (list === undefined || list.length === 0 || refs === undefined || refs.some((ref) => ref === undefined)) {
      problem(`claims.${field}`, 'must be a claim name, a JSON pointer such as "/realm_access/roles", or a non-empty list of them');
      ok = false;
      continue;
    }
    claims[field as ClaimField] = refs as ClaimRef[];
  }
  return ok ? claims : undefined;
}

function topLevel(name: string): ClaimRef {
  return { name, path: [name] };
}

function claimRef(name: string): ClaimRef | undefined {
  if (name === '') return undefined;
  if (!name.startsWith('/')) return topLevel(name);
  const segments = name.slice(1).split('/');
  if (segments.some((segment) => segment === '' || /~[^01]|~$/.test(segment))) return undefined;
  return { name, path: segments.map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~')) };
}

function stringList(value: unknown): readonly string[] | undefined {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '')) return [...(value as string[])];
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
