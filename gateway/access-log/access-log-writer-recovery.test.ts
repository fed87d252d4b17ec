import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLogWriter, type AccessLogWriter, type AppendedEntry } from './access-log-writer.ts';
import { verifyAccessLog } from './verify-access-log.ts';
import { createPglitePool } from '../store/pglite-pool.ts';
import { migrateToLatest } from '../store/migrate.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { createScratchDatabase } from '../../test/support/test-stores.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

/** Appends in a loop until stopped, recording what resolved and what rejected. */
function keepAppending(writer: AccessLogWriter) {
  const committed: AppendedEntry[] = [];
  const refused: unknown[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => writer.append(sampleEntry())));
      for (const result of results) (result.status === 'fulfilled' ? committed.push(result.value) : refused.push(result.reason));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    committed,
    refused,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Every committed append is in the table at its seq, and the chain has no gap. */
async function expectChainWhole(db: Kysely<StoreSchema>, chainId: string, committed: readonly AppendedEntry[]) {
  const rows = await db.selectFrom('access_log').select(['id', 'seq']).where('chain_id', '=', chainId).orderBy('seq').execute();
  expect(rows.map((row) => Number(row.seq))).toEqual(rows.map((_, index) => index + 1));
  const stored = new Map(rows.map((row) => [row.id, Number(row.seq)]));
  for (const entry of committed) expect(stored.get(entry.id)).toBe(entry.seq);
  const verification = await verifyAccessLog(db);
  expect(verification.problems).toEqual([]);
}

describe.skipIf(!process.env.DATABASE_URL)('access log writer when PostgreSQL goes away', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let db: Kysely<StoreSchema>;
  let admin: pg.Client;
  let name: string;
  beforeAll(async () => {
    scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'isthmus_log_outage');
    name = new URL(scratch.url).pathname.slice(1);
    // A pool of our own rather than openStore's: when the server kills a
    // connection, pg emits 'error' on the pool (idle clients) or on the client
    // itself (checked-out clients, between two statements), and openStore's
    // pool listens for neither yet — an unhandled 'error' event ends the process.
    const pool = new pg.Pool({ connectionString: scratch.url, max: 4, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
    await migrateToLatest(db);
    admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`alter database ${name} allow_connections true`).catch(() => undefined);
    await admin?.end();
    await db?.destroy();
    await scratch?.drop();
  });

  it('rejects appends with ACCESS_LOG_UNAVAILABLE while the database refuses connections, then recovers by itself', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db, chainId, signer: await createTestSigner(), checkpointEvery: 25, appendTimeoutMs: 3_000 });
    await writer.ready();
    const load = keepAppending(writer);
    await expect.poll(() => load.committed.length, { timeout: 10_000 }).toBeGreaterThan(50);

    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
    const refusedBefore = load.refused.length;
    await expect.poll(() => load.refused.length - refusedBefore, { timeout: 10_000 }).toBeGreaterThan(20);
    await expect(writer.append(sampleEntry())).rejects.toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE', message: expect.not.stringMatching(/postgres|select|insert/i) });

    await admin.query(`alter database ${name} allow_connections true`);
    const committedBefore = load.committed.length;
    await expect.poll(() => load.committed.length - committedBefore, { timeout: 15_000 }).toBeGreaterThan(50);
    await load.stop();
    await writer.close();

    expect(load.refused.every((error) => (error as { code?: string }).code === 'ACCESS_LOG_UNAVAILABLE')).toBe(true);
    await expectChainWhole(db, chainId, load.committed);
  });
});

describe('access log writer when the embedded database is closed', () => {
  let dir: string;
  let pglite: PGlite;
  let pool: PostgresPool;
  let db: Kysely<StoreSchema>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-log-outage-'));
    pglite = await PGlite.create(dir);
    pool = createPglitePool(pglite);
    // The writer keeps its kysely instance; the database behind it goes away and comes back.
    db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool: { connect: () => pool.connect(), end: async () => {} } }) });
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects appends with ACCESS_LOG_UNAVAILABLE while it is closed, then recovers once it is open again', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db, chainId, signer: await createTestSigner(), checkpointEvery: 5 });
    const before = await Promise.all(Array.from({ length: 12 }, () => writer.append(sampleEntry())));

    await pglite.close();
    const during = await Promise.allSettled(Array.from({ length: 12 }, () => writer.append(sampleEntry())));
    expect(during.every((result) => result.status === 'rejected' && (result.reason as { code?: string }).code === 'ACCESS_LOG_UNAVAILABLE')).toBe(true);

    pglite = await PGlite.create(dir);
    pool = createPglitePool(pglite);
    const after = await Promise.all(Array.from({ length: 12 }, () => writer.append(sampleEntry())));
    expect(after.map((entry) => entry.seq)).toEqual(Array.from({ length: 12 }, (_, index) => 13 + index));
    await writer.close();
    await expectChainWhole(db, chainId, [...before, ...after]);
  });
});
