import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPglitePool } from './pglite-pool.ts';
import { migrateToLatest, pendingMigrations } from './migrate.ts';
import { StoreError } from './store-error.ts';
import type { StoreSchema } from './store-schema.ts';

/** Connections the gateway keeps to PostgreSQL. */
export const DEFAULT_POOL_SIZE = 10;
/** How long a health check of the store may take. */
export const DEFAULT_PING_TIMEOUT_MS = 2_000;

/** Where the gateway keeps its own tables. */
export type StoreOptions =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  /** `dataDir` undefined keeps the embedded database in memory (tests). */
  | { readonly kind: 'pglite'; readonly dataDir?: string };

/**
 * The gateway's database: PostgreSQL through `pg`, or embedded PGlite, behind
 * one kysely instance so that migrations and queries are the same for both.
 */
export interface Store {
  readonly kind: StoreOptions['kind'];
  readonly db: Kysely<StoreSchema>;
  /** Resolves when the store answers a query within the timeout; rejects with a `StoreError` otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<readonly string[]>;
  /** Names of migrations not yet applied. */
  pending(): Promise<readonly string[]>;
  close(): Promise<void>;
}

/**
 * Opens the store. Nothing is migrated here: the caller decides whether to
 * migrate or to refuse to start with pending migrations.
 *
 * @example
 * const store = await openStore({ kind: 'pglite', dataDir: '.isthmus/data' });
 * await store.migrate();
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const dialect =
    options.kind === 'postgres'
      ? new PostgresDialect({
          pool: new pg.Pool({
            connectionString: options.url,
            max: options.poolSize ?? DEFAULT_POOL_SIZE,
            connectionTimeoutMillis: DEFAULT_PING_TIMEOUT_MS,
          }),
        })
      : new PostgresDialect({ pool: createPglitePool(await openPglite(options.dataDir)) });
  const db = new Kysely<StoreSchema>({ dialect });

  return {
    kind: options.kind,
    db,
    async ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([sql`select 1`.execute(db), timeout]);
      } catch (cause) {
        throw new StoreError('STORE_UNAVAILABLE', 'the gateway database is unreachable', { cause });
      } finally {
        clearTimeout(timer);
      }
    },
    migrate: () => migrateToLatest(db),
    pending: () => pendingMigrations(db),
    close: () => db.destroy(),
  };
}

async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir === undefined) return PGlite.create();
  mkdirSync(dataDir, { recursive: true });
  return PGlite.create(dataDir);
}
