import { demoCity } from '../../examples/data/generate-city.ts';

/**
 * Load for tests of the access log across gateway processes: bounded loops
 * of cross-bureau reads that remember the request id of every 200 they
 * received, and the check that each of those has its entry.
 */

const city = demoCity();

/** HRSS reads OPEN fields of two other bureaus: cross-bureau, logged, and needs no agreement (these stores start empty). */
export const CROSS_BUREAU = 'query Registry($id: ID!, $code: ID!) { person(idNumber: $id) { idNumber } enterprise(creditCode: $code) { name status } }';

export interface LoadResult {
  /** Requests sent so far. */
  sent: number;
  /** `x-request-id` of every 200 response whose headers reached the client. */
  readonly received: string[];
  /** Responses with another status. */
  readonly otherStatus: Map<number, number>;
  /** Requests that got no response (connection refused or cut, timeout). */
  failed: number;
}

/**
 * `clients` concurrent loops, each sending one request at a time to one of
 * `urls` (round robin by client), until `stop()` says so, or `maxRequests`
 * per client, or `maxMs` have passed — whichever comes first.
 */
export function runLoad(options: { urls: readonly string[]; token: string; clients: number; maxRequests: number; maxMs: number; stop?: () => boolean }): { result: LoadResult; done: Promise<void> } {
  const result: LoadResult = { sent: 0, received: [], otherStatus: new Map(), failed: 0 };
  const started = performance.now();
  const done = Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      const url = options.urls[client % options.urls.length]!;
      for (let index = 0; index < options.maxRequests; index += 1) {
        if (options.stop?.() || performance.now() - started > options.maxMs) return;
        const person = city.persons[(client * 131 + index * 7) % city.persons.length]!;
        const enterprise = city.enterprises[(client * 61 + index * 3) % city.enterprises.length]!;
        try {
          result.sent += 1;
          const response = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
            body: JSON.stringify({ query: CROSS_BUREAU, variables: { id: person.idNumber, code: enterprise.creditCode } }),
            signal: AbortSignal.timeout(10_000),
          });
          // The entry is committed before the gateway sends the status line: a 200 received is a response received.
          if (response.status === 200) result.received.push(response.headers.get('x-request-id')!);
          else result.otherStatus.set(response.status, (result.otherStatus.get(response.status) ?? 0) + 1);
          await response.arrayBuffer().catch(() => undefined);
        } catch {
          result.failed += 1;
          // A gateway that is gone stays gone: this client stops.
          if (options.stop?.()) return;
        }
      }
    }),
  ).then(() => undefined);
  return { result, done };
}

