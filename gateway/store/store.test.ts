import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.ts';
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
});
