import type { BureauCalls } from '../bureaus/system-upstreams.ts';
import type { LoadResult } from '../measure/run-load.ts';
import type { ScenarioName } from '../scenarios/bench-scenarios.ts';
import type { BenchSystem, SystemName } from '../systems/bench-systems.ts';
import type { CityVariant } from '../systems/running-system.ts';

/** One timed round: what the load generator saw, and the CPU the system and the bureaus spent. */
export interface RoundResult extends LoadResult {
  /** Requests the system processed during the round and the settling pause after it, counted by the bureaus. */
  readonly processedRequests: number;
  /** The system process's CPU time (user + system) per processed request: its own cost, whatever else the machine does. */
  readonly systemCpuMsPerRequest: number;
  /** The bureaus' CPU time per processed request: the same for every system of a city if upstream work is the same. */
  readonly bureausCpuMsPerRequest: number;
  /**
   * The local PostgreSQL server's CPU time (all its processes) per processed
   * request: the SQL bureau's queries and, for Isthmus, the access log. NaN
   * without a server (`DATABASE_URL` unset: PGlite runs inside the processes above).
   */
  readonly databaseCpuMsPerRequest: number;
}

/** The rounds of one system on one scenario at one concurrency. */
export interface MeasuredCell {
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly system: SystemName;
  readonly rounds: readonly RoundResult[];
}

/** A cell reduced to medians, with ratios to its baseline (stitch-bare of the same city). */
export interface CellSummary {
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly system: SystemName;
  readonly variant: CityVariant;
  readonly baseline: SystemName;
  readonly rounds: number;
  readonly responses: number;
  /** Medians over rounds. */
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly systemCpuMsPerRequest: number;
  readonly bureausCpuMsPerRequest: number;
  readonly databaseCpuMsPerRequest: number;
  /** Every round's req/s, in the order run: the spread behind the median. */
  readonly requestsPerSecondByRound: readonly number[];
  /** Non-2xx + bodies with GraphQL errors + transport errors, over all rounds. */
  readonly errors: number;
  /** This system's median ÷ its baseline's; 1 for the baseline itself, null when the baseline did not run. */
  readonly ratio: { readonly requestsPerSecond: number | null; readonly p50Ms: number | null; readonly p99Ms: number | null; readonly systemCpuMsPerRequest: number | null };
}

/** One system over the whole run. */
export interface SystemSummary {
  readonly name: SystemName;
  readonly variant: CityVariant;
  readonly description: string;
  readonly baseline: SystemName;
  /** Largest RSS sampled (every 100 ms) during its timed rounds and warm-ups, MiB. */
  readonly peakRssMiB: number;
}

/** Correctness and upstream calls of one system on one scenario. */
export interface ProbeSummary {
  readonly scenario: ScenarioName;
  readonly system: SystemName;
  readonly correct: boolean;
  readonly problem?: string;
  readonly callsPerRequest: BureauCalls & { readonly total: number };
}

/** A goal of issue #5, checked against this run's medians. */
export interface GoalResult {
  readonly goal: string;
  readonly value: number | null;
  readonly target: string;
  /** null when the systems it compares did not run. */
  readonly met: boolean | null;
}

/** What `bench/results/latest.json` holds. */
export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly loadAverageAtStart: readonly number[]; readonly loadAverageAtEnd: readonly number[] };
  readonly settings: { readonly durationSeconds: number; readonly rounds: number; readonly warmupSeconds: number; readonly connections: readonly number[] };
  /** Where the HRSS tables lived: `pglite` (embedded, one connection) or `postgres` (the `DATABASE_URL` server). */
  readonly hrssStore: 'pglite' | 'postgres';
  readonly systems: readonly SystemSummary[];
  readonly probes: readonly ProbeSummary[];
  readonly cells: readonly CellSummary[];
  readonly goals: readonly GoalResult[];
}

/**
 * Reduces measured cells to medians and ratios against each system's
 * baseline in the same scenario and concurrency.
 */
