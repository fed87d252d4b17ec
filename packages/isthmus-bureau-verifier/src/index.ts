/**
 * `@isthmus/bureau-verifier`: a bureau's side of trust in the Isthmus
 * gateway. The gateway signs, for every call it makes to a providing bureau,
 * an `x-isthmus-consumer` assertion naming the consumer bureau, app, user,
 * purpose, case and agreements; this package verifies it against the
 * gateway's published JWKS and hands the bureau's handler the consumer.
 */
export {
  createBureauVerifier,
  CONSUMER_ASSERTION_ALGORITHM,
  CONSUMER_ASSERTION_HEADER,
  CONSUMER_ASSERTION_TYPE,
  DEFAULT_CACHE_SIZE,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_AGE_MS,
  DEFAULT_MAX_AGE_SECONDS,
  GATEWAY_ISSUER,
  GATEWAY_JWKS_PATH,
  MAX_ASSERTION_LENGTH,
  REQUEST_ID_HEADER,
  type BureauVerifier,
  type BureauVerifierOptions,
  type VerifiedConsumer,
} from './create-bureau-verifier.ts';
export { checkConsumer, rejectionBody, type ConsumerCheck, type ConsumerHeaders, type ConsumerRejection, type IsthmusConsumer } from './check-consumer.ts';
export { withIsthmusConsumer, writeRejection, type ConsumerMiddlewareOptions, type ConsumerRequestHandler } from './node-middleware.ts';
export { isthmusHono, HONO_CONSUMER_VARIABLE, type HonoContextLike, type IsthmusConsumerEnv } from './hono-middleware.ts';
export { isthmusExpress, type NextFunction, type RequestWithConsumer } from './express-middleware.ts';
export * from './verifier-error.ts';
