import { parseArgs } from 'node:util';
import { BENCH_SYSTEMS, type SystemName } from './systems/bench-systems.ts';
import type { ScenarioName } from './scenarios/bench-scenarios.ts';

/** How one benchmark run is shaped. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Length of one timed round. */
  readonly durationSeconds: number;
  /** Timed rounds per system, scenario and concurrency; rounds alternate the systems' order. */
  readonly rounds: number;
  /** Untimed load before a scenario's rounds, per system. */
  readonly warmupSeconds: number;
  /** Concurrency levels: 1 for latency, 64 for throughput. */
  readonly connections: readonly number[];
  /** Requests per system and scenario in the correctness and upstream-count probe. */
  readonly probeRequests: number;
  readonly systems: readonly SystemName[];
  /** Only these scenarios (still only those that are enabled), or all enabled ones. */
  readonly scenarios: readonly ScenarioName[] | undefined;
  /** Systems whose CPU is profiled (V8's profiler, as `--cpu-prof`) during the load; profiles go to `bench/results/profiles/`. */
  readonly profile: readonly SystemName[];
  /** Show the systems' stdout (their logs). */
  readonly verbose: boolean;
}

/** A full run: 6 systems × 2 scenarios × 2 concurrencies × (1 s warm-up + 3 rounds × 5 s), plus settling pauses and start-up: about 8–9 minutes. */
export const FULL_RUN = { durationSeconds: 5, rounds: 3, warmupSeconds: 1, probeRequests: 10 } as const;
/** `--quick`: a smoke run of every system and scenario, about a minute. */
export const QUICK_RUN = { durationSeconds: 1, rounds: 1, warmupSeconds: 0.5, probeRequests: 3 } as const;
/** Concurrency levels of every run. */
export const DEFAULT_CONNECTIONS = [1, 64] as const;
/** Bounds that keep a typo from running for hours or opening thousands of sockets. */
const MAX_DURATION_SECONDS = 60;
const MAX_ROUNDS = 20;
const MAX_CONNECTIONS = 256;

const USAGE = `usage: npm run bench -- [--quick] [--duration S] [--rounds N] [--warmup S] [--connections 1,64]
                        [--systems a,b] [--scenarios single,list100] [--profile isthmus] [--verbose]`;

/**
 * Reads the runner's command line. Unknown flags and out-of-range values
 * stop with a message and the usage.
 *
 * @example
 * parseBenchOptions(['--quick', '--systems', 'stitch-bare,isthmus']);
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      systems: { type: 'string' },
      scenarios: { type: 'string' },
      profile: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new Error(USAGE);
  const base = values.quick ? QUICK_RUN : FULL_RUN;
  const number = (raw: string | undefined, fallback: number, min: number, max: number, name: string): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be a number from ${min} to ${max}\n${USAGE}`);
    return value;
  };
  const known = new Set<string>(BENCH_SYSTEMS.map((system) => system.name));
  const names = (raw: string | undefined, name: string): SystemName[] | undefined => {
    if (raw === undefined) return undefined;
    const list = raw.split(',').map((each) => each.trim()).filter(Boolean);
    for (const each of list) if (!known.has(each)) throw new Error(`--${name}: unknown system "${each}"; known: ${[...known].join(', ')}`);
    return list as SystemName[];
  };
  const connections = values.connections === undefined ? [...DEFAULT_CONNECTIONS] : values.connections.split(',').map((each) => number(each, 1, 1, MAX_CONNECTIONS, 'connections'));
  return {
    quick: values.quick,
    durationSeconds: number(values.duration, base.durationSeconds, 0.5, MAX_DURATION_SECONDS, 'duration'),
    rounds: Math.round(number(values.rounds, base.rounds, 1, MAX_ROUNDS, 'rounds')),
    warmupSeconds: number(values.warmup, base.warmupSeconds, 0, MAX_DURATION_SECONDS, 'warmup'),
    connections: connections.map(Math.round),
    probeRequests: base.probeRequests,
    systems: names(values.systems, 'systems') ?? BENCH_SYSTEMS.filter((system) => system.inDefaultRun).map((system) => system.name),
    scenarios: values.scenarios?.split(',').map((each) => each.trim() as ScenarioName),
    profile: names(values.profile, 'profile') ?? [],
    verbose: values.verbose,
  };
}
