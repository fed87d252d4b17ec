import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createMerkleTree,
  generateNoteKey,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  verifyCheckpoint,
  verifyInclusion,
  verifySuccession,
  type NoteSigner,
} from '../../packages/isthmus-log-proofs/src/index.ts';
import { createAccessLogWriter } from './access-log-writer.ts';
import { leafHashOf, latestCosignedCheckpoint, proveConsistency, proveInclusion } from './log-tree-store.ts';
import { originOf } from './log-tree-checkpoint.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';

const LOG_NAME = 'isthmus.test-city/access-log';

describeEachStore('access log tree on $name', (target) => {
  let store: Store;
  let signer: NoteSigner;
  beforeAll(async () => {
    store = await target.open();
    signer = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
  });
  afterAll(async () => {
    await store?.close();
  });

  const leavesOf = async (chainId: string) =>
    (await store.db.selectFrom('access_log').select('hash').where('chain_id', '=', chainId).orderBy('seq').execute()).map((row) => leafHashOf(row.hash));
  const checkpointsOf = (chainId: string) => store.db.selectFrom('access_log_tree_checkpoints').selectAll().where('chain_id', '=', chainId).orderBy('number').execute();
  const policy = (chainId: string) => ({ origin: originOf(LOG_NAME, chainId), logKeys: [parseVerifierKey(signer.verifierKey)] });

  it('signs checkpoint #0 at ready, then roots equal to the reference tree, each naming the one before, and final on close', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 7, maxBatch: 5, commitDelayMs: 0 });
    await writer.ready();
    expect((await checkpointsOf(chainId)).map((row) => [row.number, Number(row.size)])).toEqual([[0, 0]]);
    for (let round = 0; round < 9; round++) await Promise.all(Array.from({ length: 5 }, () => writer.append(sampleEntry())));
    await writer.close();

    const reference = createMerkleTree(await leavesOf(chainId));
    const rows = await checkpointsOf(chainId);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.map((row) => row.number)).toEqual(rows.map((_, index) => index));
    expect(rows.map((row) => row.final)).toEqual(rows.map((_, index) => index === rows.length - 1));
    expect(Number(rows.at(-1)!.size)).toBe(45);
    let earlier: ReturnType<typeof parseCheckpoint> | undefined;
    for (const row of rows) {
      const checkpoint = verifyCheckpoint(row.note, policy(chainId));
      expect(checkpoint.size).toBe(Number(row.size));
      expect(Buffer.from(checkpoint.rootHash).toString('hex')).toBe(row.root_hash);
      expect(Buffer.from(reference.rootHash(checkpoint.size))).toEqual(Buffer.from(checkpoint.rootHash));
      expect(checkpoint.extensions[0]).toMatch(/^time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(checkpoint.extensions.includes('final')).toBe(row.final);
      const proof = earlier === undefined ? [] : await proveConsistency(store.db, chainId, earlier.size, checkpoint.size);
      verifySuccession(earlier, checkpoint, proof);
      earlier = checkpoint;
    }
    expect(parseNote(rows[0]!.note).text).not.toMatch(/previous/);
  });

  it('stores the hash of every complete subtree at levels 4 and 8, equal to the reference', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME });
    await Promise.all(Array.from({ length: 530 }, () => writer.append(sampleEntry())));
    await writer.close();
    const leaves = await leavesOf(chainId);
    const nodes = await store.db.selectFrom('access_log_tree_nodes').selectAll().where('chain_id', '=', chainId).orderBy('level').orderBy('idx').execute();
    expect(nodes.map((node) => [node.level, Number(node.idx)])).toEqual([...Array.from({ length: 33 }, (_, k) => [4, k]), [8, 0], [8, 1]]);
    for (const node of nodes) {
      const width = 2 ** node.level;
      const start = Number(node.idx) * width;
      expect(node.hash).toBe(Buffer.from(createMerkleTree(leaves.slice(start, start + width)).rootHash()).toString('hex'));
    }
  });

  it('proves inclusion and consistency from the database, verified against the signed checkpoints', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 97 });
    await Promise.all(Array.from({ length: 300 }, () => writer.append(sampleEntry())));
    await writer.close();
    const leaves = await leavesOf(chainId);
    const reference = createMerkleTree(leaves);
    const checkpoints = (await checkpointsOf(chainId)).map((row) => verifyCheckpoint(row.note, policy(chainId)));
    for (const checkpoint of checkpoints.filter((c) => c.size > 0)) {
      for (const index of [0, 1, checkpoint.size >> 1, checkpoint.size - 2, checkpoint.size - 1].filter((i) => i >= 0)) {
        const proof = await proveInclusion(store.db, chainId, index, checkpoint.size);
        expect(proof).toEqual(reference.inclusionProof(index, checkpoint.size));
        verifyInclusion({ index, size: checkpoint.size, leafHash: leaves[index]!, rootHash: checkpoint.rootHash, proof });
      }
    }
    for (const [first, second] of [[1, 300], [16, 17], [17, 300], [255, 256], [256, 299], [100, 100], [0, 5]] as const) {
      expect(await proveConsistency(store.db, chainId, first, second)).toEqual(reference.consistencyProof(first, second));
    }
  });

  it('rebuilds its frontier from storage after a failed batch, and a new writer continues the same tree', async () => {
    const chainId = `gw-${randomUUID()}`;
    const poison = `poison-${randomUUID().slice(0, 8)}`;
    // A batch holding this subject fails inside the append statement: everything in it is rolled back.
    await sql.raw(`create function refuse_${poison.replace('-', '_')}() returns trigger language plpgsql as $$ begin
        if new.subject_id = '${poison}' then raise exception 'refused for the test'; end if; return new; end $$`).execute(store.db);
    await sql.raw(`create trigger refuse_${poison.replace('-', '_')} before insert on access_log_subjects for each row execute function refuse_${poison.replace('-', '_')}()`).execute(store.db);
    try {
      const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 10, commitDelayMs: 0 });
      await Promise.all(Array.from({ length: 37 }, () => writer.append(sampleEntry())));
      await expect(writer.append(sampleEntry({ subjects: [{ kind: 'person', id: poison }] }))).rejects.toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE' });
      expect(writer.status().committedSeq).toBeUndefined();
      await Promise.all(Array.from({ length: 20 }, () => writer.append(sampleEntry())));
      await writer.flush();
      const next = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 10 });
      expect((await next.append(sampleEntry())).seq).toBe(58);
      await next.close();
    } finally {
      await sql.raw(`drop trigger refuse_${poison.replace('-', '_')} on access_log_subjects`).execute(store.db);
    }
    const leaves = await leavesOf(chainId);
    expect(leaves).toHaveLength(58);
    const reference = createMerkleTree(leaves);
    const rows = await checkpointsOf(chainId);
    let earlier: ReturnType<typeof parseCheckpoint> | undefined;
    for (const row of rows) {
      const checkpoint = verifyCheckpoint(row.note, policy(chainId));
      expect(Buffer.from(checkpoint.rootHash)).toEqual(Buffer.from(reference.rootHash(checkpoint.size)));
      verifySuccession(earlier, checkpoint, earlier ? await proveConsistency(store.db, chainId, earlier.size, checkpoint.size) : []);
      earlier = checkpoint;
    }
    // The second writer continued the same chain: one final, at the end.
    expect(rows.filter((row) => row.final).map((row) => Number(row.size))).toEqual([58]);
  });

  it('finds the latest checkpoint a quorum of witnesses cosigned, with their lines appended', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 4, commitDelayMs: 0 });
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 4 }, () => writer.append(sampleEntry())));
    await writer.flush();
    expect(await latestCosignedCheckpoint(store.db, chainId, 1)).toBeUndefined();
    const cosign = (number: number, witness: string) =>
      store.db.insertInto('access_log_cosignatures').values({ chain_id: chainId, number, witness, signature: `— ${witness} AAAAAAAA\n`, cosigned_at: new Date() }).execute();
    await cosign(1, 'a');
    await cosign(2, 'a');
    await cosign(2, 'b');
    await cosign(3, 'b');
    expect(await latestCosignedCheckpoint(store.db, chainId, 1)).toMatchObject({ number: 3, size: 12, witnesses: ['b'] });
    const two = await latestCosignedCheckpoint(store.db, chainId, 2);
    expect(two).toMatchObject({ number: 2, size: 8, witnesses: ['a', 'b'] });
    expect(two!.note.endsWith('— a AAAAAAAA\n— b AAAAAAAA\n')).toBe(true);
    expect(parseNote(two!.note).signatures.map((s) => s.name)).toEqual([LOG_NAME, 'a', 'b']);
    expect(await latestCosignedCheckpoint(store.db, chainId, 1, 13)).toBeUndefined();
    await writer.close();
  });
});
