/** Every code a connector error can carry, so a `switch` over them is exhaustive. */
export type ConnectorErrorCode = 'UPSTREAM_UNAVAILABLE';

/** Why a bureau could not answer. */
export type UpstreamFailure = 'timeout' | 'breaker-open' | 'overloaded' | 'failed';

/**
 * Base of the errors a connector throws. The message is safe to show a
 * client: it never carries URLs, SQL or connection strings — those stay in
 * `cause`, which is logged, not sent.
 */
export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly bureau: string;
  constructor(code: ConnectorErrorCode, bureau: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectorError';
    this.code = code;
    this.bureau = bureau;
  }
}

/** A bureau timed out, failed, is overloaded, or its breaker is open. */
export class UpstreamUnavailableError extends ConnectorError {
  readonly failure: UpstreamFailure;
  constructor(bureau: string, failure: UpstreamFailure, options?: { cause?: unknown }) {
    super('UPSTREAM_UNAVAILABLE', bureau, `${bureau} is unavailable (${failure})`, options);
    this.name = 'UpstreamUnavailableError';
    this.failure = failure;
  }
}

/** Finds a connector error in an error's `originalError` / `cause` chain (stitching wraps errors). */
export function findConnectorError(error: unknown): ConnectorError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current != null; depth += 1) {
    if (current instanceof ConnectorError) return current;
    const next = current as { originalError?: unknown; cause?: unknown };
    current = next.originalError ?? next.cause;
  }
  return undefined;
}
