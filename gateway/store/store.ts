import { mkdir } from 'node:fs/promises';
import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPglitePool } from './pglite-pool.ts';
import { parseDatabaseUrl, type DatabaseTarget } from './database-url.ts';
import { connectReadWrite, createReadWritePool } from './read-write-pool.ts';
import { migrateToLatest, pendingMigrations } from './migrate.ts';
import { StoreError } from './store-error.ts';
import { acquireStoreLock, type StoreLock } from './store-lock.ts';
import type { StoreSchema } from './store-schema.ts';

/** Connections the gateway keeps to PostgreSQL. */
export const DEFAULT_POOL_SIZE = 10;
/** How long a health check of the store may take. */
export const DEFAULT_PING_TIMEOUT_MS = 2_000;
/** Wait before a dropped LISTEN connection to PostgreSQL is opened again. */
export const DEFAULT_LISTEN_RETRY_MS = 1_000;

/** A channel name for LISTEN, which takes no parameters: plain lowercase identifiers only. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** Stops a {@link Store.listen} subscription. */
export type Unlisten = () => Promise<void>;

/** Where the gateway keeps its own tables. */
export type StoreOptions =
  /**
   * `url` may name several hosts with `target_session_attrs=read-write`
   * (libpq's syntax, see `database-url.ts`): connections then go to the
   * server that accepts writes, found again after a failover.
   */
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  /**
   * `dataDir` undefined keeps the embedded database in memory (tests). A
   * folder is owned by one process at a time (see `store-lock.ts`).
   */
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
  /**
   * Calls `onNotify(payload)` for each `NOTIFY channel` until the returned
   * function is called. Delivery is best effort (a dropped connection loses
   * what was sent meanwhile), so a reader that must not miss a change also
   * polls something it can compare.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<Unlisten>;
  /**
   * Records where this process serves in the embedded store's lock, so that
   * a process it turns away can say where to go instead. Does nothing for
   * PostgreSQL and in-memory stores, which have no lock.
   */
  advertise(url: string): Promise<void>;
  /** Closes the database, then releases the embedded store's lock (kept if closing failed: the files may still be in use). */
  close(): Promise<void>;
}

/**
 * Opens the store. Nothing is migrated here: the caller decides whether to
 * migrate or to refuse to start with pending migrations. An embedded store
 * on disk is locked first: if another process holds it, this rejects with
 * `StoreLockedError` before PGlite is opened or anything is written.
 *
 * @example
 * const store = await openStore({ kind: 'pglite', dataDir: '.isthmus/data' });
 * await store.migrate();
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  let listenOn: (channel: string, onNotify: (payload: string) => void) => Promise<Unlisten>;
  let dialect: PostgresDialect;
  let lock: StoreLock | undefined;
  if (options.kind === 'postgres') {
    // Throws DatabaseUrlInvalid (no URL in its message) before anything is opened.
    const target = parseDatabaseUrl(options.url);
    const max = options.poolSize ?? DEFAULT_POOL_SIZE;
    dialect = new PostgresDialect({ pool: target.kind === 'direct' ? openDirectPool(target.url, max) : createReadWritePool(target, { max, connectionTimeoutMillis: DEFAULT_PING_TIMEOUT_MS }) });
    listenOn = (channel, onNotify) => listenPostgres(target, channel, onNotify);
  } else {
    if (options.dataDir !== undefined) {
      await mkdir(options.dataDir, { recursive: true });
      lock = await acquireStoreLock(options.dataDir);
    }
    let pglite: PGlite;
    try {
      pglite = await openPglite(options.dataDir);
    } catch (error) {
      await lock?.release();
      throw error;
    }
    const pool = createPglitePool(pglite);
    dialect = new PostgresDialect({ pool });
    listenOn = (channel, onNotify) => listenPglite(pglite, pool, channel, onNotify);
  }
  const db = new Kysely<StoreSchema>({ dialect });
  const listeners = new Set<Unlisten>();

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
    async listen(channel, onNotify) {
      if (!CHANNEL.test(channel)) throw new TypeError(`not a plain channel name: ${channel}`);
      const stop = await listenOn(channel, onNotify);
      const unlisten: Unlisten = async () => {
        if (!listeners.delete(unlisten)) return;
        await stop();
      };
      listeners.add(unlisten);
      return unlisten;
    },
    async advertise(url) {
      await lock?.advertise(url, AbortSignal.timeout(DEFAULT_PING_TIMEOUT_MS));
    },
    async close() {
      await Promise.allSettled([...listeners].map((unlisten) => unlisten()));
      await db.destroy();
      await lock?.release();
    },
  };
}

/** One host and no `target_session_attrs`: a plain `pg.Pool`, as the store always had. */
function openDirectPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: DEFAULT_PING_TIMEOUT_MS });
  // When PostgreSQL ends a connection (restart, failover), pg emits 'error'
  // on the pool for idle clients and on the client for checked-out ones;
  // unheard, either ends the process. The query in flight fails on its own
  // and the pool opens a new connection for the next one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** A connected client of its own, to the server `target` names (the one that accepts writes, for several hosts). */
async function connectClient(target: DatabaseTarget): Promise<pg.Client> {
  if (target.kind === 'hosts') return connectReadWrite(target, DEFAULT_PING_TIMEOUT_MS);
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: DEFAULT_PING_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * LISTEN on a connection of its own: a pooled connection would go back to
 * the pool and serve queries, and its LISTEN would end with it. When the
 * connection drops it is opened again after {@link DEFAULT_LISTEN_RETRY_MS};
 * a first attempt that fails rejects, and is not retried.
 */
async function listenPostgres(target: DatabaseTarget, channel: string, onNotify: (payload: string) => void): Promise<Unlisten> {
  let stopped = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  // Retries only once a LISTEN has held: a first attempt that fails is the caller's to handle (it got no Unlisten to stop them).
  let established = false;

  const open = async (): Promise<void> => {
    let client: pg.Client;
    try {
      client = await connectClient(target);
    } catch (error) {
      if (established && !retry && !stopped) retry = setTimeout(retryOpen, DEFAULT_LISTEN_RETRY_MS);
      throw error;
    }
    if (stopped) {
      await client.end().catch(() => {});
      return;
    }
    current = client;
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    // A dropped connection emits 'error' and then 'end'; both lead to one retry.
    client.on('error', () => dropped(client));
    client.on('end', () => dropped(client));
    try {
      await client.query(`listen ${channel}`);
      established = true;
    } catch (error) {
      dropped(client);
      throw error;
    }
  };
  const retryOpen = (): void => {
    retry = undefined;
    if (!stopped) open().catch(() => {});
  };
  const dropped = (client: pg.Client): void => {
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => {});
    if (stopped || retry || !established) return;
    retry = setTimeout(retryOpen, DEFAULT_LISTEN_RETRY_MS);
  };

  await open();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}

/**
 * PGlite's own listen, taken in turn with other queries so that the LISTEN
 * never runs inside another caller's transaction (a rollback would undo it).
 */
async function listenPglite(pglite: PGlite, pool: PostgresPool, channel: string, onNotify: (payload: string) => void): Promise<Unlisten> {
  const turn = await pool.connect();
  let stop: () => Promise<void>;
  try {
    stop = await pglite.listen(channel, onNotify);
  } finally {
    turn.release();
  }
  return async () => {
    const again = await pool.connect().catch(() => undefined);
    // A closed database has no listeners left to stop.
    if (!again) return;
    try {
      await stop();
    } finally {
      again.release();
    }
  };
}

async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  return dataDir === undefined ? PGlite.create() : PGlite.create(dataDir);
}
