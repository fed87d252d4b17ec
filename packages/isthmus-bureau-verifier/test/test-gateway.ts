import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';

/** What a test assertion says; any field can be bent to make a bad one. */
export interface TestAssertion {
  readonly aud?: string | readonly string[] | null;
  readonly iss?: string;
  readonly typ?: string;
  readonly alg?: string;
  readonly issuedAt?: number;
  readonly ttlSeconds?: number;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** A stand-in for the Isthmus gateway's signer: an ES256 key, its JWKS served over real HTTP. */
export interface TestGateway {
  readonly jwks: JSONWebKeySet;
  readonly publicJwk: JWK;
  /** `http://127.0.0.1:<port>/.well-known/isthmus-gateway-jwks.json`; undefined until served. */
  readonly jwksUrl: string;
  /** JWKS requests answered so far. */
  fetches(): number;
  /** `down` answers 500. */
  setDown(down: boolean): void;
  sign(assertion?: TestAssertion): Promise<string>;
  close(): Promise<void>;
}

/** The claims the gateway puts in an assertion for `civil-affairs` reading from `aud`. */
export const CONSUMER_CLAIMS = Object.freeze({
  consumer_bureau: 'civil-affairs',
  consumer_app: 'allowance-review',
  user: 'clerk-0042@civil-affairs',
  purpose: 'minimum-living-allowance-review',
  case_id: 'MLA-2026-000123',
  agreements: ['agr-allowance-identity'],
});

/** Starts a test gateway with a fresh key; `now` is the clock assertions are stamped with (ms). */
export async function startTestGateway(now: () => number = Date.now): Promise<TestGateway> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [publicJwk] };
  let fetches = 0;
  let down = false;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/isthmus-gateway-jwks.json') return void response.writeHead(404).end();
    fetches += 1;
    if (down) return void response.writeHead(500).end('down');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwks,
    publicJwk,
    jwksUrl: `http://127.0.0.1:${port}/.well-known/isthmus-gateway-jwks.json`,
    fetches: () => fetches,
    setDown(value) {
      down = value;
    },
    sign: (assertion = {}) => sign(privateKey, kid, now, assertion),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sign(key: CryptoKey, kid: string, now: () => number, assertion: TestAssertion): Promise<string> {
  const issuedAt = assertion.issuedAt ?? Math.floor(now() / 1_000);
  const jwt = new SignJWT({ ...CONSUMER_CLAIMS, ...assertion.claims })
    .setProtectedHeader({ alg: assertion.alg ?? 'ES256', kid, typ: assertion.typ ?? 'isthmus-consumer+jwt' })
    .setIssuer(assertion.iss ?? 'isthmus-gateway')
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (assertion.ttlSeconds ?? 60));
  const aud = assertion.aud === undefined ? 'public-security' : assertion.aud;
  if (aud !== null) jwt.setAudience(typeof aud === 'string' ? aud : [...aud]);
  return jwt.sign(key);
}
