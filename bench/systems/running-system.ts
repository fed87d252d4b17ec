/**
 * What every benchmarked system is started from and what it hands the load
 * generator. Kept to plain data so it crosses a process boundary as JSON.
 */

/** The demo city in two shapes: three bureau kinds, or three GraphQL subgraphs. */
export type CityVariant = 'mixed' | 'all-graphql';

/**
 * The bureau systems one benchmarked system talks to.
 *
 * - `mixed`: `publicSecurity` is a GraphQL endpoint, `marketSupervision` a
 *   REST base URL, `hrss` a PostgreSQL connection string (this system's own
 *   HRSS database, behind a query-counting proxy).
 * - `all-graphql`: all three are federation subgraphs' `/graphql` endpoints.
 */
export interface SystemUpstreams {
  readonly variant: CityVariant;
  readonly publicSecurity: string;
  readonly marketSupervision: string;
  readonly hrss: string;
  /**
   * Connections a system may hold to the SQL bureau (its pool, or the SQL
   * connector's `maxConcurrency`): 1 on embedded PGlite, which serves one
   * connection at a time; more on a PostgreSQL server (see `BENCH_SQL_CONNECTIONS`).
   */
  readonly sqlConnections: number;
  /**
   * A PostgreSQL server on which a system may create a scratch database for
   * its own state (the Isthmus store); without one it keeps it in memory.
   */
  readonly databaseServerUrl?: string;
}

/** Where the load goes, and with which headers (a bearer token, once Isthmus requires one). */
export interface BenchEndpoint {
  /** The full GraphQL endpoint, e.g. `http://127.0.0.1:40123/graphql`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Headers for scenarios run as another principal than the default one
   * (e.g. a citizen app's token for `SELF` scenarios); absent where the
   * system has no notion of principals.
   */
  readonly principals?: Readonly<Partial<Record<BenchPrincipal, Readonly<Record<string, string>>>>>;
}

/** Who a scenario's requests are sent as. */
export type BenchPrincipal = 'bureau-app' | 'citizen-app';

/** A started system. */
export interface RunningSystem extends BenchEndpoint {
  /** Stops listening and releases connections; in-flight requests finish first. */
  close(): Promise<void>;
}
