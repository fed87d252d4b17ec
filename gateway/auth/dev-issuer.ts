import { randomUUID } from 'node:crypto';
import { SignJWT, type JSONWebKeySet } from 'jose';
import { ROLES, type Role } from '../../policies/principal.ts';
import { defineIssuer, type IssuerConfig } from './issuer-config.ts';
import { openSigningKey, SIGNING_ALGORITHM } from './signing-key.ts';
import { parseTtl } from './token-ttl.ts';

/** The `iss` of dev tokens. */
export const DEV_ISSUER = 'isthmus-dev';
/** The `aud` of dev tokens: the gateway itself. */
export const DEV_AUDIENCE = 'isthmus-gateway';
/** The dev issuer's key file, inside the keys folder (`.isthmus/` by default). */
export const DEV_ISSUER_KEY_FILE = 'dev-issuer.json';

/** What a dev token says; the claims use the default claim names of `issuer-config.ts`. */
export interface DevTokenClaims {
  /** The consumer bureau (`bureau`). */
  readonly bureau: string;
  /** The client application (`azp`). */
  readonly app: string;
  /** The person (`preferred_username`, and `sub`; `sub` is the app when there is no user). */
  readonly user?: string;
  readonly roles?: readonly Role[];
  /** Joined into the space-separated `scope` claim. */
  readonly scopes?: readonly string[];
  /** The signed-in citizen's resident ID number (`citizen_id`). */
  readonly citizen?: string;
  readonly purpose?: string;
  /** `case_id`. */
  readonly caseId?: string;
  /** Seconds, or a duration such as `30m`, `1h`, `7d` (see `parseTtl`). */
  readonly ttl: number | string;
}

/** A local identity provider for the demo city, tests and development. */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** The `kid` its tokens carry. */
  readonly kid: string;
  /** Its public key, as served at `/.well-known/jwks.json`. */
  readonly jwks: JSONWebKeySet;
  /** The issuer entry the gateway trusts it with (local public key, ES256 only). */
  readonly issuerConfig: IssuerConfig;
  /** Where its key lives; undefined when in memory. */
  readonly keyFile: string | undefined;
  /**
   * Signs a compact JWT.
   *
   * @throws TypeError when a claim is empty or malformed, or the ttl is out of range.
   */
  signDevToken(claims: DevTokenClaims): Promise<string>;
}

/** Options of {@link openDevIssuer}. */
export interface DevIssuerOptions {
  /** Folder of the key file; undefined keeps the key in memory. */
  readonly keysDir: string | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

/**
 * Opens the dev issuer, creating its ES256 key pair on first use. The
 * gateway trusts it only when `ISTHMUS_DEV_ISSUER=true`; `isthmus token`
 * signs with the same key file, so its tokens work against a running demo.
 *
 * @example
 * const dev = await openDevIssuer({ keysDir: undefined });
 * const token = await dev.signDevToken({ bureau: 'market-supervision', app: 'licensing-portal', scopes: ['hrss.social-insurance'], ttl: '1h' });
 */
export async function openDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const now = options.now ?? Date.now;
  const key = await openSigningKey({ dir: options.keysDir, fileName: DEV_ISSUER_KEY_FILE, purpose: 'Isthmus dev issuer (development only; never trust it in production)', signal: options.signal });
  const jwks: JSONWebKeySet = Object.freeze({ keys: Object.freeze([key.publicJwk]) }) as JSONWebKeySet;
  const issuerConfig = defineIssuer({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, algorithms: [SIGNING_ALGORITHM], keys: [key.publicJwk] });

  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    kid: key.kid,
    jwks,
    issuerConfig,
    keyFile: key.file,
    async signDevToken(claims) {
      const ttl = parseTtl(claims.ttl);
      const text = (name: string, value: unknown, required: boolean): string | undefined => {
        if (value === undefined && !required) return undefined;
        if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${name} must be a non-empty string`);
        return value;
      };
      const bureau = text('bureau', claims.bureau, true)!;
      const app = text('app', claims.app, true)!;
      const user = text('user', claims.user, false);
      const citizen = text('citizen', claims.citizen, false);
      const purpose = text('purpose', claims.purpose, false);
      const caseId = text('caseId', claims.caseId, false);
      const roles = [...new Set(claims.roles ?? [])];
      for (const role of roles) if (!ROLES.includes(role)) throw new TypeError(`role ${JSON.stringify(role)} is not one of ${ROLES.join(', ')}`);
      const scopes = [...new Set(claims.scopes ?? [])];
      for (const scope of scopes) if (typeof scope !== 'string' || !/^\S+$/.test(scope)) throw new TypeError(`scope ${JSON.stringify(scope)} must be a non-empty string without spaces`);

      const issuedAt = Math.floor(now() / 1_000);
      return new SignJWT({
        bureau,
        azp: app,
        ...(user === undefined ? {} : { preferred_username: user }),
        ...(roles.length === 0 ? {} : { roles }),
        ...(scopes.length === 0 ? {} : { scope: scopes.join(' ') }),
        ...(citizen === undefined ? {} : { citizen_id: citizen }),
        ...(purpose === undefined ? {} : { purpose }),
        ...(caseId === undefined ? {} : { case_id: caseId }),
      })
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(user ?? app)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttl)
        .setJti(randomUUID())
        .sign(key.privateKey);
    },
  };
}
