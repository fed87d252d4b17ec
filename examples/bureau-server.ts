import type { City } from './data/generate-city.ts';
import type { GatewayTrustOptions, SeenConsumer } from './gateway-trust.ts';

/** Options of a demo bureau served over HTTP (public security, market supervision). */
export interface HttpBureauOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Defaults to `demoCity()`. */
  readonly city?: City;
  /** Serve only requests the gateway vouches for, from the start (see {@link BureauServer.trustGateway}). */
  readonly trustGateway?: GatewayTrustOptions;
}

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
  /**
   * From now on, serves only requests that carry a valid `x-isthmus-consumer`
   * assertion signed by the gateway and addressed to this bureau; anything
   * else gets 401 and no data (503 if the gateway's keys cannot be fetched).
   * `undefined` goes back to serving everyone, as benchmarks and the
   * `direct` baseline need, and as a bureau does until it is told to trust.
   *
   * @throws TypeError on bad options, or when the server was started without a bureau id.
   * @example
   * bureau.trustGateway({ jwksUrl: `${gateway.url}/.well-known/isthmus-gateway-jwks.json` });
   */
  trustGateway(options: GatewayTrustOptions | undefined): void;
  /**
   * Who asked: the consumer claims of the last verified requests (at most
   * `DEFAULT_RECENT_CONSUMERS`), oldest first. Kept in memory for tests and the
   * demo; a bureau logs none of it.
   */
  recentConsumers(): readonly SeenConsumer[];
  /** Consumer assertions whose signature this bureau checked (each different one once); 0 while it does not trust the gateway. */
  assertionsVerified(): number;
}

/**
 * A running, seeded bureau database reached with a PostgreSQL connection string.
 *
 * Unlike {@link BureauServer}, it has no `trustGateway`: a database sees no
 * HTTP headers, so no consumer assertion reaches it. It learns who is asking
 * from the gateway's SQL connector instead, which makes every read in a
 * transaction that first sets `isthmus.consumer_bureau`, `isthmus.consumer_app`,
 * `isthmus.consumer_user`, `isthmus.purpose`, `isthmus.case_id`,
 * `isthmus.agreement_ids` and `isthmus.request_id` with
 * `set_config(…, true)` (a `SET LOCAL`, so a pooled connection never hands
 * one request's identity to the next); the bureau's row-level security
 * policies and audit triggers read them with `current_setting(name, true)`.
 * The database trusts the gateway's login for them, as it trusts it to read
 * at all. The HRSS database keeps such an audit (`audit.isthmus_reads`).
 *
 * `stop` makes new connections fail and ends existing ones while keeping the
 * data; `start` lets connections in again at the same `url`; `close` stops it
 * for good and releases everything (an embedded database's memory, or the
 * database created on a server).
 */
export interface BureauDatabase {
  /** A PostgreSQL connection string, e.g. `postgres://postgres@127.0.0.1:54321/postgres`. */
  readonly url: string;
  /**
   * The bureau's own query of its database, beside the gateway's connection
   * (on PGlite, straight on the engine: its socket takes one connection at a
   * time, and the gateway may hold it). For the bureau's records, in tests
   * and the demo.
   */
  query<R extends Record<string, unknown>>(sql: string, parameters?: readonly unknown[]): Promise<R[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}
