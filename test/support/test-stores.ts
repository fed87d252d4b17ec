import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../gateway/store/store.ts';

/**
 * A store a test suite runs against. Every store suite runs on both: PGlite
 * here and now, PostgreSQL on the server of `DATABASE_URL`. Without
 * `DATABASE_URL` the PostgreSQL target is still declared, as unavailable,
 * so that its cases show in the run's summary as skipped instead of
 * vanishing (`describeEachStore`); with `CI` set and no `DATABASE_URL` the
 * run refuses to start (`ci-database-check.ts`).
 */
export interface StoreTarget {
  readonly name: 'pglite' | 'postgres';
  /** False for PostgreSQL when `DATABASE_URL` is not set: suites on it are declared skipped. */
  readonly available: boolean;
  /** The PostgreSQL server scratch databases are made on (`DATABASE_URL`); undefined for PGlite. */
  readonly serverUrl: string | undefined;
  /** Opens a new, empty, migrated store in this process; `close()` on it also drops a PostgreSQL database. */
  open(): Promise<Store>;
  /**
   * A new, empty database of this kind for a gateway (started in this
   * process or spawned) or an `isthmus` command to open by configuration.
   * PGlite: in memory, or with `onDisk` in a fresh temporary data folder.
   */
  gatewayDatabase(options?: GatewayDatabaseOptions): Promise<GatewayDatabase>;
}

/** Options of {@link StoreTarget.gatewayDatabase}. */
export interface GatewayDatabaseOptions {
  /** Prefix of a PostgreSQL scratch database's name, to tell whose it is on the server. */
  readonly prefix?: string;
  /** PGlite: keep the files in a data folder (to reopen after the gateway has gone) instead of in memory. */
  readonly onDisk?: boolean;
}

/** A database made for one gateway (or a few sharing it), and the configuration that points a gateway at it. */
export interface GatewayDatabase {
  /**
   * Gateway configuration for this database. It always sets both
   * `DATABASE_URL` and `ISTHMUS_DATA_DIR`, so a PGlite gateway spawned from a
   * test process that has `DATABASE_URL` set does not inherit it.
   */
  readonly env: Readonly<Record<'DATABASE_URL' | 'ISTHMUS_DATA_DIR', string>>;
  /** PostgreSQL: the scratch database's connection string. */
  readonly url: string | undefined;
  /** PGlite with `onDisk`: the data folder. */
  readonly dataDir: string | undefined;
  /** Removes the database (drops it, or deletes the folder). */
  drop(): Promise<void>;
}

/**
 * Both store targets, PGlite first. PostgreSQL is available when
 * `DATABASE_URL` names a server on which the tests may create databases.
 */
export function storeTargets(): readonly StoreTarget[] {
  const serverUrl = process.env.DATABASE_URL || undefined;
  return [
    { name: 'pglite', available: true, serverUrl: undefined, open: openMigratedPglite, gatewayDatabase: pgliteGatewayDatabase },
    {
      name: 'postgres',
      available: serverUrl !== undefined,
      serverUrl,
      open: () => openMigratedPostgres(required(serverUrl)),
      gatewayDatabase: async (options = {}) => {
        const scratch = await createScratchDatabase(required(serverUrl), options.prefix);
        return { env: { DATABASE_URL: scratch.url, ISTHMUS_DATA_DIR: ':memory:' }, url: scratch.url, dataDir: undefined, drop: scratch.drop };
      },
    },
  ];
}

/** The store target of a suite that runs on one store only: PostgreSQL when `DATABASE_URL` is set (as in CI), else PGlite. */
export function defaultStoreTarget(): StoreTarget {
  const [pglite, postgres] = storeTargets();
  return postgres!.available ? postgres! : pglite!;
}

function required(serverUrl: string | undefined): string {
  // Only reached when a skipped suite's hooks run anyway, which vitest does not do.
  if (!serverUrl) throw new Error('the PostgreSQL store target needs DATABASE_URL');
  return serverUrl;
}

async function openMigratedPglite(): Promise<Store> {
  const store = await openStore({ kind: 'pglite' });
  await store.migrate();
  return store;
}

async function pgliteGatewayDatabase(options: GatewayDatabaseOptions = {}): Promise<GatewayDatabase> {
  if (!options.onDisk) return { env: { DATABASE_URL: '', ISTHMUS_DATA_DIR: ':memory:' }, url: undefined, dataDir: undefined, drop: async () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), `${options.prefix ?? 'isthmus_test'}-`));
  return { env: { DATABASE_URL: '', ISTHMUS_DATA_DIR: dataDir }, url: undefined, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Creates a throw-away database on the server of `serverUrl` and returns its connection string and a drop function. */
export async function createScratchDatabase(serverUrl: string, prefix = 'isthmus_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function openMigratedPostgres(serverUrl: string): Promise<Store> {
  const scratch = await createScratchDatabase(serverUrl);
  const store = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 4 });
  await store.migrate();
  return {
    ...store,
    async close() {
      await store.close();
      await scratch.drop();
    },
  };
}
