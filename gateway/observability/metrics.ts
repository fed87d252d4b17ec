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
  /** Records one access log transaction: how many entries it carried, how long it took, whether it committed. */
  observeAccessLogBatch(batch: { readonly entries: number; readonly ok: boolean; readonly durationMs: number }): void;
}

/** Entries per access log transaction: 1 when requests come one at a time, up to the writer's maximum batch. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

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
  const logBatches = new Counter({
    name: 'isthmus_access_log_transactions_total',
    help: 'Access log transactions, by outcome (committed, failed); a failed one withheld every response in it.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const logBatchEntries = new Histogram({
    name: 'isthmus_access_log_batch_entries',
    help: 'Entries per committed access log transaction (group commit).',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const logBatchLatency = new Histogram({
    name: 'isthmus_access_log_transaction_duration_seconds',
    help: 'Time to write one access log transaction, from taking the batch to its commit.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const committedBatches = logBatches.labels({ outcome: 'committed' });
  const failedBatches = logBatches.labels({ outcome: 'failed' });
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
    observeAccessLogBatch(batch) {
      if (!batch.ok) {
        failedBatches.inc();
        return;
      }
      committedBatches.inc();
      logBatchEntries.observe(batch.entries);
      logBatchLatency.observe(batch.durationMs / 1_000);
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
