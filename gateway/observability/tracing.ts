import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_OTLP_MAX_QUEUE, type TracingConfig } from './tracing-config.ts';

/**
 * One request's place in its trace: the `/graphql` span and the context that
 * makes a span its child. Carried in the request context as `trace`, absent
 * when tracing is off, so every stage's check is one property read.
 */
export interface RequestTrace {
  readonly tracer: Tracer;
  readonly span: Span;
  readonly context: Context;
}

/** The gateway's tracer and its exporter's lifecycle; made by {@link createTracing}, one per gateway. */
export interface Tracing {
  readonly tracer: Tracer;
  /**
   * Starts the server span of one `/graphql` request, continuing the caller's
   * W3C `traceparent` when it sends one. The span ends with the response.
   */
  startRequest(request: IncomingMessage, route: string, requestId: string): RequestTrace;
  /** Exports what is buffered and stops: the gateway's close calls it after the last response. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
};

/**
 * Creates the gateway's tracer provider, exporting OTLP/HTTP JSON in
 * batches to `config.endpoint`. Nothing is registered globally: the tracer
 * is handed to the stages through the request context, so two gateways in
 * one process (as the tests run them) keep their traces apart, and with
 * tracing off nothing of OpenTelemetry runs at all.
 *
 * @example
 * const tracing = config.tracing && createTracing(config.tracing, version);
 * const requestTrace = tracing?.startRequest(request, '/graphql', requestId);
 */
export function createTracing(config: TracingConfig, serviceVersion: string): Tracing {
  const exporter = new OTLPTraceExporter({ url: config.endpoint.href, timeoutMillis: config.exportTimeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': serviceVersion }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: config.maxBatch,
        maxQueueSize: Math.max(DEFAULT_OTLP_MAX_QUEUE, config.maxBatch),
        scheduledDelayMillis: config.exportDelayMs,
        exportTimeoutMillis: config.exportTimeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer('isthmus-gateway', serviceVersion);
  return {
    tracer,
    startRequest(request, route, requestId) {
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const method = request.method ?? 'GET';
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route, 'isthmus.request_id': requestId } },
        parent,
      );
      return { tracer, span, context: trace.setSpan(parent, span) };
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Starts a child span of the request's, or nothing when the request is not
 * traced. Attributes must name no person, field value or token: bureaus,
 * agreements, outcomes and counts only.
 */
export function startChildSpan(requestTrace: RequestTrace | undefined, name: string, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | undefined {
  return requestTrace?.tracer.startSpan(name, { kind, ...(attributes && { attributes }) }, requestTrace.context);
}

/**
 * Marks a span failed with the error's code (a module's `code`, else the
 * error's class name): never its message, which can carry an address or a
 * bureau's words.
 */
export function failSpan(span: Span, error: unknown): void {
  const code = codeOf(error);
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** The `traceparent` (and `tracestate`) that make a bureau's spans children of `span`. */
export function traceHeadersOf(requestTrace: RequestTrace, span: Span): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(requestTrace.context, span), headers, { set: (carrier, key, value) => (carrier[key] = value) });
  return headers;
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = Reflect.get(error, 'code');
    if (typeof code === 'string' && /^[\w.-]{1,64}$/.test(code)) return code;
    const name = Reflect.get(error, 'name');
    if (typeof name === 'string' && /^[\w.-]{1,64}$/.test(name)) return name;
  }
  return 'Error';
}
