import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../gateway/store/store.ts';

/** A store a test suite runs against, created fresh for that suite. */
export interface StoreTarget {
  readonly name: 'pglite' | 'postgres';
  /** Opens a new, empty, migrated store; `close()` on it also drops a PostgreSQL database. */
  open(): Promise<Store>;
}

/**
 * The stores every store-touching suite runs on: embedded PGlite always, and
 * the PostgreSQL server of `DATABASE_URL` when it is set (as in CI).
 */
export function storeTargets(): readonly StoreTarget[] {
  const targets: StoreTarget[] = [{ name: 'pglite', open: openMigratedPglite }];
  const url = process.env.DATABASE_URL;
  if (url) targets.push({ name: 'postgres', open: () => openMigratedPostgres(url) });
  return targets;
}

async function openMigratedPglite(): Promise<Store> {
  const store = await openStore({ kind: 'pglite' });
  await store.migrate();
  return store;
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
