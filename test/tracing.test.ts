import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleQuery, sampleResident } from '../examples/demo-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Issue 13, tracing, end to end: a real OTLP/HTTP receiver on 127.0.0.1, the
 * demo bureaus behind recording proxies, a gateway exporting to the
 * receiver. The spans arrive only by the shutdown flush (the export delay is
 * a minute), so the test also proves that closing the gateway flushes them.
 */

interface OtlpAttribute {
  readonly key: string;
  readonly value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; arrayValue?: { values?: { stringValue?: string }[] } };
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly attributes?: OtlpAttribute[];
  readonly status?: { code?: number; message?: string };
}

/** An OTLP/HTTP JSON receiver: every span it was sent, and how many exports arrived. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; exports: () => number; close: () => Promise<void> }> {
  const spans: OtlpSpan[] = [];
  let exports = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
      for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, exports: () => exports, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** An HTTP proxy that records each request's headers and forwards it to a target set once the bureau runs. */
async function startRecordingProxy(): Promise<{ url: string; seen: IncomingHttpHeaders[]; target: (url: string) => void; close: () => Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  let target: URL | undefined;
  const server = createServer((request, response) => {
    seen.push(request.headers);
    if (!target) return void response.writeHead(502).end();
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname.replace(/\/$/, '') + (request.url ?? ''), method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 100;
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    target: (url) => (target = new URL(url)),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  if (!value) return undefined;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map((item) => item.stringValue);
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.boolValue);
};

const resident = sampleResident();
/** A caller's trace the gateway must continue. */
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_TRACEPARENT = `00-${CALLER_TRACE_ID}-00f067aa0ba902b7-01`;

describe('tracing: the gateway exports its spans over OTLP', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let publicSecurity: Awaited<ReturnType<typeof startRecordingProxy>>;
  let marketSupervision: Awaited<ReturnType<typeof startRecordingProxy>>;
  let city: TestCity;
  let reviewerToken: string;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    publicSecurity = await startRecordingProxy();
    marketSupervision = await startRecordingProxy();
    city = await startTestCity({
      ISTHMUS_OTLP_TRACES_ENDPOINT: receiver.url,
      ISTHMUS_OTLP_SERVICE_NAME: 'isthmus-test',
      // A minute: nothing is exported before the gateway closes, so what arrives came with the shutdown flush.
      ISTHMUS_OTLP_EXPORT_DELAY_MS: '60000',
      PUBLIC_SECURITY_URL: publicSecurity.url,
      MARKET_SUPERVISION_URL: marketSupervision.url,
    });
    publicSecurity.target(city.bureaus.publicSecurity.url);
    marketSupervision.target(city.bureaus.marketSupervision.url);
    reviewerToken = city.reviewer.authorization!.replace(/^Bearer /, '');
    const reply = await city.graphql(sampleQuery(resident.idNumber), {}, { ...city.reviewer, traceparent: CALLER_TRACEPARENT });
    expect(reply.status).toBe(200);
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.person.name).toBe(resident.name);
    requestId = reply.headers.get('x-request-id')!;
    expect(receiver.exports()).toBe(0);
    await city.close();
  }, 120_000);
  afterAll(async () => {
    await publicSecurity?.close();
    await marketSupervision?.close();
    await receiver?.close();
  });

  it('continues the caller’s trace: the request span is the traceparent’s child, with method, route, status and request id', () => {
    const requests = receiver.spans.filter((span) => span.name === 'POST /graphql');
    expect(requests).toHaveLength(1);
    const [root] = requests;
    expect(root!.traceId).toBe(CALLER_TRACE_ID);
    expect(root!.parentSpanId).toBe('00f067aa0ba902b7');
    expect(attribute(root!, 'http.request.method')).toBe('POST');
    expect(attribute(root!, 'http.route')).toBe('/graphql');
    expect(attribute(root!, 'http.response.status_code')).toBe(200);
    expect(attribute(root!, 'isthmus.request_id')).toBe(requestId);
  });

  it('has the request’s stages as its children: authentication, plan and decision, each bureau’s call, the access log commit', () => {
    const root = receiver.spans.find((span) => span.name === 'POST /graphql')!;
    const children = receiver.spans.filter((span) => span.parentSpanId === root.spanId);
    expect(children.every((span) => span.traceId === CALLER_TRACE_ID)).toBe(true);
    const names = children.map((span) => span.name);
    for (const name of ['authenticate', 'plan and decide', 'upstream public-security', 'upstream market-supervision', 'upstream human-resources-social-security', 'access log commit']) {
      expect(names, name).toContain(name);
    }
    const byName = (name: string) => children.find((span) => span.name === name)!;
    expect(attribute(byName('authenticate'), 'isthmus.consumer.bureau')).toBe('civil-affairs');
    const decision = byName('plan and decide');
    expect(attribute(decision, 'isthmus.decision.outcome')).toBe('ALLOWED');
    expect(attribute(decision, 'isthmus.decision.agreements')).toEqual(expect.arrayContaining(['agr-demo-allowance-identity', 'agr-demo-allowance-enterprises']));
    const sql = byName('upstream human-resources-social-security');
    expect(attribute(sql, 'db.system.name')).toBe('postgresql');
    expect(attribute(sql, 'isthmus.bureau')).toBe('human-resources-social-security');
    const commit = byName('access log commit');
    expect(attribute(commit, 'isthmus.access_log.batch_size')).toBeGreaterThanOrEqual(1);
  });

  it('sends each HTTP bureau a traceparent of the same trace, naming the gateway’s span of that call', () => {
    for (const [bureau, proxy] of [['public-security', publicSecurity], ['market-supervision', marketSupervision]] as const) {
      const calls = receiver.spans.filter((span) => span.name === `upstream ${bureau}`);
      expect(calls.length, bureau).toBeGreaterThan(0);
      const sent = proxy.seen.map((headers) => headers.traceparent).filter((value) => typeof value === 'string');
      expect(sent.length, bureau).toBe(calls.length);
      for (const traceparent of sent) {
        const [, traceId, spanId] = traceparent!.split('-');
        expect(traceId).toBe(CALLER_TRACE_ID);
        expect(calls.map((span) => span.spanId)).toContain(spanId);
      }
    }
  });

  it('puts no token and no personal data in any span', () => {
    const everything = JSON.stringify(receiver.spans);
    expect(everything).not.toContain(reviewerToken);
    expect(everything).not.toContain(resident.idNumber);
    expect(everything).not.toContain(resident.name);
    expect(everything).not.toContain('he.fang');
  });
});

describe('tracing off: without ISTHMUS_OTLP_TRACES_ENDPOINT', () => {
  it('sends nothing, and the bureaus get no traceparent', async () => {
    const receiver = await startOtlpReceiver();
    const proxy = await startRecordingProxy();
    const city = await startTestCity({ PUBLIC_SECURITY_URL: proxy.url });
    try {
      proxy.target(city.bureaus.publicSecurity.url);
      const reply = await city.graphql(sampleQuery(resident.idNumber), {}, { ...city.reviewer, traceparent: CALLER_TRACEPARENT });
      expect(reply.body.errors).toBeUndefined();
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen.filter((headers) => headers.traceparent !== undefined)).toEqual([]);
    } finally {
      await city.close();
      await proxy.close();
      await receiver.close();
    }
    expect(receiver.exports()).toBe(0);
  }, 120_000);
});
