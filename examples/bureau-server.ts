/**
 * Handles on the demo city's bureau systems, shaped for tests and benchmarks
 * that need to count, slow down, kill and revive a bureau.
 */

/**
 * A running bureau HTTP server, bound to one port for its whole life.
 *
 * @example
 * const bureau = await startMarketSupervision();
 * const before = bureau.requestCount();
 * await fetch(`${bureau.url}/enterprises/${code}`);
 * bureau.requestCount() - before; // 1
 * await bureau.stop();  // connections refused: the bureau is down
 * await bureau.start(); // back on the same port, same url
 */
export interface BureauServer {
  /**
   * Where a connector reaches the bureau: the GraphQL endpoint (ending in
   * `/graphql`) or the REST base URL (no trailing slash).
   */
  readonly url: string;
  /** HTTP requests received since the server was created, counted on arrival. */
  requestCount(): number;
  /** Delays every response from now on by `ms` milliseconds (0 for none). */
  setLatency(ms: number): void;
  /** Stops listening and drops open connections, keep-alive ones included. Resolves once closed; no-op when stopped. */
  stop(): Promise<void>;
  /** Listens again on the same host and port; no-op when running. */
  start(): Promise<void>;
}

/**
 * A running, seeded bureau database reached with a PostgreSQL connection string.
 *
 * `stop` makes new connections fail and ends existing ones while keeping the
 * data; `start` lets connections in again at the same `url`; `close` stops it
 * for good and releases everything (an embedded database's memory, or the
 * database created on a server).
 */
export interface BureauDatabase {
  /** A PostgreSQL connection string, e.g. `postgres://postgres@127.0.0.1:54321/postgres`. */
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}
