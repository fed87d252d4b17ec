import { SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * Ends a request's server span with its HTTP status. As OpenTelemetry's
 * HTTP conventions have it, only a 5xx is the server's error; a refusal
 * (401, 403, 429) is the gateway doing its job, and says so in its status code.
 */
export function endRequestSpan(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(status) });
  }
  span.end();
}
