import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverJwksUri, discoveryUrl } from './oidc-discovery.ts';
import { fetchKeyDocument } from './fetch-key-document.ts';

/** A provider that answers each path as the test sets it: status, content type and body. */
let server: Server;
let base: string;
const answers = new Map<string, { status: number; type?: string; body: string }>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers.get(request.url ?? '') ?? { status: 404, body: 'not found' };
    response.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => ({ code: 'none', message: 'it succeeded' }),
    (error: { code: string; message: string }) => error,
  );
}

describe('discoverJwksUri', () => {
  it('appends /.well-known/openid-configuration to the issuer, a trailing slash or not', () => {
    expect(discoveryUrl('https://sso.city.test/realms/hrss').href).toBe('https://sso.city.test/realms/hrss/.well-known/openid-configuration');
    expect(discoveryUrl('https://sso.city.test/').href).toBe('https://sso.city.test/.well-known/openid-configuration');
  });

  it('returns the jwks_uri of a document that names the issuer exactly', async () => {
    const issuer = `${base}/realms/ok`;
    answers.set('/realms/ok/.well-known/openid-configuration', { status: 200, body: JSON.stringify({ issuer, jwks_uri: `${base}/realms/ok/certs` }) });
    expect((await discoverJwksUri(issuer, { timeoutMs: 2_000 })).href).toBe(`${base}/realms/ok/certs`);
  });

  it('refuses, as a configuration that cannot work, a document naming another issuer (even by a trailing slash), no jwks_uri, or a plain-http one', async () => {
    const issuer = `${base}/realms/bad`;
    const cases: readonly [Record<string, unknown>, RegExp][] = [
      [{ issuer: `${issuer}/`, jwks_uri: `${base}/certs` }, /names ".*\/realms\/bad\/": it must name the configured issuer exactly/],
      [{ jwks_uri: `${base}/certs` }, /names no issuer/],
      [{ issuer }, /has no jwks_uri/],
      [{ issuer, jwks_uri: 'http://sso.city.test/certs' }, /jwks_uri that is not https/],
    ];
    for (const [document, expected] of cases) {
      answers.set('/realms/bad/.well-known/openid-configuration', { status: 200, body: JSON.stringify(document) });
      const error = await failure(discoverJwksUri(issuer, { timeoutMs: 2_000 }));
      expect(error.code, JSON.stringify(document)).toBe('ISSUER_MISCONFIGURED');
      expect(error.message).toMatch(expected);
    }
  });
});

describe('fetchKeyDocument', () => {
  const fetchPath = (path: string) => failure(fetchKeyDocument(new URL(`${base}${path}`), { issuer: 'https://sso.city.test', what: 'key set', timeoutMs: 2_000 }));

  it('sorts failures into those that pass (5xx, 429) and those that will not (4xx, not JSON, not an object)', async () => {
    const cases: readonly [{ status: number; type?: string; body: string }, string, RegExp][] = [
      [{ status: 503, body: 'busy' }, 'KEYS_UNAVAILABLE', /answered 503/],
      [{ status: 429, body: 'slow down' }, 'KEYS_UNAVAILABLE', /answered 429/],
      [{ status: 403, body: 'no' }, 'ISSUER_MISCONFIGURED', /answered 403/],
      [{ status: 200, type: 'text/html', body: '<html>sign in</html>' }, 'ISSUER_MISCONFIGURED', /is not JSON/],
      [{ status: 200, body: '[1, 2]' }, 'ISSUER_MISCONFIGURED', /is not a JSON object/],
    ];
    for (const [index, [answer, code, expected]] of cases.entries()) {
      answers.set(`/doc-${index}?access=s3cret`, answer);
      const error = await fetchPath(`/doc-${index}?access=s3cret`);
      expect(error.code, `${answer.status} ${answer.body}`).toBe(code);
      expect(error.message).toMatch(expected);
      // The address is named without its query, which some deployments use for credentials.
      expect(error.message).toContain(`${base}/doc-${index}`);
      expect(error.message).not.toContain('s3cret');
    }
  });
});
