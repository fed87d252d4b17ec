/** Every code a connector error can carry, so a `switch` over them is exhaustive. */
export type ConnectorErrorCode = 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_REJECTED' | 'INVALID_CONFIG';

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

/**
 * The bureau answered, but refused the request (an HTTP 4xx other than 404, a
 * SQL error that is not about the connection). The bureau is up, so this does
 * not count against its circuit breaker; it usually means the mapping in the
 * SDL or the upstream headers are wrong, which the gateway should treat as its
 * own fault rather than the bureau's.
 */
export class UpstreamRejectedError extends ConnectorError {
  /** What the bureau said, safe to show: `HTTP 403`, `SQLSTATE 42P01`. */
  readonly detail: string;
  constructor(bureau: string, detail: string, options?: { cause?: unknown }) {
    super('UPSTREAM_REJECTED', bureau, `${bureau} rejected the request (${detail})`, options);
    this.name = 'UpstreamRejectedError';
    this.detail = detail;
  }
}

/**
 * A connector's options or its bureau's mapping directives are wrong. Thrown
 * when the connector is created, so a bad manifest or SDL stops start-up
 * instead of failing a query later; the message names the field and directive.
 */
export class ConnectorConfigError extends ConnectorError {
  constructor(bureau: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', bureau, `${bureau}: ${message}`, options);
    this.name = 'ConnectorConfigError';
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
