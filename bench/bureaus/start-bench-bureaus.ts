import type { BureauDatabase } from '../../examples/bureau-server.ts';
import type { City } from '../../examples/data/generate-city.ts';
import { startHrssDatabase } from '../../examples/human-resources-social-security/hrss-database.ts';
import { startMarketSupervision } from '../../examples/market-supervision/market-supervision-server.ts';
import { startPublicSecurity } from '../../examples/public-security/public-security-server.ts';
import type { SubgraphUrls } from '../all-graphql/compose-supergraph.ts';
import { startAllGraphqlSubgraphs, type AllGraphqlSubgraphs } from '../all-graphql/start-all-graphql-subgraphs.ts';
import { startCountingPgProxy, type CountingPgProxy } from './start-counting-pg-proxy.ts';

/**
 * Connections each system (and the HRSS subgraph) may hold to its HRSS
 * database on a PostgreSQL server: enough that no gateway queues for one at
 * concurrency 64 on two cores. On embedded PGlite it is 1, all it serves.
 */
export const SERVER_SQL_CONNECTIONS = 8;

/** Options of {@link startBenchBureaus}. */
export interface BenchBureausOptions {
  readonly city: City;
  /** A PostgreSQL server for the HRSS databases; without one, each is an embedded PGlite. */
  readonly databaseServerUrl?: string;
  /** Systems that read the SQL bureau themselves: each gets its own HRSS database. */
  readonly sqlReaders: readonly string[];
  /** Whether to start the all-GraphQL subgraphs too. */
  readonly allGraphql: boolean;
}

/** Where the bench's bureau systems answer. Plain data: it crosses to the systems' processes as JSON. */
export interface BenchBureauAddresses {
  readonly hrssStore: 'pglite' | 'postgres';
  /** Connections each reader of an HRSS database may hold: {@link SERVER_SQL_CONNECTIONS}, or 1 on PGlite. */
  readonly sqlConnections: number;
  readonly mixed: {
    readonly publicSecurity: string;
    readonly marketSupervision: string;
    /** Per SQL-reading system: its HRSS database, behind a query-counting proxy. */
    readonly hrssBySystem: Readonly<Record<string, string>>;
  };
  readonly allGraphql?: SubgraphUrls;
}

/** Calls each bureau has received since it started, counted by the bureau (HTTP requests, SQL queries). */
export interface UpstreamCounts {
  readonly mixed: { readonly publicSecurity: number; readonly marketSupervision: number; readonly hrssBySystem: Readonly<Record<string, number>> };
  readonly allGraphql?: { readonly publicSecurity: number; readonly marketSupervision: number; readonly hrss: number };
}

/** The running bureaus of both cities. */
export interface BenchBureaus {
  readonly addresses: BenchBureauAddresses;
  counts(): UpstreamCounts;
  close(): Promise<void>;
}

/**
 * Starts the bureau systems every benchmarked system calls, all on
 * 127.0.0.1 and all serving one city: the mixed city's public security
 * (GraphQL) and market supervision (REST) bureaus, one HRSS database per
 * SQL-reading system, and, when asked, the all-GraphQL subgraphs (whose HRSS
 * subgraph has its own database too).
 *
 * Why a database per system: an embedded PGlite serves one connection at a
 * time, and a system's idle pool would lock the next system out; on a
 * PostgreSQL server they are separate databases of the same server.
 *
 * @example
 * const bureaus = await startBenchBureaus({ city, sqlReaders: ['direct', 'isthmus'], allGraphql: true });
 * bureaus.counts().mixed.publicSecurity;
 */
export async function startBenchBureaus(options: BenchBureausOptions): Promise<BenchBureaus> {
  const { city, databaseServerUrl } = options;
  const sqlConnections = databaseServerUrl ? SERVER_SQL_CONNECTIONS : 1;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    await Promise.allSettled(closers.reverse().map((close) => close()));
  };
  const startHrss = async (): Promise<BureauDatabase> => {
    const database = await startHrssDatabase({ city, ...(databaseServerUrl ? { serverUrl: databaseServerUrl } : {}) });
    closers.push(() => database.close());
    return database;
  };
  try {
    const publicSecurity = await startPublicSecurity({ city });
    closers.push(() => publicSecurity.stop());
    const marketSupervision = await startMarketSupervision({ city });
    closers.push(() => marketSupervision.stop());
    const proxies = new Map<string, CountingPgProxy>();
    for (const system of options.sqlReaders) {
      const proxy = await startCountingPgProxy((await startHrss()).url);
      closers.push(() => proxy.close());
      proxies.set(system, proxy);
    }
    let subgraphs: AllGraphqlSubgraphs | undefined;
    if (options.allGraphql) {
      const started = await startAllGraphqlSubgraphs({ city, hrssDatabaseUrl: (await startHrss()).url, sqlConnections });
      closers.push(() => started.close());
      subgraphs = started;
    }

    const addresses: BenchBureauAddresses = {
      hrssStore: databaseServerUrl ? 'postgres' : 'pglite',
      sqlConnections,
      mixed: {
        publicSecurity: publicSecurity.url,
        marketSupervision: marketSupervision.url,
        hrssBySystem: Object.fromEntries([...proxies].map(([system, proxy]) => [system, proxy.url])),
      },
      ...(subgraphs
        ? { allGraphql: { publicSecurity: subgraphs.publicSecurity.url, marketSupervision: subgraphs.marketSupervision.url, hrss: subgraphs.hrss.url } }
        : {}),
    };
    return {
      addresses,
      counts: () => ({
        mixed: {
          publicSecurity: publicSecurity.requestCount(),
          marketSupervision: marketSupervision.requestCount(),
          hrssBySystem: Object.fromEntries([...proxies].map(([system, proxy]) => [system, proxy.queryCount()])),
        },
        ...(subgraphs
          ? { allGraphql: { publicSecurity: subgraphs.publicSecurity.requestCount(), marketSupervision: subgraphs.marketSupervision.requestCount(), hrss: subgraphs.hrss.requestCount() } }
          : {}),
      }),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
