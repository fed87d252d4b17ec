import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

type Command = PostgresQueryResult<unknown>['command'];

const ROW_COMMANDS: ReadonlySet<string> = new Set(['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE', 'COMMIT', 'ROLLBACK']);

/**
 * Presents an embedded PGlite as the small `pg`-style pool that kysely's
 * `PostgresDialect` expects, so the gateway has one database code path for
 * PGlite and PostgreSQL.
 *
 * PGlite is a single connection: the pool hands out one client at a time and
 * queues the rest, which keeps a kysely transaction (BEGIN … COMMIT over one
 * client) from interleaving with other queries.
 */
export function createPglitePool(pglite: PGlite): PostgresPool {
  let tail: Promise<void> = Promise.resolve();
  let ended = false;

  return {
    async connect(): Promise<PostgresPoolClient> {
      if (ended) throw new Error('the embedded database is closed');
      let release!: () => void;
      const turn = new Promise<void>((resolve) => (release = resolve));
      const previous = tail;
      tail = previous.then(() => turn);
      await previous;
      let released = false;
      const client = {
        async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
          const result = await pglite.query<R>(sql, [...parameters]);
          const command = (result.command ?? '').toUpperCase();
          return {
            command: (ROW_COMMANDS.has(command) ? command : 'SELECT') as Command,
            rowCount: result.affectedRows ?? result.rows.length,
            rows: result.rows,
          };
        },
        release(): void {
          if (released) return;
          released = true;
          release();
        },
      };
      return client as PostgresPoolClient;
    },
    async end(): Promise<void> {
      ended = true;
      await tail;
      await pglite.close();
    },
  };
}
