import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWitness, type RunningWitness } from '../../packages/isthmus-witness/src/index.ts';
import { createAccessLogWriter } from './access-log-writer.ts';
import { hashAccessLogRecord, recordFromRow } from './access-log-record.ts';
import { parseWitnessList } from './witness-config.ts';
import { verifyAccessLog } from './verify-access-log.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';
import { BATTERY_ORIGIN_PREFIX, createBatteryLog, createTamperFixture } from '../../test/support/tamper-fixture.ts';
import { createWitnessPublisher } from '../../test/support/witness-publisher.ts';

/**
 * verifyAccessLog beyond the tamper battery: without witnesses (only the
 * database's own signed checkpoints, and said so), without pinned keys, a
 * witness away, a quorum of two, legacy chains, paging and a snapshot taken
 * while a writer appends. Witnesses run in this process here (real HTTP);
 * the battery runs one as its own process.
 */
describeEachStore('verifyAccessLog on $name', (target) => {
  const log = createBatteryLog(target.name);
  let store: Store;
  let dirs: string[];
  let witnesses: RunningWitness[];
  let fx: ReturnType<typeof createTamperFixture>;
  beforeAll(async () => {
    store = await target.open();
    dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'isthmus-verify-witness-')));
    witnesses = await Promise.all(
      ['audit-office.unit', 'housing.unit'].map((name, index) => startWitness({ dataDir: dirs[index]!, name, logKeys: [log.signer.verifierKey], originPrefixes: [BATTERY_ORIGIN_PREFIX], port: 0 })),
    );
    const [config] = parseWitnessList(`${witnesses[0]!.verifierKey}@${witnesses[0]!.url}`);
    fx = createTamperFixture(store, { name: witnesses[0]!.name, url: witnesses[0]!.url, config: config! }, log);
  });
  afterAll(async () => {
    await Promise.all(witnesses?.map((w) => w.close()) ?? []);
    for (const dir of dirs ?? []) rmSync(dir, { recursive: true, force: true });
    await store?.close();
  });
  const bothWitnesses = () => parseWitnessList(witnesses.map((w) => `${w.verifierKey}@${w.url}`).join(','));

  it('passes an intact log written by two writers at once, whatever the page size; without witnesses it says nothing was proven', async () => {
    const writers = [`gw-${randomUUID()}`, `gw-${randomUUID()}`].map((chainId) => createAccessLogWriter({ db: store.db, chainId, noteSigner: log.signer, logName: log.logName, checkpointEvery: 50 }));
    await Promise.all(Array.from({ length: 240 }, (_, index) => writers[index % 2]!.append(sampleEntry())));
    await Promise.all(writers.map((writer) => writer.close()));
    for (const pageSize of [1_000, 7]) {
      const result = await verifyAccessLog(store.db, { logKeys: [log.verifier], logName: log.logName, pageSize });
      expect(result.problems.filter((p) => writers.some((w) => w.chainId === p.chainId))).toEqual([]);
      expect(result).toMatchObject({ proven: false, keySource: 'pinned', witnesses: [], quorum: 0 });
      for (const writer of writers) expect(result.chainReports.find((c) => c.chainId === writer.chainId)).toMatchObject({ entries: 120, headSeq: 120, lifecycle: 'unwitnessed', legacy: false });
    }
  });

  it('without witnesses, a rewrite with recomputed hashes is still caught by the database’s own signed checkpoint', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: log.signer, logName: log.logName, checkpointEvery: 10, maxBatch: 1 });
    for (let index = 0; index < 25; index++) await writer.append(sampleEntry());
    const rows = await store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).where('seq', '>=', 12).orderBy('seq').execute();
    let prevHash = rows[0]!.prev_hash;
    const statements = rows.map((row) => {
      const hash = hashAccessLogRecord(recordFromRow({ ...row, prev_hash: prevHash, purpose: 'rewritten' }));
      const statement = sql`update access_log set purpose = 'rewritten', prev_hash = ${prevHash}, hash = ${hash} where id = ${row.id}`;
      prevHash = hash;
      return statement;
    });
    await fx.tamper(...statements);
    const problems = fx.problemsOf(await verifyAccessLog(store.db, { logKeys: [log.verifier], logName: log.logName }), chainId);
    expect(problems).toEqual([expect.objectContaining({ kind: 'REWRITTEN', checkpoint: 2, seq: 11 })]);
    expect(problems[0]!.detail).toContain("(size 20, the database's own, signed)");
  });

  it('without pinned keys no signature is checked (and it says so); with them, a checkpoint signed by another key is named', async () => {
    const { chainId } = await fx.writeChain({ count: 12 });
    const stranger = createBatteryLog(target.name);
    const unpinned = await verifyAccessLog(store.db, { logName: log.logName });
    expect(unpinned.keySource).toBe('none');
    expect(fx.problemsOf(unpinned, chainId)).toEqual([]);
    const wrong = fx.problemsOf(await verifyAccessLog(store.db, { logName: log.logName, logKeys: [stranger.verifier] }), chainId);
    expect(wrong.filter((p) => p.kind === 'UNKNOWN_KEY').map((p) => p.checkpoint)).toEqual([0, 1]);
  });

  it('a checkpoint row whose columns were changed is CHECKPOINT_ALTERED, naming it', async () => {
    const { chainId } = await fx.writeChain({ count: 20 });
    await fx.tamper(sql`update access_log_tree_checkpoints set size = 19 where chain_id = ${chainId} and number = 2`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'CHECKPOINT_ALTERED', checkpoint: 2 })]);
  });

  it('a witness that cannot be read is a problem, and nothing is proven', async () => {
    const [away] = parseWitnessList(`${witnesses[0]!.verifierKey}@http://127.0.0.1:1`);
    const result = await verifyAccessLog(store.db, { witnesses: [away!], logKeys: [log.verifier], logName: log.logName });
    expect(result.proven).toBe(false);
    expect(result.witnesses).toEqual([expect.objectContaining({ name: 'audit-office.unit', ok: false, error: 'not reachable' })]);
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: 'WITNESS_UNAVAILABLE', chainId: '' }));
  });

  it('with a quorum of two, only checkpoints both witnesses cosigned cover entries', async () => {
    const { chainId } = await fx.writeChain({ count: 20 });
    const second = createWitnessPublisher(store.db, witnesses[1]!);
    await second.publish(chainId);
    const both = await verifyAccessLog(store.db, { witnesses: bothWitnesses(), quorum: 2, logKeys: [log.verifier], logName: log.logName });
    expect(fx.chainOf(both, chainId)).toMatchObject({ witnessedSize: 20, witnessedBy: ['audit-office.unit', 'housing.unit'] });
    // Ten more, cosigned by the first witness only: checked against it, but not covered under a quorum of two.
    const { chainId: other } = await fx.writeChain({ count: 10 });
    const partial = await verifyAccessLog(store.db, { witnesses: bothWitnesses(), quorum: 2, logKeys: [log.verifier], logName: log.logName });
    expect(fx.problemsOf(partial, other)).toEqual([]);
    expect(fx.chainOf(partial, other)).toMatchObject({ witnessedSize: 0, uncoveredEntries: 10, firstUncovered: { seq: 1 } });
    expect(partial.proven).toBe(true);
  });

  it('a legacy chain (JWS checkpoints only) has its hash chain checked and is reported as not covered, not as forged', async () => {
    const legacyId = `gw-legacy-${randomUUID()}`;
    await fx.tamper(
      sql`insert into access_log_checkpoints (chain_id, seq, hash, jws, signed_at, kid, final) values (${legacyId}, 0, ${'0'.repeat(64)}, 'x.y.z', now(), 'old-key', false)`,
    );
    const result = await fx.verify();
    expect(fx.chainOf(result, legacyId)).toMatchObject({ legacy: true, entries: 0, lifecycle: 'unwitnessed' });
    expect(fx.problemsOf(result, legacyId)).toEqual([]);
  });

  it('verifies a consistent snapshot while a writer keeps appending', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: log.signer, logName: log.logName, checkpointEvery: 20 });
    let writing = true;
    const load = (async () => {
      while (writing) await Promise.all(Array.from({ length: 15 }, () => writer.append(sampleEntry())));
    })();
    try {
      for (let round = 0; round < 4; round++) expect(fx.problemsOf(await verifyAccessLog(store.db, { logKeys: [log.verifier], logName: log.logName, pageSize: 25 }), chainId)).toEqual([]);
    } finally {
      writing = false;
      await load;
      await writer.close();
    }
  });
});
