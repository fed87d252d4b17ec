import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.ts';
import { acquireStoreLock, STORE_LOCK_FILE } from './store-lock.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';

describeEachStore('store on $name', (target) => {
  let store: Store;
  beforeAll(async () => {
    store = await target.open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('has applied every migration', async () => {
    expect(await store.pending()).toEqual([]);
    expect(await store.migrate()).toEqual([]);
  });

  it('reads back what it writes, with timestamps as dates', async () => {
    await store.db
      .insertInto('gateway_instances')
      .values({ id: 'gw-test-1', hostname: 'host-a', version: '0.1.0', started_at: new Date('2026-01-02T03:04:05Z'), last_seen_at: new Date() })
      .execute();
    const row = await store.db.selectFrom('gateway_instances').selectAll().where('id', '=', 'gw-test-1').executeTakeFirstOrThrow();
    expect(row.hostname).toBe('host-a');
    expect(row.started_at).toBeInstanceOf(Date);
    expect(row.started_at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('rolls a failed transaction back whole', async () => {
    await expect(
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto('gateway_instances').values({ id: 'gw-test-2', hostname: 'h', version: 'v', started_at: new Date(), last_seen_at: new Date() }).execute();
        await trx.insertInto('gateway_instances').values({ id: 'gw-test-2', hostname: 'h', version: 'v', started_at: new Date(), last_seen_at: new Date() }).execute();
      }),
    ).rejects.toThrow();
    const rows = await store.db.selectFrom('gateway_instances').select('id').where('id', '=', 'gw-test-2').execute();
    expect(rows).toEqual([]);
  });

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('store lifecycle', () => {
  it('reports pending migrations on a new database', async () => {
    const store = await openStore({ kind: 'pglite' });
    try {
      expect(await store.pending()).toEqual(Object.keys(MIGRATIONS));
    } finally {
      await store.close();
    }
  });

  it('fails a ping with STORE_UNAVAILABLE when PostgreSQL cannot be reached', async () => {
    const store = await openStore({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      await expect(store.ping(500)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: 'the gateway database is unreachable' });
    } finally {
      await store.close();
    }
  });

  it('refuses an embedded folder another opener holds before PGlite touches it, and leaves the holder\'s files alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-store-owner-'));
    try {
      const empty = join(dir, 'empty');
      // A folder locked by someone else: the refused opener creates no database files in it.
      mkdirSync(empty);
      const lock = await acquireStoreLock(empty);
      await expect(openStore({ kind: 'pglite', dataDir: empty })).rejects.toMatchObject({ code: 'STORE_LOCKED', holder: { pid: process.pid } });
      expect(readdirSync(empty)).toEqual([STORE_LOCK_FILE]);
      await lock.release();

      // A store in use: PGlite's postmaster.pid (which names the same fake pid in every process, so a second
      // PGlite would overwrite it and remove it on close) stays as the holder wrote it.
      const dataDir = join(dir, 'data');
      const first = await openStore({ kind: 'pglite', dataDir });
      const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
      await first.advertise('http://127.0.0.1:4999');
      await expect(openStore({ kind: 'pglite', dataDir })).rejects.toThrow(`the embedded store in ${dataDir} is in use by process ${process.pid}`);
      expect(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8')).toBe(postmaster);
      await first.migrate();
      await first.close();
      expect(existsSync(join(dataDir, STORE_LOCK_FILE))).toBe(false);
      // Closed, the folder is free again.
      const again = await openStore({ kind: 'pglite', dataDir });
      expect(await again.pending()).toEqual([]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
