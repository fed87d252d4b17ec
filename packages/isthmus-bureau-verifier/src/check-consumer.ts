import type { BureauVerifier, VerifiedConsumer } from './create-bureau-verifier.ts';
import { isVerifierError, type VerifierErrorCode, type VerifierStatus } from './verifier-error.ts';

/** A request id is handed on only if it is short and plain, so it is safe in the bureau's logs. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The verified consumer as a handler receives it: what the gateway vouched for, and the request id sent beside it. */
export interface IsthmusConsumer extends VerifiedConsumer {
  /** The gateway's `x-request-id`, unsigned: it names the request (for the bureau's logs), it does not authorise it. */
  readonly requestId?: string;
}

/** Why a request was refused: the HTTP status, the code and a message that never quotes the assertion. */
export interface ConsumerRejection {
  readonly status: VerifierStatus;
  readonly code: VerifierErrorCode;
  readonly message: string;
}

/** The outcome of {@link checkConsumer}. */
export type ConsumerCheck =
  | { readonly ok: true; readonly consumer: IsthmusConsumer }
  | { readonly ok: false; readonly rejection: ConsumerRejection };

/** The two headers of one request, as the adapters read them. */
export interface ConsumerHeaders {
  /** `x-isthmus-consumer`; several values (a header sent twice) are refused as malformed. */
  readonly assertion: string | readonly string[] | null | undefined;
  /** `x-request-id`. */
  readonly requestId?: string | readonly string[] | null | undefined;
}

/**
 * Checks one request's headers and answers with the consumer or the
 * refusal; only unexpected errors (a bug, an aborted request) are thrown.
 * What every adapter (node:http, hono, express) does before its own answer.
 *
 * @example
 * const check = await checkConsumer(verifier, { assertion: request.headers['x-isthmus-consumer'] });
 * if (!check.ok) return reply(check.rejection.status, { error: check.rejection });
 */
export async function checkConsumer(verifier: BureauVerifier, headers: ConsumerHeaders, signal?: AbortSignal): Promise<ConsumerCheck> {
  try {
    // Node joins a repeated header with ", " (which no compact JWS holds) or hands an array: either way two assertions are one malformed one.
    const assertion = typeof headers.assertion === 'string' || headers.assertion == null ? headers.assertion : headers.assertion.join(', ');
    const verified = await verifier.verify(assertion, signal);
    const requestId = headers.requestId;
    const consumer: IsthmusConsumer = typeof requestId === 'string' && SAFE_REQUEST_ID.test(requestId) ? Object.freeze({ ...verified, requestId }) : verified;
    return { ok: true, consumer };
  } catch (error) {
    if (!isVerifierError(error)) throw error;
    return { ok: false, rejection: { status: error.status, code: error.code, message: error.message } };
  }
}

/** The default JSON body of a refusal: `{ "error": { "code", "message" } }`. */
export function rejectionBody(rejection: ConsumerRejection): unknown {
  return { error: { code: rejection.code, message: rejection.message } };
}
