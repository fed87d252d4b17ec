import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type Store } from './store.ts';
import { createScratchDatabase } from '../../test/support/test-stores.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { waitFor } from '../../test/support/wait-for.ts';

describeEachStore('store.listen on $name', (target) => {
  let store: Store;
  beforeAll(async () => {
    store = await target.open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('hears notifications on its channel until unlistened', async () => {
    const heard: string[] = [];
    const unlisten = await store.listen('isthmus_listen_test', (payload) => heard.push(payload));
    await sql`select pg_notify('isthmus_listen_test', 'one')`.execute(store.db);
    await sql`select pg_notify('isthmus_other_channel', 'not for us')`.execute(store.db);
    await waitFor(() => heard.length === 1, { what: 'the notification on our channel is heard' });
    await unlisten();
    await sql`select pg_notify('isthmus_listen_test', 'two')`.execute(store.db);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual(['one']);
  });

  it('is not undone by a transaction that rolls back around it', async () => {
    const heard: string[] = [];
    // The transaction holds the (single, on PGlite) connection while listen is asked for; the LISTEN must not join it.
    let release!: () => void;
    let begun!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (begun = resolve));
    const transaction = store.db
      .transaction()
      .execute(async (trx) => {
        await sql`select 1`.execute(trx);
        begun();
        await held;
        throw new Error('roll back');
      })
      .catch(() => {});
    await started;
    const listening = store.listen('isthmus_listen_rollback', (payload) => heard.push(payload));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await transaction;
    const unlisten = await listening;
    try {
      await sql`select pg_notify('isthmus_listen_rollback', 'after')`.execute(store.db);
      await waitFor(() => heard.includes('after'), { what: 'the notification after the rollback is heard' });
    } finally {
      await unlisten();
    }
  });

  it('refuses a channel name that is not a plain identifier', async () => {
    await expect(store.listen('bad; drop table x', () => {})).rejects.toThrow(/plain channel name/);
  });
});

describe.runIf(process.env.DATABASE_URL)('store.listen on PostgreSQL across processes', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let writer: Store;
  let reader: Store;
  beforeAll(async () => {
    scratch = await createScratchDatabase(process.env.DATABASE_URL!);
    writer = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
    reader = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await scratch?.drop();
  });

  it('hears another pool’s notification, and listens again after its connection is cut', async () => {
    const heard: string[] = [];
    const unlisten = await reader.listen('isthmus_listen_cut', (payload) => heard.push(payload));
    try {
      await sql`select pg_notify('isthmus_listen_cut', 'before')`.execute(writer.db);
      await waitFor(() => heard.includes('before'), { what: 'the other pool\'s notification is heard' });

      const killed = await sql<{ pid: number }>`
        select pg_terminate_backend(pid) as pid from pg_stat_activity
        where datname = current_database() and query ilike 'listen isthmus_listen_cut%'`.execute(writer.db);
      expect(killed.rows).toHaveLength(1);

      // Keep notifying until the re-established LISTEN hears one (it reconnects after about a second).
      await waitFor(
        async () => {
          await sql`select pg_notify('isthmus_listen_cut', 'after')`.execute(writer.db);
          return heard.includes('after');
        },
        { what: 'the re-established LISTEN hears a notification', intervalMs: 100 },
      );
    } finally {
      await unlisten();
    }
  });
});
