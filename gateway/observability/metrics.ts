import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState, UpstreamObserver } from '../../connectors/connector.ts';

/** Seconds; spans a cached lookup (1 ms) to a bureau at its timeout (5 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const BREAKER_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The gateway's Prometheus metrics. One registry per gateway, so tests and replicas in one process do not mix. */
export interface Metrics {
  readonly registry: Registry;
  /** Records one HTTP request once its response is finished. */
  observeRequest(route: string, status: number, seconds: number): void;
  /** Hands to connectors: counts upstream calls and errors per bureau. */
  readonly observeUpstream: UpstreamObserver;
  /** Sources of the breaker gauge, read at scrape time. */
  trackBreakers(states: () => ReadonlyMap<string, BreakerState>): void;
}

/** Creates the gateway's metrics: requests, latency, upstream calls and errors, breaker states, process figures. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'isthmus_' });
  const requests = new Counter({
    name: 'isthmus_http_requests_total',
    help: 'HTTP requests served, by route and status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'isthmus_http_request_duration_seconds',
    help: 'Time from request to the end of its response.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: 'isthmus_upstream_calls_total',
    help: 'Calls to bureau systems, by bureau and outcome (ok, error, timeout, rejected).',
    labelNames: ['bureau', 'outcome'] as const,
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: 'isthmus_upstream_call_duration_seconds',
    help: 'Duration of calls to bureau systems.',
    labelNames: ['bureau'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  let breakerStates: () => ReadonlyMap<string, BreakerState> = () => new Map();
  new Gauge({
    name: 'isthmus_upstream_breaker_state',
    help: 'Circuit breaker per bureau: 0 closed, 1 half-open, 2 open.',
    labelNames: ['bureau'] as const,
    registers: [registry],
    collect() {
      for (const [bureau, state] of breakerStates()) this.set({ bureau }, BREAKER_VALUE[state]);
    },
  });

  // Labelled children, kept by label values: prom-client would otherwise
  // sort and join the label object on every observation. Labels are bounded
  // (known routes, statuses, bureaus, outcomes), and so are these maps.
  const requestCounters = children((route: string, status: number) => requests.labels({ route, status: String(status) }));
  const requestLatencies = children((route: string) => latency.labels({ route }));
  const upstreamCounters = children((bureau: string, outcome: string) => upstreamCalls.labels({ bureau, outcome }));
  const upstreamLatencies = children((bureau: string) => upstreamLatency.labels({ bureau }));

  return {
    registry,
    observeRequest(route, status, seconds) {
      requestCounters(route, status).inc();
      requestLatencies(route).observe(seconds);
    },
    observeUpstream(call) {
      upstreamCounters(call.bureau, call.outcome).inc();
      upstreamLatencies(call.bureau).observe(call.durationMs / 1_000);
    },
    trackBreakers(states) {
      breakerStates = states;
    },
  };
}

/** Memoises `make` by its arguments (label values, which contain no NUL). */
function children<Args extends readonly (string | number)[], Child>(make: (...args: Args) => Child): (...args: Args) => Child {
  const made = new Map<string, Child>();
  return (...args) => {
    const key = args.join('\u0000');
    let child = made.get(key);
    if (child === undefined) made.set(key, (child = make(...args)));
    return child;
  };
}
