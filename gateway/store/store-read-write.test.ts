import { createServer } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.ts';
import { StoreError } from './store-error.ts';
import { createScratchDatabase } from '../../test/support/test-stores.ts';
import { waitFor } from '../../test/support/wait-for.ts';

/**
 * A multi-host `DATABASE_URL` on a real PostgreSQL server (`DATABASE_URL`):
 * a host that refuses connections comes first, the server second. A
 * database set `default_transaction_read_only` stands in for a standby
 * (its sessions are read-only, as a hot standby's are), so the choice of
 * `read-write` is seen without a replica; the replicated case is
 * `test/database-failover.test.ts`.
 */

const serverUrl = process.env.DATABASE_URL;

/** A loopback port nobody listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.skipIf(!serverUrl)('a multi-host DATABASE_URL (postgres)', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let admin: pg.Client;
  let multiHost: (target: string) => string;
  const stores: Store[] = [];
  const open = async (url: string) => {
    const store = await openStore({ kind: 'postgres', url, poolSize: 2 });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase(serverUrl!, 'isthmus_read_write');
    admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const server = new URL(scratch.url);
    const refused = await closedPort();
    const userinfo = server.username ? `${server.username}${server.password ? `:${server.password}` : ''}@` : '';
    multiHost = (target) => `postgres://${userinfo}127.0.0.1:${refused},${server.hostname}:${server.port || 5432}${server.pathname}?target_session_attrs=${target}`;
  });
  afterAll(async () => {
    await Promise.allSettled(stores.map((store) => store.close()));
    await admin?.end();
    await scratch?.drop();
  });

  it('skips a host that refuses connections and migrates, reads and listens on the next', async () => {
    const store = await open(multiHost('read-write'));
    expect((await store.migrate()).length).toBeGreaterThan(0);
    await store.ping();
    const notified: string[] = [];
    const unlisten = await store.listen('isthmus_read_write_test', (payload) => notified.push(payload));
    // Sent through the store's pool, heard on its LISTEN connection: both found the server past the refusing host.
    await sql`select pg_notify('isthmus_read_write_test', 'hello')`.execute(store.db);
    await waitFor(() => notified.includes('hello'), { what: 'the notification through the multi-host store' });
    await unlisten();
  });

  it('refuses a read-only server with STORE_UNAVAILABLE, naming no URL, and takes it as soon as it accepts writes', async () => {
    const name = new URL(scratch.url).pathname.slice(1);
    await admin.query(`alter database ${pg.escapeIdentifier(name)} set default_transaction_read_only = on`);
    const store = await open(multiHost('read-write'));
    let refusal: unknown;
    try {
      await store.ping();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(StoreError);
    expect((refusal as StoreError).code).toBe('STORE_UNAVAILABLE');
    const cause = (refusal as StoreError).cause as StoreError;
    expect(cause.message).toBe('no server of the 2 in the database URL accepts writes');
    expect(cause.message).not.toMatch(/127\.0\.0\.1|postgres:\/\//);
    await expect(store.listen('isthmus_read_write_test', () => {})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

    // `primary` asks only whether the server is in recovery: this one is not.
    await (await open(multiHost('primary'))).ping();

    await admin.query(`alter database ${pg.escapeIdentifier(name)} set default_transaction_read_only = off`);
    // The same store, not reopened: the next connection it opens is checked again.
    await store.ping();
    const row = await store.db.selectFrom('gateway_instances').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(row.n)).toBeGreaterThanOrEqual(0);
  });
});
