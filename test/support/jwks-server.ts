import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';

/** How the fake identity provider answers a JWKS request. */
export type JwksBehaviour = 'ok' | 'error' | 'hang';

/** A real JWKS endpoint on 127.0.0.1, standing in for an identity provider. */
export interface JwksServer {
  /** `http://127.0.0.1:<port>/jwks.json`. */
  readonly url: string;
  /** JWKS requests answered (or left hanging) so far. */
  readonly fetches: number;
  /** Publishes another key set: what an issuer does when it rotates keys. */
  setKeys(jwks: JSONWebKeySet): void;
  /** `error` answers 500; `hang` never answers (until close). */
  setBehaviour(behaviour: JwksBehaviour): void;
  close(): Promise<void>;
}

/** Starts a JWKS server on a free loopback port. */
export async function startJwksServer(initial: JSONWebKeySet): Promise<JwksServer> {
  let keys = initial;
  let behaviour: JwksBehaviour = 'ok';
  let fetches = 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches += 1;
    if (behaviour === 'hang') {
      hanging.add(response);
      return;
    }
    if (behaviour === 'error') {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('identity provider is down');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(keys));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get fetches() {
      return fetches;
    },
    setKeys(next) {
      keys = next;
    },
    setBehaviour(next) {
      behaviour = next;
    },
    close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
