import type { GraphQLSchema } from 'graphql';
import type { Executor } from '@graphql-tools/utils';

/** The kinds of bureau system the gateway can reach. */
export type ConnectorKind = 'graphql' | 'rest' | 'sql';

/** The state of a connector's circuit breaker, as `/readyz` reports it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Limits that keep one slow or failing bureau from taking the others down. */
export interface ConnectorLimits {
  /** Upper bound on one upstream call, queueing included. */
  readonly timeoutMs: number;
  /** Upstream calls in flight at once; further calls wait (within `timeoutMs`). */
  readonly maxConcurrency: number;
  readonly breaker: {
    /** Consecutive failures that open the breaker. */
    readonly failureThreshold: number;
    /** How long the breaker stays open before one trial call is let through. */
    readonly resetAfterMs: number;
  };
}

/** The outcome of one upstream call, reported to the gateway's metrics. */
export interface UpstreamCall {
  readonly bureau: string;
  /**
   * `ok`: the bureau answered (a 404 included); `error`: it failed or refused;
   * `timeout`: no answer within `timeoutMs`; `rejected`: not sent (breaker open,
   * queue full); `aborted`: the caller gave up first, which is not the bureau's fault.
   */
  readonly outcome: 'ok' | 'error' | 'timeout' | 'rejected' | 'aborted';
  readonly durationMs: number;
}

/** Receives every upstream call a connector makes; the gateway turns these into metrics. */
export type UpstreamObserver = (call: UpstreamCall) => void;

/**
 * What every connector factory receives.
 *
 * `schema` is the bureau's SDL built as a schema *with* its directives
 * (`@key`, `@merge`, `@http`, `@sql`, `@column`, `@share`), so a connector can
 * read its mapping from them.
 */
export interface ConnectorOptions {
  readonly bureau: string;
  /** The bureau system's address: a GraphQL endpoint, a REST base URL or a PostgreSQL connection string. */
  readonly url: string;
  readonly schema: GraphQLSchema;
  readonly limits: ConnectorLimits;
  readonly observe?: UpstreamObserver;
  /**
   * Headers to add to each upstream HTTP call, computed per call from the
   * gateway's execution context (e.g. the signed consumer identity).
   */
  readonly upstreamHeaders?: (context: unknown) => Record<string, string>;
  /**
   * Settings to make in the transaction of each database read, computed per
   * call from the gateway's execution context: the `sql` connector's
   * counterpart of {@link upstreamHeaders}, so a database bureau's row-level
   * security policies and audit triggers learn who is asking
   * (`current_setting('isthmus.consumer_bureau', true)`). Names are
   * PostgreSQL custom settings (`prefix.name`); an empty record reads
   * without a transaction. HTTP connectors ignore it.
   */
  readonly sessionSettings?: (context: unknown) => Readonly<Record<string, string>>;
  /** Traces each upstream call (the gateway's OpenTelemetry spans); absent when tracing is off, and then costs nothing. */
  readonly traceCall?: UpstreamCallTracer;
}

/**
 * Starts the trace of one upstream call from the execution's context, or
 * returns nothing (tracing off, or a request not traced). Connectors know
 * nothing of OpenTelemetry: they send the headers it gives (`traceparent`)
 * and say how the call ended.
 */
export type UpstreamCallTracer = (context: unknown, call: TracedUpstreamCall) => UpstreamCallTrace | undefined;

/** What a trace may say of an upstream call: never keys, parameters or paths, which can name a person. */
export interface TracedUpstreamCall {
  /** `POST` / `GET` for HTTP, `SELECT` for a database read. */
  readonly operation: string;
  /** The table a database read reads. */
  readonly table?: string;
  /** How many keys one batched call asks for. */
  readonly keys?: number;
}

/** One traced upstream call. */
export interface UpstreamCallTrace {
  /** Headers that carry the trace to an HTTP bureau (`traceparent`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Ends the call's span, with the error the call failed with if it did. */
  end(outcome: { readonly error?: unknown }): void;
}

/**
 * How the gateway reaches one bureau's system.
 *
 * A connector presents the bureau as a GraphQL subschema that the gateway
 * stitches: either a schema whose resolvers call the bureau (`rest`, `sql`),
 * or the bureau's schema plus an executor that forwards operations to it
 * (`graphql`). Every upstream call goes through the connector's guard, so it
 * is bounded in time and concurrency and stopped by a circuit breaker; a
 * failure surfaces as an {@link UpstreamUnavailableError} naming the bureau.
 *
 * @example
 * const connector = createRestConnector({ bureau: 'market-supervision', url, schema, limits });
 * stitchSchemas({ subschemas: [{ ...connector.subschema, merge }] });
 */
export interface Connector {
  readonly bureau: string;
  readonly kind: ConnectorKind;
  /**
   * Whether the bureau's system is reached over HTTP, so that each upstream
   * call carries {@link ConnectorOptions.upstreamHeaders} (the signed consumer
   * identity). A database connection has no headers to carry.
   */
  readonly carriesHeaders: boolean;
  readonly subschema: { readonly schema: GraphQLSchema; readonly executor?: Executor };
  /** The breaker's state now. */
  breakerState(): BreakerState;
  /** Releases sockets and pools; in-flight calls finish first. */
  close(): Promise<void>;
}
