import { ConnectorError, UpstreamRejectedError, UpstreamUnavailableError } from '../connector-error.ts';

/**
 * How the HTTP connectors read a bureau's answer: which statuses are the
 * bureau's failure and which are its refusal, and JSON that must parse.
 */

/**
 * The error for a status that is neither success nor 404. A 5xx is the
 * bureau failing (it counts against the breaker); anything else means the
 * bureau is up and refused the request (it does not).
 */
export function errorForStatus(bureau: string, status: number): ConnectorError {
  const detail = `HTTP ${status}`;
  if (status >= 500 || status < 100) {
    return new UpstreamUnavailableError(bureau, 'failed', { cause: new Error(detail) });
  }
  return new UpstreamRejectedError(bureau, detail);
}

/** Parses a bureau's JSON body; a body that is not JSON is the bureau failing. */
export function parseJson(bureau: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new UpstreamUnavailableError(bureau, 'failed', { cause: error });
  }
}

/** The error for JSON that parsed but is not what the mapping expects. */
export function unexpectedShape(bureau: string, what: string): UpstreamUnavailableError {
  return new UpstreamUnavailableError(bureau, 'failed', { cause: new Error(`unexpected response: ${what}`) });
}
