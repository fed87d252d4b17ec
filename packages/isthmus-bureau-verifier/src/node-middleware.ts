import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONSUMER_ASSERTION_HEADER, REQUEST_ID_HEADER, type BureauVerifier } from './create-bureau-verifier.ts';
import { checkConsumer, rejectionBody, type ConsumerRejection, type IsthmusConsumer } from './check-consumer.ts';

/** A node:http handler that is given the verified consumer. */
export type ConsumerRequestHandler = (request: IncomingMessage, response: ServerResponse, consumer: IsthmusConsumer) => unknown;

/** Options of the middleware adapters. */
export interface ConsumerMiddlewareOptions {
  /** The JSON body of a refused request, in the bureau's own error shape. Default {@link rejectionBody}. */
  readonly rejectionBody?: (rejection: ConsumerRejection) => unknown;
}

/** Writes a refusal: its status and a JSON body. */
export function writeRejection(response: ServerResponse, rejection: ConsumerRejection, body: (rejection: ConsumerRejection) => unknown = rejectionBody): void {
  response.writeHead(rejection.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body(rejection)));
}

/**
 * Wraps a node:http handler: it runs only for requests whose
 * `x-isthmus-consumer` assertion verifies, and receives the consumer as its
 * third argument; anything else gets 401, 403 or 503 with a JSON body, before
 * the handler reads a byte. A client that goes away stops the wait.
 *
 * @example
 * const verifier = createBureauVerifier({ bureau: 'public-security', jwksUrl });
 * createServer(withIsthmusConsumer(verifier, (request, response, consumer) => {
 *   audit(consumer.bureau, consumer.app, consumer.agreements);
 *   response.end(JSON.stringify(lookUp(request.url)));
 * }));
 */
export function withIsthmusConsumer(
  verifier: BureauVerifier,
  handler: ConsumerRequestHandler,
  options: ConsumerMiddlewareOptions = {},
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const body = options.rejectionBody ?? rejectionBody;
  return async function isthmusConsumer(request, response) {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    response.once('close', onClose);
    let check;
    try {
      check = await checkConsumer(verifier, { assertion: request.headers[CONSUMER_ASSERTION_HEADER], requestId: request.headers[REQUEST_ID_HEADER] }, gone.signal);
    } catch (error) {
      // The client went away: there is nobody to answer.
      if (gone.signal.aborted) return;
      throw error;
    } finally {
      response.off('close', onClose);
    }
    if (!check.ok) return writeRejection(response, check.rejection, body);
    await handler(request, response, check.consumer);
  };
}
