import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogWriter, type AppendedEntry } from './access-log-writer.ts';
import { verifyAccessLog, type AccessLogVerification } from './verify-access-log.ts';
import { hashAccessLogRecord, recordFromRow } from './access-log-record.ts';
import { signCheckpoint, type CheckpointSigner } from './access-log-checkpoint.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

describeEachStore('verifyAccessLog on $name', (target) => {
  let store: Store;
  let signer: CheckpointSigner;
  beforeAll(async () => {
    store = await target.open();
    signer = await createTestSigner();
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Appends `count` entries in rounds of `checkpointEvery`, so checkpoints fall on multiples of it. */
  async function writeChain(options: { count: number; checkpointEvery?: number; close?: boolean; registerInstance?: boolean }) {
    const chainId = `gw-${randomUUID()}`;
    if (options.registerInstance) {
      await store.db.insertInto('gateway_instances').values({ id: chainId, hostname: 'test', version: '0', started_at: new Date(), last_seen_at: new Date() }).execute();
    }
    const checkpointEvery = options.checkpointEvery ?? 10;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, checkpointEvery, maxBatch: checkpointEvery });
    const appended: AppendedEntry[] = [];
    for (let written = 0; written < options.count; written += checkpointEvery) {
      const round = Math.min(checkpointEvery, options.count - written);
      appended.push(...(await Promise.all(Array.from({ length: round }, () => writer.append(sampleEntry())))));
    }
    if (options.close ?? true) await writer.close();
    return { chainId, appended, writer };
  }

  /** Tampering as the database superuser would: with the append-only triggers switched off. */
  async function tamper(...statements: RawBuilder<unknown>[]) {
    await store.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      for (const statement of statements) await statement.execute(trx);
    });
  }

  const problemOf = (result: AccessLogVerification, chainId: string) => result.problems.find((problem) => problem.chainId === chainId);

  it('passes an intact log written by two writers at once, whatever the page size', async () => {
    const writers = [`gw-${randomUUID()}`, `gw-${randomUUID()}`].map((chainId) => createAccessLogWriter({ db: store.db, chainId, signer, checkpointEvery: 50 }));
    await Promise.all(Array.from({ length: 240 }, (_, index) => writers[index % 2]!.append(sampleEntry())));
    await Promise.all(writers.map((writer) => writer.close()));

    for (const pageSize of [1_000, 7]) {
      const result = await verifyAccessLog(store.db, { pageSize });
      for (const writer of writers) expect(problemOf(result, writer.chainId)).toBeUndefined();
      expect(result.entries).toBeGreaterThanOrEqual(240);
      // A checkpoint once 50 entries have piled up (at the end of the batch that crosses it), and a final one each.
      expect(result.checkpoints).toBeGreaterThanOrEqual(4);
      expect(result.keySource).toBe('store');
    }
  });

  it('finds an entry edited in place', async () => {
    const { chainId, appended } = await writeChain({ count: 30 });
    await tamper(sql`update access_log set purpose = 'something else' where chain_id = ${chainId} and seq = 15`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'EDITED', seq: 15, entryId: appended[14]!.id });
  });

  it('finds an entry edited with its hash recomputed, by its successor’s link', async () => {
    const { chainId, appended } = await writeChain({ count: 30 });
    const row = await store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).where('seq', '=', 15).executeTakeFirstOrThrow();
    const record = recordFromRow(row);
    const forged = hashAccessLogRecord({ ...record, entry: { ...record.entry, consumerBureau: 'housing-fund' } });
    await tamper(sql`update access_log set consumer_bureau = 'housing-fund', hash = ${forged} where chain_id = ${chainId} and seq = 15`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'EDITED', seq: 15, entryId: appended[14]!.id });
  });

  it('catches a consistent rewrite of the chain from some entry on at the next signed checkpoint', async () => {
    const { chainId, appended } = await writeChain({ count: 30 });
    const rows = await store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).where('seq', '>=', 5).orderBy('seq').execute();
    let prevHash = rows[0]!.prev_hash;
    const statements: RawBuilder<unknown>[] = [];
    for (const row of rows) {
      const record = recordFromRow(row);
      const hash = hashAccessLogRecord({ ...record, prevHash, entry: { ...record.entry, purpose: 'rewritten' } });
      statements.push(sql`update access_log set purpose = 'rewritten', prev_hash = ${prevHash}, hash = ${hash} where id = ${row.id}`);
      prevHash = hash;
    }
    await tamper(...statements);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'EDITED', seq: 10, entryId: appended[9]!.id });
  });

  it('finds a deleted entry, naming the entry after the gap', async () => {
    const { chainId, appended } = await writeChain({ count: 30 });
    await tamper(sql`delete from access_log where chain_id = ${chainId} and seq = 12`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'MISSING', seq: 12, entryId: appended[12]!.id });
  });

  it('finds a chain whose tail was cut below a signed checkpoint', async () => {
    const { chainId, appended } = await writeChain({ count: 30, close: false });
    await tamper(sql`delete from access_log where chain_id = ${chainId} and seq >= 25`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'CHAIN_CUT', seq: 25, entryId: appended[23]!.id });
  });

  it('finds a stopped instance’s chain cut together with its final checkpoint', async () => {
    const { chainId, appended } = await writeChain({ count: 25, registerInstance: true });
    await tamper(sql`delete from access_log where chain_id = ${chainId} and seq > 20`, sql`delete from access_log_checkpoints where chain_id = ${chainId} and final`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'CHAIN_CUT', seq: 21, entryId: appended[19]!.id });
  });

  it('accepts a crashed writer’s chain that ends without a final checkpoint', async () => {
    const { chainId } = await writeChain({ count: 25, registerInstance: true, close: false });
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toBeUndefined();
  });

  it('finds a checkpoint signed by another key', async () => {
    const { chainId, appended } = await writeChain({ count: 30 });
    const impostor = await createTestSigner(signer.kid);
    const checkpoint = await store.db.selectFrom('access_log_checkpoints').selectAll().where('chain_id', '=', chainId).where('seq', '=', 10).executeTakeFirstOrThrow();
    const jws = await signCheckpoint(impostor, { chainId, seq: 10, hash: checkpoint.hash, signedAt: checkpoint.signed_at, final: false });
    await tamper(sql`update access_log_checkpoints set jws = ${jws} where chain_id = ${chainId} and seq = 10`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 10, entryId: appended[9]!.id });
  });

  it('checks signatures against trusted keys when given them', async () => {
    const { chainId } = await writeChain({ count: 12 });
    const trusted = await verifyAccessLog(store.db, { trustedKeys: [signer.publicJwk] });
    expect(problemOf(trusted, chainId)).toBeUndefined();
    expect(trusted.keySource).toBe('trusted');
    const other = await createTestSigner(signer.kid);
    expect(problemOf(await verifyAccessLog(store.db, { trustedKeys: [other.publicJwk] }), chainId)).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 10 });
  });

  it('says which is wrong: a key the trusted set lacks, a key that does not verify, a statement that differs from its row', async () => {
    const { chainId } = await writeChain({ count: 12 });
    const stranger = await createTestSigner();
    const unknown = problemOf(await verifyAccessLog(store.db, { trustedKeys: [stranger.publicJwk] }), chainId);
    expect(unknown).toMatchObject({ kind: 'UNKNOWN_KEY', seq: 10 });
    expect(unknown!.detail).toBe(`checkpoint at seq 10 is signed with key ${signer.kid}, which the trusted key set does not have`);
    const impostor = await createTestSigner(signer.kid);
    const forged = problemOf(await verifyAccessLog(store.db, { trustedKeys: [impostor.publicJwk] }), chainId);
    expect(forged).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 10, detail: `checkpoint at seq 10: its signature does not verify with key ${signer.kid}` });
    await tamper(sql`update access_log_checkpoints set signed_at = signed_at + interval '1 second' where chain_id = ${chainId} and seq = 10`);
    const edited = problemOf(await verifyAccessLog(store.db), chainId);
    expect(edited).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 10, detail: 'checkpoint at seq 10: the signed statement differs from the stored checkpoint' });
  });

  it('finds a subject removed from the "who read me" index', async () => {
    const { chainId, appended } = await writeChain({ count: 8 });
    await tamper(sql`delete from access_log_subjects where entry_id = ${appended[3]!.id}`);
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toMatchObject({ kind: 'EDITED', seq: 4, entryId: appended[3]!.id });
  });

  it('verifies a consistent snapshot while a writer keeps appending', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, checkpointEvery: 20 });
    let writing = true;
    const load = (async () => {
      while (writing) await Promise.all(Array.from({ length: 15 }, () => writer.append(sampleEntry())));
    })();
    try {
      for (let round = 0; round < 4; round++) {
        const result = await verifyAccessLog(store.db, { pageSize: 25 });
        expect(problemOf(result, chainId)).toBeUndefined();
      }
    } finally {
      writing = false;
      await load;
      await writer.close();
    }
    expect(problemOf(await verifyAccessLog(store.db), chainId)).toBeUndefined();
  });
});
