import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import type { CompiledQuery } from 'kysely';
import type { BureauDatabase } from '../bureau-server.ts';
import { demoCity, type City } from '../data/generate-city.ts';
import { hrssSeedStatements } from './hrss-seed-statements.ts';

/** Options of {@link startHrssDatabase}. */
export interface HrssDatabaseOptions {
  /** Port of the embedded database's socket; 0 (the default) picks a free one. Ignored with `serverUrl`. */
  readonly port?: number;
  /** Defaults to {@link demoCity}. */
  readonly city?: City;
  /**
   * A PostgreSQL server to create the database on, as a connection string to
   * any database there that the user may `CREATE DATABASE` from, e.g.
   * `postgres://postgres@127.0.0.1:5432/postgres`. Without it, the database
   * is an in-memory PGlite behind a socket.
   */
  readonly serverUrl?: string;
}

// Bounds on talking to a PostgreSQL server, so a wrong URL fails instead of hanging.
const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 60_000;
const HOST = '127.0.0.1';

/**
 * Starts the human resources and social security bureau's database
 * (人力资源和社会保障局 社会保险): PostgreSQL tables `insurance_accounts` and
 * `enterprise_insurance_summary`, seeded from the city.
 *
 * - With `serverUrl`: a fresh database `hrss_<random hex>` on that server.
 *   `stop` disallows connections to it and terminates the open ones, `start`
 *   allows them again, `close` drops it (`WITH (FORCE)`).
 * - Without: an in-memory PGlite served on 127.0.0.1 by pglite-socket.
 *   `stop` closes the socket and its connections (the data stays), `start`
 *   listens on the same port again, `close` also shuts PGlite down.
 *   PGlite is one backend, so the socket takes **one connection at a time**:
 *   clients must use a pool of at most 1, and a second connection is turned
 *   away (with a plain-text message, which `pg` reports as a protocol error).
 *
 * @example
 * const hrss = await startHrssDatabase();
 * const pool = new pg.Pool({ connectionString: hrss.url, max: 1 });
 * await pool.query('select * from insurance_accounts where id_number = any($1)', [ids]);
 */
export function startHrssDatabase(options: HrssDatabaseOptions = {}): Promise<BureauDatabase> {
  const statements = hrssSeedStatements(options.city ?? demoCity());
  return options.serverUrl === undefined
    ? startOnPglite(options.port ?? 0, statements)
    : startOnServer(options.serverUrl, statements);
}

async function startOnPglite(port: number, statements: readonly CompiledQuery[]): Promise<BureauDatabase> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError('port must be an integer from 0 to 65535');
  const db = await PGlite.create();
  try {
    // Seeded directly, before the socket opens: nobody can see a half-filled database,
    // and the socket's single connection is not taken by the seeding.
    await db.transaction(async (tx) => {
      for (const statement of statements) await tx.query(statement.sql, [...statement.parameters]);
    });
    let server: PGLiteSocketServer | undefined = new PGLiteSocketServer({ db, host: HOST, port });
    await server.start();
    // getServerConn() is `host:port`, with the port the OS chose when asked for 0.
    const boundPort = Number(server.getServerConn().split(':').pop());
    let closed = false;

    const stop = async (): Promise<void> => {
      const running = server;
      server = undefined;
      await running?.stop();
    };
    return {
      url: `postgres://postgres@${HOST}:${boundPort}/postgres`,
      async query<R extends Record<string, unknown>>(text: string, parameters: readonly unknown[] = []) {
        if (closed) throw new Error('the HRSS database is closed');
        return (await db.query<R>(text, [...parameters])).rows;
      },
      stop,
      async start() {
        if (closed) throw new Error('the HRSS database is closed');
        if (server) return;
        // A fresh socket server on the fixed port: the PGlite instance, and so the data, is the same.
        const next = new PGLiteSocketServer({ db, host: HOST, port: boundPort });
        await next.start();
        server = next;
      },
      async close() {
        if (closed) return;
        closed = true;
        await stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

async function startOnServer(serverUrl: string, statements: readonly CompiledQuery[]): Promise<BureauDatabase> {
  // Random hex only, so the name is a safe identifier; it is quoted all the same.
  const name = `hrss_${randomBytes(8).toString('hex')}`;
  const identifier = `"${name}"`;
  const url = databaseUrl(serverUrl, name);

  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${identifier}`));
  try {
    await withClient(url, async (client) => {
      await client.query('BEGIN');
      for (const statement of statements) await client.query(statement.sql, [...statement.parameters]);
      await client.query('COMMIT');
    });
  } catch (error) {
    await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${identifier} WITH (FORCE)`)).catch(
      () => {},
    );
    throw error;
  }

  let closed = false;
  return {
    url,
    async query<R extends Record<string, unknown>>(text: string, parameters: readonly unknown[] = []) {
      if (closed) throw new Error('the HRSS database is closed');
      return withClient(url, async (client) => (await client.query<R>(text, [...parameters])).rows);
    },
    async stop() {
      // ALLOW_CONNECTIONS binds superusers too, which REVOKE CONNECT and CONNECTION LIMIT do not.
      await withClient(serverUrl, async (client) => {
        await client.query(`ALTER DATABASE ${identifier} ALLOW_CONNECTIONS false`);
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
      });
    },
    async start() {
      if (closed) throw new Error('the HRSS database is closed');
      await withClient(serverUrl, (client) => client.query(`ALTER DATABASE ${identifier} ALLOW_CONNECTIONS true`));
    },
    async close() {
      if (closed) return;
      closed = true;
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${identifier} WITH (FORCE)`));
    },
  };
}

/** `serverUrl` with its database replaced by `database`; user, host, port and parameters are kept. */
function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
