import type { BenchSystem } from '../systems/bench-systems.ts';
import type { SystemUpstreams } from '../systems/running-system.ts';
import type { BenchBureauAddresses, UpstreamCounts } from './start-bench-bureaus.ts';

/** Calls per bureau, as the bureaus counted them. */
export interface BureauCalls {
  readonly 'public-security': number;
  readonly 'market-supervision': number;
  readonly 'human-resources-social-security': number;
}

/**
 * The bureaus `system` talks to: the mixed city's (with its own HRSS
 * database) or the all-GraphQL subgraphs.
 *
 * @throws Error when the bureaus it needs were not started.
 */
export function systemUpstreams(system: BenchSystem, addresses: BenchBureauAddresses, databaseServerUrl: string | undefined): SystemUpstreams {
  const server = { sqlConnections: addresses.sqlConnections, ...(databaseServerUrl ? { databaseServerUrl } : {}) };
  if (system.variant === 'all-graphql') {
    if (!addresses.allGraphql) throw new Error(`${system.name} needs the all-GraphQL subgraphs, which were not started`);
    return { variant: 'all-graphql', ...addresses.allGraphql, ...server };
  }
  const hrss = addresses.mixed.hrssBySystem[system.name];
  if (!hrss) throw new Error(`${system.name} has no HRSS database of its own`);
  return { variant: 'mixed', publicSecurity: addresses.mixed.publicSecurity, marketSupervision: addresses.mixed.marketSupervision, hrss, ...server };
}

/** The counters of the bureaus `system` talks to, out of all of them. */
export function systemBureauCalls(system: BenchSystem, counts: UpstreamCounts): BureauCalls {
  if (system.variant === 'all-graphql') {
    const calls = counts.allGraphql ?? { publicSecurity: 0, marketSupervision: 0, hrss: 0 };
    return { 'public-security': calls.publicSecurity, 'market-supervision': calls.marketSupervision, 'human-resources-social-security': calls.hrss };
  }
  return {
    'public-security': counts.mixed.publicSecurity,
    'market-supervision': counts.mixed.marketSupervision,
    'human-resources-social-security': counts.mixed.hrssBySystem[system.name] ?? 0,
  };
}

/** `after − before`, bureau by bureau. */
export function bureauCallsBetween(before: BureauCalls, after: BureauCalls): BureauCalls {
  return {
    'public-security': after['public-security'] - before['public-security'],
    'market-supervision': after['market-supervision'] - before['market-supervision'],
    'human-resources-social-security': after['human-resources-social-security'] - before['human-resources-social-security'],
  };
}
