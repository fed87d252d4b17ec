import { CONSUMER_ASSERTION_HEADER, REQUEST_ID_HEADER, type BureauVerifier } from './create-bureau-verifier.ts';
import { checkConsumer, rejectionBody, type IsthmusConsumer } from './check-consumer.ts';
import type { ConsumerMiddlewareOptions } from './node-middleware.ts';

/** The context variable the hono middleware sets: `c.get('isthmusConsumer')`. */
export const HONO_CONSUMER_VARIABLE = 'isthmusConsumer';

/**
 * The part of hono's `Context` the middleware uses, spelled out so that this
 * package does not depend on hono; hono's own `Context` satisfies it.
 */
export interface HonoContextLike {
  readonly req: { header(name: string): string | undefined; readonly raw: Request };
  set(key: typeof HONO_CONSUMER_VARIABLE, value: IsthmusConsumer): void;
  json(body: unknown, status: 401 | 403 | 503): Response;
}

/** For `new Hono<IsthmusConsumerEnv>()`, so `c.get('isthmusConsumer')` is typed. */
export interface IsthmusConsumerEnv {
  Variables: { isthmusConsumer: IsthmusConsumer };
}

/**
 * Hono middleware: a verified request goes on with
 * `c.get('isthmusConsumer')`; a refused one is answered with 401, 403 or 503
 * and a JSON body. The wait stops when the request's own signal aborts.
 *
 * @example
 * const app = new Hono<IsthmusConsumerEnv>();
 * app.use(isthmusHono(createBureauVerifier({ bureau: 'market-supervision', jwksUrl })));
 * app.get('/enterprises/:code', (c) => c.json(find(c.req.param('code'), c.get('isthmusConsumer'))));
 */
export function isthmusHono(
  verifier: BureauVerifier,
  options: ConsumerMiddlewareOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void> {
  const body = options.rejectionBody ?? rejectionBody;
  return async function isthmusConsumer(c, next) {
    const check = await checkConsumer(verifier, { assertion: c.req.header(CONSUMER_ASSERTION_HEADER), requestId: c.req.header(REQUEST_ID_HEADER) }, c.req.raw.signal);
    if (!check.ok) return c.json(body(check.rejection), check.rejection.status);
    c.set(HONO_CONSUMER_VARIABLE, check.consumer);
    await next();
  };
}
