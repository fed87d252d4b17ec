import type { TestCity } from './test-city.ts';

/** The SQL bureau of the demo city: it has no HTTP server to count, so the gateway's metrics count for it. */
export const HRSS = 'human-resources-social-security';

/** Calls each demo bureau received, by bureau id. */
export interface UpstreamCalls {
  readonly 'public-security': number;
  readonly 'market-supervision': number;
  readonly 'human-resources-social-security': number;
}

/**
 * Calls received so far: public security and market supervision count the
 * HTTP requests that reached their servers; the SQL bureau is counted by the
 * gateway's `isthmus_upstream_calls_total`, every outcome summed.
 */
export async function upstreamCalls(testCity: TestCity): Promise<UpstreamCalls> {
  const metric = await testCity.gateway.metrics.registry.getSingleMetric('isthmus_upstream_calls_total')!.get();
  const hrss = metric.values.filter((value) => value.labels.bureau === HRSS).reduce((sum, value) => sum + value.value, 0);
  return {
    'public-security': testCity.bureaus.publicSecurity.requestCount(),
    'market-supervision': testCity.bureaus.marketSupervision.requestCount(),
    [HRSS]: hrss,
  };
}

/**
 * Runs `action` and returns what it returned with the calls each bureau
 * received meanwhile. Tests in one file run one at a time, so the counts are
 * the action's own.
 */
export async function countingCalls<T>(testCity: TestCity, action: () => Promise<T>): Promise<{ readonly result: T; readonly calls: UpstreamCalls }> {
  const before = await upstreamCalls(testCity);
  const result = await action();
  const after = await upstreamCalls(testCity);
  return {
    result,
    calls: {
      'public-security': after['public-security'] - before['public-security'],
      'market-supervision': after['market-supervision'] - before['market-supervision'],
      [HRSS]: after[HRSS] - before[HRSS],
    },
  };
}

/** No bureau was called. */
export const NO_CALLS: UpstreamCalls = { 'public-security': 0, 'market-supervision': 0, [HRSS]: 0 };

/** `Authorization` header of a bearer token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
