import autocannon from 'autocannon';

/** One timed round against one system. */
export interface LoadOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON bodies, sent in turn across all connections. */
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** False counts the response as an error (e.g. a GraphQL `errors` member in a 200). */
  readonly verifyBody: (body: string) => boolean;
}

/** What one round measured. Latencies in milliseconds. */
export interface LoadResult {
  /** Responses received, of any status. */
  readonly responses: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Responses with a status outside 2xx. */
  readonly non2xx: number;
  /** Responses whose body failed `verifyBody` (GraphQL errors). */
  readonly bodyErrors: number;
  /** Connection errors and timeouts. */
  readonly transportErrors: number;
}

/**
 * Runs autocannon against one system for a bounded time, in this process
 * (the runner, which is neither a system nor a bureau).
 *
 * Latency percentiles are computed here from every response's time in
 * fractional milliseconds: autocannon's own histogram keeps whole
 * milliseconds, too coarse for 1–3 ms answers at concurrency 1.
 *
 * @example
 * const result = await runLoad({ url, headers: {}, body, connections: 64, durationSeconds: 5, verifyBody: (b) => !b.includes('"errors"') });
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
        body: options.bodies[0],
        requests: [{ setupRequest: (request) => ({ ...request, body: options.bodies[next++ % options.bodies.length] }) }],
        connections: options.connections,
        duration: options.durationSeconds,
        // A stuck system shows as timeouts rather than a hung benchmark.
        timeout: 10,
        verifyBody: (body) => options.verifyBody(typeof body === 'string' ? body : String(body ?? '')),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const seconds = (performance.now() - started) / 1_000;
  latencies.sort((a, b) => a - b);
  const responses = latencies.length;
  return {
    responses,
    seconds: round(seconds, 3),
    requestsPerSecond: round(responses / Math.min(seconds, result.duration || seconds), 1),
    p50Ms: round(percentile(latencies, 0.5), 3),
    p99Ms: round(percentile(latencies, 0.99), 3),
    meanMs: round(responses === 0 ? Number.NaN : latencies.reduce((sum, value) => sum + value, 0) / responses, 3),
    non2xx: result.non2xx,
    bodyErrors: result.mismatches,
    transportErrors: result.errors,
  };
}

/** Nearest-rank percentile of sorted values; NaN for none. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1]!;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
