/** Service name on every span when `ISTHMUS_OTLP_SERVICE_NAME` is not set: what an operator's trace view lists the gateway as. */
export const DEFAULT_OTLP_SERVICE_NAME = 'isthmus-gateway';
/**
 * Share of new traces kept when `ISTHMUS_OTLP_SAMPLE_RATIO` is not set: all of
 * them. Tracing is off until an operator names an endpoint, and one who does
 * wants to see requests; a busy deployment lowers it. A request that arrives
 * with a sampled `traceparent` is kept whatever the ratio (parent-based).
 */
export const DEFAULT_OTLP_SAMPLE_RATIO = 1;
/** How long one export may take: the gateway's own shutdown waits 10 s for requests, and the final flush should not double that. */
export const DEFAULT_OTLP_EXPORT_TIMEOUT_MS = 10_000;
/** Most spans sent in one export: the SDK's own default, a few hundred requests' worth of spans. */
export const DEFAULT_OTLP_MAX_BATCH = 512;
/** Most spans held waiting for export; past it new spans are dropped rather than the gateway's memory grown (the SDK's default). */
export const DEFAULT_OTLP_MAX_QUEUE = 2_048;
/** How long finished spans wait to be batched: the SDK's default, so a quiet gateway still exports within seconds. */
export const DEFAULT_OTLP_EXPORT_DELAY_MS = 5_000;

/** Where and how the gateway sends its traces (OTLP/HTTP JSON); absent when tracing is off. */
export interface TracingConfig {
  /** `ISTHMUS_OTLP_TRACES_ENDPOINT`: the collector's traces URL, e.g. `https://otel.city.example/v1/traces` (http only on loopback). Unset: tracing off. */
  readonly endpoint: URL;
  /** `ISTHMUS_OTLP_SERVICE_NAME`: the `service.name` resource attribute. */
  readonly serviceName: string;
  /** `ISTHMUS_OTLP_SAMPLE_RATIO`: share of new traces kept, 0 to 1 (parent-based: a caller's decision wins). */
  readonly sampleRatio: number;
  /** `ISTHMUS_OTLP_EXPORT_TIMEOUT_MS`: bound on one export. */
  readonly exportTimeoutMs: number;
  /** `ISTHMUS_OTLP_MAX_BATCH`: most spans per export. */
  readonly maxBatch: number;
  /** `ISTHMUS_OTLP_EXPORT_DELAY_MS`: longest a finished span waits before it is exported. */
  readonly exportDelayMs: number;
}

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])$/;

/**
 * Reads the tracing settings; every problem is pushed to `problems`, named
 * after its setting (as `loadConfig` does), and none stops at the first.
 * Without `ISTHMUS_OTLP_TRACES_ENDPOINT`, tracing is off and the other
 * settings must not be set either: a ratio with nowhere to send is a mistake.
 */
export function readTracingConfig(env: Readonly<Record<string, string | undefined>>, problems: string[]): TracingConfig | undefined {
  const raw = env.ISTHMUS_OTLP_TRACES_ENDPOINT;
  const others = ['ISTHMUS_OTLP_SERVICE_NAME', 'ISTHMUS_OTLP_SAMPLE_RATIO', 'ISTHMUS_OTLP_EXPORT_TIMEOUT_MS', 'ISTHMUS_OTLP_MAX_BATCH', 'ISTHMUS_OTLP_EXPORT_DELAY_MS'];
  if (raw === undefined || raw === '') {
    for (const name of others) if (env[name]) problems.push(`${name} needs ISTHMUS_OTLP_TRACES_ENDPOINT: tracing is off without it`);
    return undefined;
  }
  const endpoint = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!endpoint || (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')) {
    problems.push('ISTHMUS_OTLP_TRACES_ENDPOINT must be an http(s) URL, e.g. https://collector.example/v1/traces');
  } else if (endpoint.protocol === 'http:' && !LOOPBACK.test(endpoint.hostname)) {
    // Spans name bureaus, agreements and request ids: across a network they go encrypted.
    problems.push('ISTHMUS_OTLP_TRACES_ENDPOINT must use https unless it is on loopback (127.0.0.1, ::1, localhost)');
  } else if (endpoint.username || endpoint.password) {
    problems.push('ISTHMUS_OTLP_TRACES_ENDPOINT must not carry credentials in the URL');
  }
  const number = (name: string, fallback: number, min: number, max: number, whole: boolean): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
      problems.push(`${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const serviceName = env.ISTHMUS_OTLP_SERVICE_NAME || DEFAULT_OTLP_SERVICE_NAME;
  if (!/^[\w.-]{1,128}$/.test(serviceName)) problems.push('ISTHMUS_OTLP_SERVICE_NAME must be 1 to 128 letters, digits, ".", "_" or "-"');
  const config: TracingConfig = {
    endpoint: endpoint ?? new URL('http://127.0.0.1/'),
    serviceName,
    sampleRatio: number('ISTHMUS_OTLP_SAMPLE_RATIO', DEFAULT_OTLP_SAMPLE_RATIO, 0, 1, false),
    exportTimeoutMs: number('ISTHMUS_OTLP_EXPORT_TIMEOUT_MS', DEFAULT_OTLP_EXPORT_TIMEOUT_MS, 100, 120_000, true),
    maxBatch: number('ISTHMUS_OTLP_MAX_BATCH', DEFAULT_OTLP_MAX_BATCH, 1, DEFAULT_OTLP_MAX_QUEUE, true),
    exportDelayMs: number('ISTHMUS_OTLP_EXPORT_DELAY_MS', DEFAULT_OTLP_EXPORT_DELAY_MS, 10, 60_000, true),
  };
  return config;
}
