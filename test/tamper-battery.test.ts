import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateNoteKey, parseCheckpoint, parseNote, parseSignerKey } from '../packages/isthmus-log-proofs/src/index.ts';
import { signTreeCheckpoint } from '../gateway/access-log/log-tree-checkpoint.ts';
import { createAccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { hashAccessLogRecord, recordFromRow } from '../gateway/access-log/access-log-record.ts';
import { sampleEntry } from './support/access-log-fixtures.ts';
import type { Store } from '../gateway/store/store.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { startWitnessProcess, type WitnessProcess } from './support/witness-process.ts';
import { BATTERY_ORIGIN_PREFIX, createBatteryLog, createTamperFixture, forgeEntry } from './support/tamper-fixture.ts';
import { storeTargets } from './support/test-stores.ts';

/**
 * Issue 12's tamper battery, part one: the attacks on chains and checkpoints
 * that passed the old verify (tails cut, checkpoints deleted, a crashed
 * chain cut, forged or rewritten, a forged chain, a foreign key), each as a
 * database superuser would do it, against a witness run as its own process.
 * Part two (tamper-battery-entries) moves, duplicates and edits entries.
 */
const logs = new Map(storeTargets().map((target) => [target.name, createBatteryLog(target.name)]));
let witness: WitnessProcess;
beforeAll(async () => {
  witness = await startWitnessProcess({ name: 'audit-office.battery', logKeys: [...logs.values()].map((log) => log.signer.verifierKey), originPrefix: BATTERY_ORIGIN_PREFIX });
}, 30_000);
afterAll(async () => {
  await witness?.stop();
});

describeEachStore('tamper battery (chains and checkpoints) on $name', (target) => {
  let store: Store;
  let fx: ReturnType<typeof createTamperFixture>;
  beforeAll(async () => {
    store = await target.open();
    fx = createTamperFixture(store, witness, logs.get(target.name)!);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('a stopped chain: last entries cut, its final checkpoint deleted, stopped_at cleared → CHAIN_CUT naming the witnessed size', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30, close: true, register: true });
    const final = (await fx.checkpointsOf(chainId)).at(-1)!;
    expect(final.final).toBe(true);
    await fx.tamper(
      sql`delete from access_log where chain_id = ${chainId} and seq > 25`,
      sql`delete from access_log_tree_checkpoints where chain_id = ${chainId} and final`,
      sql`delete from access_log_cosignatures where chain_id = ${chainId} and number = ${final.number}`,
      sql`update gateway_instances set stopped_at = null where id = ${chainId}`,
    );
    const result = await fx.verify();
    const problems = fx.problemsOf(result, chainId);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'CHAIN_CUT', seq: 26, entryId: appended[24]!.id }));
    expect(problems.find((p) => p.kind === 'CHAIN_CUT')!.detail).toMatch(new RegExp(`audit-office\\.battery cosigned 30 entries \\(checkpoint #${final.number}\\), the database holds 25`));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'CHECKPOINT_MISSING', checkpoint: final.number }));
    expect(problems.find((p) => p.kind === 'CHECKPOINT_MISSING')!.detail).toMatch(/final/);
    // Lifecycle is the witnessed final checkpoint, not a column.
    expect(fx.chainOf(result, chainId)).toMatchObject({ lifecycle: 'stopped', witnessedSize: 30 });
  });

  it('a chain cut back by 550 entries together with the checkpoints after them → CHAIN_CUT', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 600, every: 100 });
    await fx.tamper(
      sql`delete from access_log where chain_id = ${chainId} and seq > 50`,
      sql`delete from access_log_tree_checkpoints where chain_id = ${chainId} and size > 50`,
      sql`delete from access_log_cosignatures where chain_id = ${chainId} and number > 0`,
    );
    const problems = fx.problemsOf(await fx.verify(), chainId);
    const cut = problems.find((p) => p.kind === 'CHAIN_CUT');
    expect(cut).toMatchObject({ seq: 51, entryId: appended[49]!.id, checkpoint: 6 });
    expect(cut!.detail).toMatch(/cosigned 600 entries \(checkpoint #6\), the database holds 50/);
    expect(problems.filter((p) => p.kind === 'CHECKPOINT_MISSING').map((p) => p.checkpoint)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a checkpoint deleted in the middle of a chain → CHECKPOINT_MISSING naming its number', async () => {
    const { chainId } = await fx.writeChain({ count: 40, close: true });
    await fx.tamper(sql`delete from access_log_tree_checkpoints where chain_id = ${chainId} and number = 2`);
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'CHECKPOINT_MISSING', checkpoint: 2 });
    expect(problems[0]!.detail).toBe('checkpoint #2 (size 20), cosigned by audit-office.battery, is missing from the database');
  });

  it('a crashed chain (never closed) with its tail deleted → CHAIN_CUT', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    await fx.tamper(sql`delete from access_log where chain_id = ${chainId} and seq > 22`);
    const result = await fx.verify();
    expect(fx.problemsOf(result, chainId)).toEqual([expect.objectContaining({ kind: 'CHAIN_CUT', seq: 23, entryId: appended[21]!.id, checkpoint: 3 })]);
    expect(fx.chainOf(result, chainId)).toMatchObject({ lifecycle: 'started', witnessedSize: 30 });
  });

  it('a crashed chain with a forged entry appended (valid hash) → named as the one entry no witness covers', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 20 });
    const last = appended.at(-1)!;
    const forged = await forgeEntry(store, { chainId, seq: 21, prevHash: last.hash, from: { chainId, seq: 3 } });
    const result = await fx.verify();
    // Its hash and link are right: only the witnesses can say it was never in the log, and they do not cover it.
    expect(fx.problemsOf(result, chainId)).toEqual([]);
    expect(fx.chainOf(result, chainId)).toMatchObject({ witnessedSize: 20, coveredEntries: 20, uncoveredEntries: 1, firstUncovered: { seq: 21, entryId: forged.id }, lifecycle: 'started' });
  });

  it('a crashed chain rewritten from seq 10 with recomputed hashes → REWRITTEN naming the first witnessed checkpoint that differs and the range', async () => {
    const { chainId } = await fx.writeChain({ count: 32, every: 8 });
    const rows = await store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).where('seq', '>=', 10).orderBy('seq').execute();
    let prevHash = rows[0]!.prev_hash;
    const statements = [];
    for (const row of rows) {
      const forged = hashAccessLogRecord(recordFromRow({ ...row, prev_hash: prevHash, purpose: 'rewritten' }));
      statements.push(sql`update access_log set purpose = 'rewritten', prev_hash = ${prevHash}, hash = ${forged} where id = ${row.id}`);
      prevHash = forged;
    }
    await fx.tamper(...statements);
    const problems = fx.problemsOf(await fx.verify(), chainId);
    const rewritten = problems.find((p) => p.kind === 'REWRITTEN');
    expect(rewritten).toMatchObject({ checkpoint: 2, seq: 9 });
    expect(rewritten!.detail).toMatch(/^checkpoint #2 \(size 16, cosigned by audit-office\.battery\) commits to another tree than the database's entries: entries 9–16 were rewritten with recomputed hashes \(the last that matched is checkpoint #1 at size 8\)/);
    // No entry is blamed: with consistent recomputed hashes none can be.
    expect(problems.filter((p) => ['EDITED', 'MOVED', 'DUPLICATE'].includes(p.kind))).toEqual([]);
  });

  it('a whole forged chain under a new chain id → UNWITNESSED_CHAIN', async () => {
    const forger = parseSignerKey(generateNoteKey(fx.logName).signerKey);
    const chainId = `gw-forged-${Date.now()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: forger, logName: fx.logName, checkpointEvery: 5 });
    for (let index = 0; index < 12; index++) await writer.append(sampleEntry());
    await writer.close();
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'UNWITNESSED_CHAIN', chainId }));
    expect(problems.find((p) => p.kind === 'UNWITNESSED_CHAIN')!.detail).toMatch(/no witness knows chain .* \(12 entries, \d+ checkpoints in the database, none signed by a pinned log key\): it is forged$/);
    // Its checkpoints are signed by a key that is not pinned, though it calls itself by the gateway's key name.
    expect(problems.some((p) => p.kind === 'UNKNOWN_KEY')).toBe(true);

    // Entries copied under a new chain id, with no checkpoint at all: forged too.
    const copied = `gw-copied-${Date.now()}`;
    await forgeEntry(store, { chainId: copied, seq: 1, prevHash: '0'.repeat(64), from: { chainId, seq: 1 } });
    const copiedProblems = fx.problemsOf(await fx.verify(), copied);
    expect(copiedProblems).toEqual([expect.objectContaining({ kind: 'UNWITNESSED_CHAIN', seq: 1 })]);
  });

  it('a genuine chain whose start no witness saw (witness away) is not covered, and not called forged: its checkpoints carry the pinned key', async () => {
    const chainId = `gw-unseen-${Date.now()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: logs.get(target.name)!.signer, logName: fx.logName, checkpointEvery: 5 });
    for (let index = 0; index < 7; index++) await writer.append(sampleEntry());
    const result = await fx.verify();
    expect(fx.problemsOf(result, chainId)).toEqual([]);
    expect(fx.chainOf(result, chainId)).toMatchObject({ witnessedSize: 0, uncoveredEntries: 7, lifecycle: 'unwitnessed' });
  });

  it('the tail cut and re-signed with a foreign key added to access_log_note_keys → UNKNOWN_KEY naming the checkpoint, and CHAIN_CUT', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    const kept = (await fx.checkpointsOf(chainId)).filter((row) => Number(row.size) <= 20);
    const last = kept.at(-1)!;
    const foreign = parseSignerKey(generateNoteKey(fx.logName).signerKey);
    const lastText = parseNote(last.note).text;
    const resigned = signTreeCheckpoint({
      logName: fx.logName,
      chainId,
      signer: foreign,
      size: 25,
      rootHash: parseCheckpoint(lastText).rootHash,
      previous: { number: last.number, size: Number(last.size), text: lastText },
      signedAt: new Date(),
      final: true,
    });
    await fx.tamper(
      sql`delete from access_log where chain_id = ${chainId} and seq > 25`,
      sql`delete from access_log_tree_checkpoints where chain_id = ${chainId} and size > 20`,
      sql`insert into access_log_tree_checkpoints (chain_id, number, size, root_hash, note, signed_at, final) values (${chainId}, ${last.number + 1}, 25, ${resigned.rootHash}, ${resigned.note}, now(), true)`,
      sql`insert into access_log_note_keys (vkey, first_used_at) values (${foreign.verifierKey}, now())`,
    );
    const problems = fx.problemsOf(await fx.verify(), chainId);
    const unknown = problems.find((p) => p.kind === 'UNKNOWN_KEY');
    expect(unknown).toMatchObject({ checkpoint: last.number + 1 });
    expect(unknown!.detail).toMatch(new RegExp(`^checkpoint #${last.number + 1} \\(size 25\\) is signed by ${fx.logName.replaceAll('.', '\\.')} \\(key id [0-9a-f]{8}\\), which is not a pinned log key`));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'CHAIN_CUT', seq: 26, entryId: appended[24]!.id }));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'CHECKPOINT_ALTERED', checkpoint: last.number + 1 }));
  });
});
