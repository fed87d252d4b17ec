import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { ConnectorKind, UpstreamCallTracer } from '../../connectors/connector.ts';
import { failSpan, startChildSpan, traceHeadersOf, type RequestTrace } from './tracing.ts';

/**
 * The connectors' {@link UpstreamCallTracer} for one bureau: a client span
 * per upstream call, child of the request's span, named after the bureau.
 * An HTTP bureau gets the span's `traceparent`, so its own trace continues
 * the gateway's; a database read names its table and key count, never a
 * key or a parameter.
 */
export function upstreamTracerFor(bureau: string, kind: ConnectorKind): UpstreamCallTracer {
  const http = kind !== 'sql';
  return (context, call) => {
    const requestTrace = requestTraceOf(context);
    if (!requestTrace) return undefined;
    const attributes: Attributes = { 'isthmus.bureau': bureau, 'isthmus.connector.kind': kind };
    if (http) attributes['http.request.method'] = call.operation;
    else {
      attributes['db.system.name'] = 'postgresql';
      attributes['db.operation.name'] = call.operation;
      if (call.table !== undefined) attributes['db.collection.name'] = call.table;
      if (call.keys !== undefined) attributes['isthmus.upstream.keys'] = call.keys;
    }
    const span = startChildSpan(requestTrace, `upstream ${bureau}`, attributes, SpanKind.CLIENT)!;
    return {
      headers: http ? traceHeadersOf(requestTrace, span) : {},
      end({ error }) {
        if (error !== undefined) failSpan(span, error);
        span.end();
      },
    };
  };
}

/** The request's trace from whatever context the executor handed the connector (a test's or a tool's has none). */
function requestTraceOf(context: unknown): RequestTrace | undefined {
  const found: unknown = typeof context === 'object' && context !== null ? Reflect.get(context, 'trace') : undefined;
  return typeof found === 'object' && found !== null && 'tracer' in found ? (found as RequestTrace) : undefined;
}
