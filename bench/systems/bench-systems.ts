import type { CityVariant, RunningSystem, SystemUpstreams } from './running-system.ts';

/** The systems the benchmark compares. `-ag`: over the all-GraphQL city. */
export type SystemName = 'direct' | 'stitch-bare' | 'isthmus' | 'stitch-bare-ag' | 'isthmus-ag' | 'hive-gateway' | 'isthmus-no-log' | 'isthmus-no-policy' | 'isthmus-witnessed' | 'isthmus-hardened' | 'isthmus-no-hardening';

/** One benchmarked system: what it is, which city it runs over, and how to start it. */
export interface BenchSystem {
  readonly name: SystemName;
  readonly variant: CityVariant;
  readonly description: string;
  /** The system its figures are divided by in the ratios: stitch-bare of the same city. */
  readonly baseline: SystemName;
  /** Reads a SQL bureau itself, so it gets its own HRSS database (PGlite serves one connection at a time). */
  readonly readsSql: boolean;
  /** In a run without `--systems`; the stage-by-stage variants of Isthmus run only when named, to keep a full run within ten minutes. */
  readonly inDefaultRun: boolean;
  /** Loaded lazily, so the runner never imports a gateway it does not start. */
  start(upstreams: SystemUpstreams): Promise<RunningSystem>;
}

/** Every system, in the order rounds visit them. */
export const BENCH_SYSTEMS: readonly BenchSystem[] = [
  {
    name: 'direct',
    variant: 'mixed',
    description: 'the floor: a node:http service calling the GraphQL, REST and SQL bureaus itself, no GraphQL layer',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-direct.ts')).startDirect(upstreams),
  },
  {
    name: 'stitch-bare',
    variant: 'mixed',
    description: "graphql-yoga + @graphql-tools/stitch over Isthmus's connectors and stitchBureaus, nothing else",
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-stitch-bare.ts')).startStitchBare(upstreams),
  },
  {
    name: 'isthmus',
    variant: 'mixed',
    description: 'the Isthmus gateway (startGateway) over the mixed city',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams),
  },
  {
    name: 'stitch-bare-ag',
    variant: 'all-graphql',
    description: 'stitch-bare over the three GraphQL subgraphs (Isthmus graphql connectors)',
    baseline: 'stitch-bare-ag',
    readsSql: false,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-stitch-bare.ts')).startStitchBare(upstreams),
  },
  {
    name: 'isthmus-ag',
    variant: 'all-graphql',
    description: 'the Isthmus gateway over the three GraphQL subgraphs',
    baseline: 'stitch-bare-ag',
    readsSql: false,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams),
  },
  {
    name: 'hive-gateway',
    variant: 'all-graphql',
    description: 'Hive Gateway (createGatewayRuntime) over the federation supergraph of the three subgraphs',
    baseline: 'stitch-bare-ag',
    readsSql: false,
    inDefaultRun: true,
    start: async (upstreams) => (await import('./start-hive-gateway.ts')).startHiveGateway(upstreams),
  },
  {
    name: 'isthmus-witnessed',
    variant: 'mixed',
    description: 'Isthmus with a witness (the audit office, isthmus-witness in its own process) cosigning its checkpoints: what the evidence costs',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: false,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams, { witness: true }),
  },
  {
    name: 'isthmus-hardened',
    variant: 'mixed',
    description: 'Isthmus with trusted operations required (a manifest of the bench documents) and a metered quota on every agreement: what the production checks cost',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: false,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams, { hardened: true }),
  },
  {
    name: 'isthmus-no-hardening',
    variant: 'mixed',
    description: "Isthmus without issue 13's stages that are on by default (trusted-operations check, operation cost limit, security events): what they cost",
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: false,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams, { stages: { hardening: false } }),
  },
  {
    name: 'isthmus-no-log',
    variant: 'mixed',
    description: 'Isthmus with the access log switched off (the plugins option of startGateway): what the log costs',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: false,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams, { stages: { accessLog: false } }),
  },
  {
    name: 'isthmus-no-policy',
    variant: 'mixed',
    description: 'Isthmus with enforcement and the access log switched off: authentication, limits, request log and metrics remain',
    baseline: 'stitch-bare',
    readsSql: true,
    inDefaultRun: false,
    start: async (upstreams) => (await import('./start-isthmus.ts')).startIsthmusSystem(upstreams, { stages: { enforcement: false, accessLog: false } }),
  },
];

/** Looks a system up by name; throws on an unknown one, naming the known ones. */
export function benchSystem(name: string): BenchSystem {
  const system = BENCH_SYSTEMS.find((candidate) => candidate.name === name);
  if (!system) throw new Error(`unknown system "${name}"; known: ${BENCH_SYSTEMS.map((each) => each.name).join(', ')}`);
  return system;
}
