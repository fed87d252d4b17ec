import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../test/test-gateway.ts';
import type { IsthmusConsumer } from './check-consumer.ts';
import { createBureauVerifier, type BureauVerifier } from './create-bureau-verifier.ts';
import { isthmusExpress, type NextFunction, type RequestWithConsumer } from './express-middleware.ts';
import { isthmusHono, type IsthmusConsumerEnv } from './hono-middleware.ts';
import { withIsthmusConsumer } from './node-middleware.ts';

const BUREAU = 'public-security';
let gateway: TestGateway;
let verifier: BureauVerifier;

beforeAll(async () => {
  gateway = await startTestGateway();
  verifier = createBureauVerifier({ bureau: BUREAU, jwksUrl: gateway.jwksUrl });
});
afterAll(() => gateway?.close());

/** What the handler saw: the consumer, as the adapter handed it over. */
type Seen = { consumer: IsthmusConsumer | undefined };

async function serve(listener: RequestListener, run: (url: string) => Promise<void>): Promise<void> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/persons/1`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Calls the endpoint with and without a good assertion, and with a replayed one; the same for every adapter. */
async function behavesAsMiddleware(url: string, seen: Seen): Promise<void> {
  const get = (headers: Record<string, string>) => fetch(url, { headers, signal: AbortSignal.timeout(5_000) });

  const missing = await get({});
  expect(missing.status).toBe(401);
  expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await missing.json()).toEqual({ error: { code: 'ASSERTION_MISSING', message: expect.any(String) } });
  expect(seen.consumer).toBeUndefined();

  const replayed = await get({ 'x-isthmus-consumer': await gateway.sign({ aud: 'market-supervision' }) });
  expect(replayed.status).toBe(403);
  expect(await replayed.json()).toMatchObject({ error: { code: 'ASSERTION_FOR_ANOTHER_BUREAU' } });
  expect(seen.consumer).toBeUndefined();

  const served = await get({ 'x-isthmus-consumer': await gateway.sign(), 'x-request-id': 'req-42' });
  expect(served.status).toBe(200);
  expect(await served.json()).toEqual({ served: true });
  expect(seen.consumer).toMatchObject({ provider: BUREAU, bureau: 'civil-affairs', app: 'allowance-review', agreements: ['agr-allowance-identity'], requestId: 'req-42' });
}

describe('the middleware hands the handler the verified consumer, and refuses the rest with a JSON body', () => {
  it('node:http', async () => {
    const seen: Seen = { consumer: undefined };
    const listener = withIsthmusConsumer(verifier, (_request, response, consumer) => {
      seen.consumer = consumer;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"served":true}');
    });
    await serve((request, response) => void listener(request, response), (url) => behavesAsMiddleware(url, seen));
  });

  it('hono', async () => {
    const seen: Seen = { consumer: undefined };
    const app = new Hono<IsthmusConsumerEnv>();
    app.use(isthmusHono(verifier));
    app.get('/persons/:id', (c) => {
      seen.consumer = c.get('isthmusConsumer');
      return c.json({ served: true });
    });
    const { getRequestListener } = await import('@hono/node-server');
    await serve(getRequestListener(app.fetch), (url) => behavesAsMiddleware(url, seen));
  });

  it('express, called the way express calls a middleware: (req, res, next), then the route', async () => {
    const seen: Seen = { consumer: undefined };
    const errors: unknown[] = [];
    const middleware = isthmusExpress(verifier);
    // express's router in miniature: run the middleware, and the route only when it calls next().
    const route = (request: RequestWithConsumer, response: ServerResponse): void => {
      seen.consumer = request.isthmusConsumer;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"served":true}');
    };
    const listener = (request: IncomingMessage, response: ServerResponse): void => {
      const next: NextFunction = (error) => {
        if (error !== undefined) {
          errors.push(error);
          return void response.writeHead(500).end();
        }
        route(request, response);
      };
      middleware(request, response, next);
    };
    await serve(listener, (url) => behavesAsMiddleware(url, seen));
    expect(errors).toEqual([]);
  });

  it('refuses a request carrying two assertions as malformed, serving neither', async () => {
    const listener = withIsthmusConsumer(verifier, (_request, response) => response.end('served'));
    const assertion = await gateway.sign();
    await serve(
      (request, response) => void listener(request, response),
      async (url) => {
        const headers = new Headers();
        headers.append('x-isthmus-consumer', assertion);
        headers.append('x-isthmus-consumer', assertion);
        const answer = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
        expect(answer.status).toBe(401);
        expect(await answer.json()).toMatchObject({ error: { code: 'ASSERTION_MALFORMED' } });
      },
    );
  });

  it('answers in the bureau’s own error shape when asked', async () => {
    const listener = withIsthmusConsumer(verifier, (_request, response) => response.end(), {
      rejectionBody: (rejection) => ({ errors: [{ message: rejection.message, extensions: { code: rejection.code } }] }),
    });
    await serve(
      (request, response) => void listener(request, response),
      async (url) => {
        const answer = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        expect(await answer.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'ASSERTION_MISSING' } }] });
      },
    );
  });
});
