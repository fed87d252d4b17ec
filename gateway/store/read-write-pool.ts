import type { PostgresPool } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget, TargetSessionAttrs } from './database-url.ts';
import { StoreError } from './store-error.ts';

type HostsTarget = Extract<DatabaseTarget, { kind: 'hosts' }>;

/** Sizes and bounds of a {@link createReadWritePool}. */
export interface ReadWritePoolOptions {
  /** Connections kept to the server in use. */
  readonly max: number;
  /** How long opening one connection to one host may take. */
  readonly connectionTimeoutMillis: number;
}

/**
 * Whether the server behind `client` is what `target` asks for, the way
 * libpq decides: `read-write` asks `transaction_read_only` (on for a hot
 * standby, and for a server set read-only), `primary` asks
 * `pg_is_in_recovery()`, `any` takes every server. Bounded by `timeoutMs`.
 */
async function accepts(client: pg.ClientBase, target: TargetSessionAttrs, timeoutMs: number): Promise<boolean> {
  if (target === 'any') return true;
  const text = target === 'primary' ? 'select pg_is_in_recovery() as refused' : "select current_setting('transaction_read_only')::boolean as refused";
  // Bounded on the client's side: a server that accepts connections but does not answer is no server.
  // pg reads `query_timeout` per query as well as per client; its types name it only for the client.
  const query: pg.QueryConfig & { readonly query_timeout: number } = { text, query_timeout: timeoutMs };
  const result = await client.query<{ refused: boolean }>(query);
  return result.rows[0]?.refused === false;
}

function noServer(target: HostsTarget, failures: readonly unknown[]): StoreError {
  const what = target.target === 'any' ? 'answers' : 'accepts writes';
  return new StoreError('STORE_UNAVAILABLE', `no server of the ${target.hosts.length} in the database URL ${what}`, {
    cause: new AggregateError(failures, 'every host of the database URL was tried'),
  });
}

/**
 * A pool over the hosts of a multi-host `DATABASE_URL`, for kysely's
 * `PostgresDialect`: one `pg.Pool` per host, tried in order starting with
 * the host that served last. A connection is checked once, when its pool
 * opens it (a server cannot turn from primary to standby without a restart,
 * which ends the connection); a connection to a server of the wrong kind
 * (a standby, before or after a failover) is closed at once and the next
 * host is tried. Connections to a server that went away fail on their own:
 * `pg` marks them unusable and the pool drops them on release, and their
 * `error` events are heard so that none ends the process. When no host
 * will do, `connect()` rejects with `STORE_UNAVAILABLE`, which the access
 * log turns into a 503 (no log, no data).
 */
export function createReadWritePool(target: HostsTarget, options: ReadWritePoolOptions): PostgresPool {
  const pools = target.hosts.map((_, index) => {
    const pool = new pg.Pool({ connectionString: target.urlFor(index), max: options.max, connectionTimeoutMillis: options.connectionTimeoutMillis });
    // See openStore: unheard, a dropped connection's 'error' ends the process.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    return pool;
  });
  const checked = new WeakSet<pg.PoolClient>();
  let preferred = 0;

  return {
    async connect() {
      const failures: unknown[] = [];
      for (let step = 0; step < pools.length; step += 1) {
        const index = (preferred + step) % pools.length;
        let client: pg.PoolClient | undefined;
        try {
          client = await pools[index]!.connect();
          if (!checked.has(client)) {
            if (!(await accepts(client, target.target, options.connectionTimeoutMillis))) {
              client.release(true);
              failures.push(new Error(`host ${index + 1} does not accept writes`));
              continue;
            }
            checked.add(client);
          }
          preferred = index;
          return client;
        } catch (error) {
          client?.release(true);
          failures.push(error);
        }
      }
      throw noServer(target, failures);
    },
    async end() {
      await Promise.all(pools.map((pool) => pool.end()));
    },
  };
}

/**
 * One connection of its own (for LISTEN) to the first host, in order, that
 * `target` accepts. The client has an `error` listener already; the caller
 * adds its own.
 */
export async function connectReadWrite(target: HostsTarget, connectionTimeoutMillis: number): Promise<pg.Client> {
  const failures: unknown[] = [];
  for (let index = 0; index < target.hosts.length; index += 1) {
    const client = new pg.Client({ connectionString: target.urlFor(index), connectionTimeoutMillis });
    client.on('error', () => {});
    try {
      await client.connect();
      if (await accepts(client, target.target, connectionTimeoutMillis)) return client;
      failures.push(new Error(`host ${index + 1} does not accept writes`));
    } catch (error) {
      failures.push(error);
    }
    await client.end().catch(() => {});
  }
  throw noServer(target, failures);
}
