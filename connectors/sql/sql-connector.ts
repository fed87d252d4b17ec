import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Connector, ConnectorOptions } from '../connector.ts';
import { ConnectorConfigError, UpstreamRejectedError, UpstreamUnavailableError } from '../connector-error.ts';
import { createUpstreamGuard } from '../guard/upstream-guard.ts';
import { checkConnectorOptions } from '../shared/check-connector-options.ts';
import { tracedCall } from '../shared/traced-call.ts';
import { buildSqlSchema, type Row } from './sql-schema.ts';
import { readWithSessionSettings } from './sql-session-settings.ts';

/** Keys per `where key in (…)`: far below PostgreSQL's 65,535 parameters, and a plan that stays cheap. */
export const DEFAULT_MAX_BATCH = 1_000;

/**
 * Round trips of one batched read, with session settings or without: the
 * settings and the read are one statement. The bench's count guards count in these.
 */
export const SQL_ROUND_TRIPS_PER_READ = 1;

/** How long an unused connection stays open: a bureau's database has few connections to spare. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * How much longer than `timeoutMs` the client waits for a query before giving
 * up on the connection: the server's `statement_timeout` (= `timeoutMs`) should
 * cancel it first, so this only fires when the server stopped answering.
 */
export const DEFAULT_QUERY_TIMEOUT_GRACE_MS = 1_000;

/**
 * SQLSTATE classes that mean the database cannot serve, rather than that it
 * refused this query: connection exceptions, insufficient resources, operator
 * intervention (shutdown, statement timeout), system and internal errors.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', 'XX']);
const QUERY_CANCELED = '57014';

/** Options of {@link createSqlConnector}. */
export interface SqlConnectorOptions extends ConnectorOptions {
  /** Keys per query (default {@link DEFAULT_MAX_BATCH}). */
  readonly maxBatch?: number;
}

/**
 * Sorts a `pg` error raised by a query on an open connection: a database that cannot serve (it counts against the
 * breaker, and a statement timeout is a `timeout`), or one that refused the
 * query (`UpstreamRejectedError`: the mapping does not match its tables).
 * Errors without a SQLSTATE are the connection's and go to the guard as they are.
 */
function classify(bureau: string, error: unknown): unknown {
  if (!(error instanceof pg.DatabaseError) || typeof error.code !== 'string') return error;
  if (error.code === QUERY_CANCELED) return new UpstreamUnavailableError(bureau, 'timeout', { cause: error });
  if (UNAVAILABLE_CLASSES.has(error.code.slice(0, 2))) return error;
  return new UpstreamRejectedError(bureau, `SQLSTATE ${error.code}`, { cause: error });
}

/**
 * Creates the connector of a bureau whose system is a PostgreSQL database.
 *
 * Its subschema is the bureau's SDL made executable from its `@sql`,
 * `@column` and `@merge` directives (see {@link buildSqlSchema}); each batch of
 * keys is one kysely `select … where key in (…)` through the bureau's guard,
 * on a `pg` pool of `limits.maxConcurrency` connections whose server-side
 * `statement_timeout` is `limits.timeoutMs`. When `sessionSettings` gives
 * settings for the execution's context (the gateway's consumer identity),
 * the read makes them first, local to its own statement, in the same
 * statement (`readWithSessionSettings`): still one round trip.
 *
 * Why the statement timeout: `pg` cannot cancel a query through an
 * AbortSignal, so when the guard gives up on a slow query, it is the server
 * that stops it, and the connection comes back to the pool.
 *
 * @example
 * const connector = createSqlConnector({ bureau: 'human-resources-social-security', url: 'postgres://…', schema, limits });
 * await execute({ schema: connector.subschema.schema, document, contextValue: {} });
 * await connector.close();
 */
export function createSqlConnector(options: SqlConnectorOptions): Connector {
  checkConnectorOptions('sql', options);
  const { bureau, limits } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ConnectorConfigError(bureau, 'maxBatch must be a positive integer');

  const guard = createUpstreamGuard({ bureau, limits, observe: options.observe });
  // Built before the pool exists, so a mapping error leaves nothing open.
  const schema = buildSqlSchema({
    bureau,
    schema: options.schema,
    maxBatch,
    loadRows(query, keys, context, signal) {
      const settings = Object.entries(options.sessionSettings?.(context) ?? {});
      // The table and how many keys; never the keys, which name people.
      const trace = options.traceCall?.(context, { operation: 'SELECT', table: query.table, keys: keys.length });
      return tracedCall(trace, guard.run(async (callSignal) => {
        callSignal.throwIfAborted();
        let connected = false;
        const read = (on: Kysely<any>) => on.selectFrom(query.table).select(query.columns).where(query.key, 'in', keys);
        try {
          return await db.connection().execute(async (connection) => {
            connected = true;
            // With settings, the bureau's policies and triggers see who is asking, for this read only.
            return settings.length === 0 ? await read(connection).execute() : await readWithSessionSettings<Row>(bureau, connection, settings, read(connection));
          });
        } catch (error) {
          // Whatever keeps us from connecting (refused, not accepting
          // connections, bad credentials) means the bureau cannot serve us;
          // only a query's own errors can be a refusal.
          throw connected ? classify(bureau, error) : error;
        }
      }, signal));
    },
  });

  const pool = new pg.Pool({
    connectionString: options.url,
    max: limits.maxConcurrency,
    connectionTimeoutMillis: limits.timeoutMs,
    statement_timeout: limits.timeoutMs,
    query_timeout: limits.timeoutMs + DEFAULT_QUERY_TIMEOUT_GRACE_MS,
    idleTimeoutMillis: DEFAULT_IDLE_TIMEOUT_MS,
  });
  // An idle connection that the database drops (restart, stop) is reported
  // here; without a listener it would crash the gateway. The next query on
  // the pool opens a new connection, and fails through the guard if it must.
  pool.on('error', () => {});
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });

  return {
    bureau,
    kind: 'sql',
    carriesHeaders: false,
    subschema: { schema },
    breakerState: () => guard.state(),
    async close() {
      await guard.close();
      await db.destroy();
      // Kysely ends the pool only if it ever used it.
      if (!pool.ended && !pool.ending) await pool.end();
    },
  };
}
