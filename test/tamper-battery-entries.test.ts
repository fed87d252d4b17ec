import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashAccessLogRecord, recordFromRow } from '../gateway/access-log/access-log-record.ts';
import { detachExpiredPartitions } from '../gateway/access-log/retention.ts';
import { createAccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { LOG_NOTE_KEY_HISTORY_FILE } from '../gateway/access-log/log-tree-note-key.ts';
import { openStore, type Store } from '../gateway/store/store.ts';
import { sampleEntry } from './support/access-log-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { runCliCaptured } from './support/run-cli-captured.ts';
import { startWitnessProcess, type WitnessProcess } from './support/witness-process.ts';
import { BATTERY_ORIGIN_PREFIX, createBatteryLog, createTamperFixture, forgeEntry, rowOf } from './support/tamper-fixture.ts';
import { storeTargets } from './support/test-stores.ts';

/**
 * Issue 12's tamper battery, part two: entries moved, duplicated, edited,
 * removed or added after the end, each named by id and seq; an untouched log
 * through `isthmus log verify` (exit 0, the uncovered tail counted); and
 * retention, whose detached months must not break the proof.
 */
const labels = storeTargets().flatMap((target) => [target.name, `${target.name}-cli`]);
const logs = new Map(labels.map((label) => [label, createBatteryLog(label)]));
let witness: WitnessProcess;
beforeAll(async () => {
  witness = await startWitnessProcess({ name: 'audit-office.battery', logKeys: [...logs.values()].map((log) => log.signer.verifierKey), originPrefix: BATTERY_ORIGIN_PREFIX });
}, 30_000);
afterAll(async () => {
  await witness?.stop();
});

describeEachStore('tamper battery (entries) on $name', (target) => {
  let store: Store;
  let fx: ReturnType<typeof createTamperFixture>;
  beforeAll(async () => {
    store = await target.open();
    fx = createTamperFixture(store, witness, logs.get(target.name)!);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('two entries swapped places → MOVED for each, naming where it was written; no one else blamed', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30, close: true });
    const [a, b] = [appended[11]!, appended[12]!];
    await fx.tamper(sql`update access_log set seq = case seq when 12 then 13 else 12 end where chain_id = ${chainId} and seq in (12, 13)`);
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'MOVED', seq: 12, entryId: b.id, detail: `entry ${b.id} was written as seq 13, now stands at seq 12` }),
      expect.objectContaining({ kind: 'MOVED', seq: 13, entryId: a.id, detail: `entry ${a.id} was written as seq 12, now stands at seq 13` }),
    ]);
  });

  it('a forged entry with a valid hash takes a genuine entry’s seq → DUPLICATE naming the forged one, not the genuine', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30, close: true });
    const forged = await forgeEntry(store, { chainId, seq: 15, prevHash: appended[13]!.hash, from: { chainId, seq: 2 } });
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toEqual([expect.objectContaining({ kind: 'DUPLICATE', seq: 15, entryId: forged.id })]);
    expect(problems[0]!.detail).toBe(`entry ${forged.id} claims seq 15, which entry ${appended[14]!.id} holds in the chain (entry 16 links to it): entry ${forged.id} is forged`);
  });

  it('a forged duplicate of the head seq is told apart by the witnessed root', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 20, close: true });
    const forged = await forgeEntry(store, { chainId, seq: 20, prevHash: appended[18]!.hash, from: { chainId, seq: 2 } });
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toEqual([expect.objectContaining({ kind: 'DUPLICATE', seq: 20, entryId: forged.id })]);
    expect(problems[0]!.detail).toContain('the witnessed tree has it');
  });

  it('an entry edited in place → EDITED naming it', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    await fx.tamper(sql`update access_log set purpose = 'something else' where chain_id = ${chainId} and seq = 15`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'EDITED', seq: 15, entryId: appended[14]!.id })]);
  });

  it('an entry edited with its hash recomputed → EDITED naming it (its successor’s link), the witnessed root differing is not blamed elsewhere', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    const row = await rowOf(store, chainId, 15);
    const forged = hashAccessLogRecord(recordFromRow({ ...row, consumer_bureau: 'housing-fund' }));
    await fx.tamper(sql`update access_log set consumer_bureau = 'housing-fund', hash = ${forged} where chain_id = ${chainId} and seq = 15`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'EDITED', seq: 15, entryId: appended[14]!.id })]);
  });

  it('entries deleted in the middle → MISSING naming the first missing seq and the entry after the gap', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    await fx.tamper(sql`delete from access_log where chain_id = ${chainId} and seq in (12, 13)`);
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toEqual([expect.objectContaining({ kind: 'MISSING', seq: 12, entryId: appended[13]!.id, detail: `entries 12–13 are missing before entry ${appended[13]!.id} (seq 14)` })]);
  });

  it('one entry deleted: the gap is named and the tree still proves the rest (its hash is its successor’s link)', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 30 });
    await fx.tamper(sql`delete from access_log where chain_id = ${chainId} and seq = 7`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'MISSING', seq: 7, entryId: appended[7]!.id })]);
  });

  it('an entry appended after the witnessed final checkpoint → AFTER_FINAL naming it', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 20, close: true });
    const forged = await forgeEntry(store, { chainId, seq: 21, prevHash: appended[19]!.hash, from: { chainId, seq: 4 } });
    const problems = fx.problemsOf(await fx.verify(), chainId);
    expect(problems).toEqual([expect.objectContaining({ kind: 'AFTER_FINAL', seq: 21, entryId: forged.id })]);
    expect(problems[0]!.detail).toMatch(/follows the chain's final checkpoint #3 \(size 20, cosigned by audit-office\.battery\): it is forged$/);
  });

  it('a subject removed from the "who read me" index → EDITED naming the entry', async () => {
    const { chainId, appended } = await fx.writeChain({ count: 10 });
    await fx.tamper(sql`delete from access_log_subjects where entry_id = ${appended[3]!.id}`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'EDITED', seq: 4, entryId: appended[3]!.id })]);
  });

  it('retention: detached months leave the proof intact (the walk starts from the recorded frontier); a forged frontier is caught', async () => {
    const chainId = `gw-retained-${Date.now()}`;
    const log = logs.get(target.name)!;
    // The writer's clock, ten months back for the first 14 entries: their month is past retention.
    let clock = Date.now() - 300 * 86_400_000;
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: log.signer, logName: log.logName, checkpointEvery: 10, maxBatch: 1, now: () => new Date(clock) });
    for (let index = 0; index < 14; index++) await writer.append(sampleEntry({ occurredAt: new Date((clock += 1_000)) }));
    clock = Date.now();
    for (let index = 0; index < 16; index++) await writer.append(sampleEntry({ occurredAt: new Date((clock += 1)) }));
    await writer.close();
    await fx.publisher.publish(chainId);
    const detached = await detachExpiredPartitions(store.db, new Date(), { retentionDays: 190 });
    expect(detached.length).toBeGreaterThan(0);
    const result = await fx.verify();
    expect(fx.problemsOf(result, chainId)).toEqual([]);
    expect(fx.chainOf(result, chainId)).toMatchObject({ retiredSeq: 14, headSeq: 30, entries: 16, witnessedSize: 30, uncoveredEntries: 0 });

    await fx.tamper(sql`update access_log_detachments set frontier = ${JSON.stringify(['ab'.repeat(32), 'cd'.repeat(32), 'ef'.repeat(32)])}::jsonb where chain_id = ${chainId}`);
    expect(fx.problemsOf(await fx.verify(), chainId)).toEqual([expect.objectContaining({ kind: 'REWRITTEN', checkpoint: 2, seq: 15 })]);
  });

  it('an untouched log: `isthmus log verify` exits 0, proven against the witness, counting the tail not yet covered', async () => {
    const database = await target.gatewayDatabase({ prefix: 'isthmus_battery_cli', onDisk: true });
    const keysDir = mkdtempSync(join(tmpdir(), 'isthmus-battery-keys-'));
    try {
      const log = logs.get(`${target.name}-cli`)!;
      const cliStore = await openStore(database.url ? { kind: 'postgres', url: database.url, poolSize: 2 } : { kind: 'pglite', dataDir: database.dataDir });
      let chainId: string;
      try {
        await cliStore.migrate();
        const cli = createTamperFixture(cliStore, witness, log);
        ({ chainId } = await cli.writeChain({ count: 30, unwitnessedTail: 10 }));
        await cli.writeChain({ count: 20, close: true });
      } finally {
        await cliStore.close();
      }
      writeFileSync(join(keysDir, LOG_NOTE_KEY_HISTORY_FILE), JSON.stringify({ keys: [{ vkey: log.signer.verifierKey, current: true, firstUsedAt: new Date().toISOString() }] }));
      const env = { ...database.env, ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_WITNESSES: `${witness.vkey}@${witness.url}`, ISTHMUS_LOG_NAME: log.logName };
      const run = await runCliCaptured(['log', 'verify', '--require-witnesses'], env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('ok: 50 entries in 2 chains\n');
      expect(run.stdout).toContain('proven against 1 witness (audit-office.battery; quorum 1); 10 entries are not yet covered by a witnessed checkpoint\n');
      expect(run.stdout).toMatch(new RegExp(`chain ${chainId}: 30 entries \\(seq 1–30\\); witnessed up to 20 \\(cosigned by audit-office\\.battery\\); 10 not yet covered \\(from seq 21, entry \\S+\\); no final checkpoint: crashed or still running; no gateway instance of this id is registered\n`));
      // The fixture writes its chains without registering a gateway instance: verify says so rather than naming a writer.
      const json = await runCliCaptured(['log', 'verify', '--json'], env);
      expect(JSON.parse(json.stdout)).toMatchObject({ proven: true, uncoveredEntries: 10, problems: [] });
    } finally {
      rmSync(keysDir, { recursive: true, force: true });
      await database.drop();
    }
  });
});