export function summarizeCells(cells: readonly MeasuredCell[], systems: readonly BenchSystem[]): CellSummary[] {
  const byName = new Map(systems.map((system) => [system.name, system]));
  const medians = cells.map((cell) => ({
    cell,
    requestsPerSecond: median(cell.rounds.map((round) => round.requestsPerSecond)),
    p50Ms: median(cell.rounds.map((round) => round.p50Ms)),
    p99Ms: median(cell.rounds.map((round) => round.p99Ms)),
    systemCpuMsPerRequest: median(cell.rounds.map((round) => round.systemCpuMsPerRequest)),
    bureausCpuMsPerRequest: median(cell.rounds.map((round) => round.bureausCpuMsPerRequest)),
    databaseCpuMsPerRequest: median(cell.rounds.map((round) => round.databaseCpuMsPerRequest)),
  }));
  return medians.map(({ cell, ...figures }) => {
    const system = byName.get(cell.system)!;
    const base = medians.find((each) => each.cell.system === system.baseline && each.cell.scenario === cell.scenario && each.cell.connections === cell.connections);
    const ratio = (value: number, baseValue: number | undefined): number | null => (baseValue === undefined || !(baseValue > 0) ? null : Math.round((value / baseValue) * 1_000) / 1_000);
    return {
      scenario: cell.scenario,
      connections: cell.connections,
      system: cell.system,
      variant: system.variant,
      baseline: system.baseline,
      rounds: cell.rounds.length,
      responses: cell.rounds.reduce((sum, round) => sum + round.responses, 0),
      ...figures,
      requestsPerSecondByRound: cell.rounds.map((round) => round.requestsPerSecond),
      errors: cell.rounds.reduce((sum, round) => sum + round.non2xx + round.bodyErrors + round.transportErrors, 0),
      ratio: {
        requestsPerSecond: ratio(figures.requestsPerSecond, base?.requestsPerSecond),
        p50Ms: ratio(figures.p50Ms, base?.p50Ms),
        p99Ms: ratio(figures.p99Ms, base?.p99Ms),
        systemCpuMsPerRequest: ratio(figures.systemCpuMsPerRequest, base?.systemCpuMsPerRequest),
      },
    };
  });
}

/**
 * Issue #5's goals on the single lookup: Isthmus ≥ 0.8 × stitch-bare's
 * throughput (concurrency 64), ≥ 1.0 × Hive Gateway's (like for like: both
 * over the all-GraphQL city), and a p99 under 2 × stitch-bare's (at every
 * concurrency).
 */
export function checkGoals(cells: readonly CellSummary[]): GoalResult[] {
  const find = (system: SystemName, connections: number) => cells.find((cell) => cell.scenario === 'single' && cell.system === system && cell.connections === connections);
  const goals: GoalResult[] = [];
  const compare = (goal: string, target: string, value: number | undefined | null, holds: (value: number) => boolean): void => {
    const known = value === undefined || value === null || !Number.isFinite(value) ? null : Math.round(value * 1_000) / 1_000;
    goals.push({ goal, target, value: known, met: known === null ? null : holds(known) });
  };
  const throughput = Math.max(...cells.map((cell) => cell.connections));
  const isthmus = find('isthmus', throughput);
  const bare = find('stitch-bare', throughput);
  compare(`single, c=${throughput}: isthmus req/s ÷ stitch-bare req/s`, '≥ 0.8', isthmus && bare ? isthmus.requestsPerSecond / bare.requestsPerSecond : null, (v) => v >= 0.8);
  const isthmusAg = find('isthmus-ag', throughput);
  const hive = find('hive-gateway', throughput);
  compare(`single, c=${throughput}: isthmus-ag req/s ÷ hive-gateway req/s (all-GraphQL city)`, '≥ 1.0', isthmusAg && hive ? isthmusAg.requestsPerSecond / hive.requestsPerSecond : null, (v) => v >= 1);
  for (const connections of [...new Set(cells.map((cell) => cell.connections))].sort((a, b) => a - b)) {
    const i = find('isthmus', connections);
    const b = find('stitch-bare', connections);
    compare(`single, c=${connections}: isthmus p99 ÷ stitch-bare p99`, '< 2.0', i && b ? i.p99Ms / b.p99Ms : null, (v) => v < 2);
  }
  return goals;
}

/** The median; the mean of the middle two for an even count; NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
