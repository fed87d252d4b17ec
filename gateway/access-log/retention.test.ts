import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detachExpiredPartitions } from './retention.ts';
import { createAccessLogWriter } from './access-log-writer.ts';
import { verifyAccessLog } from './verify-access-log.ts';
import { monthOf } from './ensure-partitions.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

const DAY = 86_400_000;

describe('ISTHMUS_LOG_RETENTION_DAYS', () => {
  it('defaults to 180 days and accepts more', () => {
    expect(loadConfig({}).logRetentionDays).toBe(180);
    expect(loadConfig({ ISTHMUS_LOG_RETENTION_DAYS: '365' }).logRetentionDays).toBe(365);
  });

  it('refuses less than six months, with a config error naming the setting', () => {
    for (const days of ['179', '30', '0', 'half a year']) {
      let error: unknown;
      try {
        loadConfig({ ISTHMUS_LOG_RETENTION_DAYS: days });
      } catch (caught) {
        error = caught;
      }
      expect(error, days).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(/ISTHMUS_LOG_RETENTION_DAYS/);
    }
  });
});

describeEachStore('detachExpiredPartitions on $name', (target) => {
  let store: Store;
  const now = new Date();
  const old = new Date(now.getTime() - 400 * DAY);
  const lessOld = new Date(now.getTime() - 370 * DAY);
  const chainId = `gw-${randomUUID()}`;
  const partitionOf = (table: string, instant: Date) => `${table}_y${monthOf(instant).replace('-', 'm')}`;

  beforeAll(async () => {
    store = await target.open();
    // One chain that runs from 400 days ago to now, across partitions that retention will and will not take.
    let clock = old;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer: await createTestSigner(), checkpointEvery: 2, maxBatch: 2, now: () => clock });
    for (const [instant, count] of [[old, 3], [lessOld, 3], [now, 4]] as const) {
      clock = instant;
      for (let index = 0; index < count; index++) await writer.append(sampleEntry({ occurredAt: new Date(instant.getTime() + index * 1_000) }));
    }
    await writer.close();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('refuses a retention shorter than 180 days', async () => {
    await expect(detachExpiredPartitions(store.db, now, { retentionDays: 179 })).rejects.toMatchObject({ code: 'ACCESS_LOG_RETENTION_TOO_SHORT' });
  });

  it('detaches the months entirely older than the retention, keeps their rows, and the log still verifies', async () => {
    const detached = await detachExpiredPartitions(store.db, now);
    const names = detached.map((partition) => partition.partition);
    for (const table of ['access_log', 'access_log_subjects']) {
      expect(names).toContain(partitionOf(table, old));
      expect(names).toContain(partitionOf(table, lessOld));
      expect(names).not.toContain(partitionOf(table, now));
    }
    expect(detached.every((partition) => partition.upperBound.getTime() <= now.getTime() - 180 * DAY)).toBe(true);

    const remaining = await store.db.selectFrom('access_log').select('seq').where('chain_id', '=', chainId).orderBy('seq').execute();
    expect(remaining.map((row) => Number(row.seq))).toEqual([7, 8, 9, 10]);
    // Detached, not deleted: the rows are still in the database, outside the log.
    const kept = await sql<{ count: string | number }>`select count(*) as count from ${sql.id(partitionOf('access_log', old))} where chain_id = ${chainId}`.execute(store.db);
    expect(Number(kept.rows[0]!.count)).toBe(3);
    const recorded = await store.db.selectFrom('access_log_detachments').select(['max_seq', 'partition_name']).where('chain_id', '=', chainId).orderBy('max_seq').execute();
    expect(recorded.map((row) => [row.partition_name, Number(row.max_seq)])).toEqual([
      [partitionOf('access_log', old), 3],
      [partitionOf('access_log', lessOld), 6],
    ]);

    const verification = await verifyAccessLog(store.db);
    expect(verification.problems.filter((problem) => problem.chainId === chainId)).toEqual([]);
    // Nothing left to detach on a second run.
    expect(await detachExpiredPartitions(store.db, now)).toEqual([]);
  });

  it('still finds an entry deleted after the retention boundary, and a broken link across it', async () => {
    const tamper = (statement: ReturnType<typeof sql>) =>
      store.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await statement.execute(trx);
      });
    const problemOf = async () => (await verifyAccessLog(store.db)).problems.find((found) => found.chainId === chainId);
    await tamper(sql`delete from access_log where chain_id = ${chainId} and seq = 9`);
    expect(await problemOf()).toMatchObject({ kind: 'MISSING', seq: 9 });
    // Entry 7 must link to the hash retention recorded for entry 6.
    await tamper(sql`update access_log set prev_hash = ${'f'.repeat(64)} where chain_id = ${chainId} and seq = 7`);
    expect(await problemOf()).toMatchObject({ kind: 'EDITED', seq: 7 });
  });
});
