import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONSUMER_ASSERTION_HEADER, REQUEST_ID_HEADER, type BureauVerifier } from './create-bureau-verifier.ts';
import { checkConsumer, rejectionBody } from './check-consumer.ts';
import { writeRejection, type ConsumerMiddlewareOptions } from './node-middleware.ts';
import type { IsthmusConsumer } from './check-consumer.ts';

/** An express request once the middleware ran: `request.isthmusConsumer` is the verified consumer. */
export interface RequestWithConsumer extends IncomingMessage {
  isthmusConsumer?: IsthmusConsumer;
}

/** Express's `next`: no argument to go on, an error to hand to its error handlers. */
export type NextFunction = (error?: unknown) => void;

/**
 * Express middleware (written against its `(req, res, next)` signature, so
 * this package does not depend on express): a verified request goes on with
 * `req.isthmusConsumer` set; a refused one is answered with 401, 403 or 503
 * and a JSON body, and `next` is not called. An unexpected error goes to
 * `next(error)`, as express expects.
 *
 * @example
 * app.use(isthmusExpress(createBureauVerifier({ bureau: 'market-supervision', jwksUrl })));
 * app.get('/enterprises/:code', (req, res) => res.json(find(req.params.code, req.isthmusConsumer)));
 */
export function isthmusExpress(
  verifier: BureauVerifier,
  options: ConsumerMiddlewareOptions = {},
): (request: RequestWithConsumer, response: ServerResponse, next: NextFunction) => void {
  const body = options.rejectionBody ?? rejectionBody;
  return function isthmusConsumer(request, response, next) {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    response.once('close', onClose);
    checkConsumer(verifier, { assertion: request.headers[CONSUMER_ASSERTION_HEADER], requestId: request.headers[REQUEST_ID_HEADER] }, gone.signal)
      .then((check) => {
        response.off('close', onClose);
        if (!check.ok) return writeRejection(response, check.rejection, body);
        request.isthmusConsumer = check.consumer;
        next();
      })
      .catch((error: unknown) => {
        response.off('close', onClose);
        if (!gone.signal.aborted) next(error);
      });
  };
}
