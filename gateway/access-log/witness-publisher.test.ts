import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateNoteKey, parseSignerKey, parseVerifierKey, verifyCheckpoint, type NoteSigner } from '../../packages/isthmus-log-proofs/src/index.ts';
import { startWitness, type RunningWitness } from '../../packages/isthmus-witness/src/index.ts';
import { createAccessLogWriter } from './access-log-writer.ts';
import { originOf, treeCheckpointOf } from './log-tree-checkpoint.ts';
import { latestCosignedCheckpoint } from './log-tree-store.ts';
import { parseWitnessList } from './witness-config.ts';
import { createWitnessPublisher } from './witness-publisher.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';

const LOG_NAME = 'isthmus.test-city/access-log';

describeEachStore('witness publisher on $name', (target) => {
  let store: Store;
  let signer: NoteSigner;
  let dir: string;
  beforeAll(async () => {
    store = await target.open();
    signer = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
    dir = mkdtempSync(join(tmpdir(), 'isthmus-publisher-'));
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const witnessAt = (name: string, port = 0): Promise<RunningWitness> =>
    startWitness({ dataDir: join(dir, name), name, logKeys: [signer.verifierKey], originPrefixes: [LOG_NAME], port, log: () => {} });

  it('gets every checkpoint cosigned in order by a real witness, stores the lines, and keeps going after the witness was away', async () => {
    let witness = await witnessAt(`audit-office-${randomUUID().slice(0, 6)}.test`);
    const port = Number(new URL(witness.url).port);
    const [config] = parseWitnessList(`${witness.verifierKey}@${witness.url}`);
    const chainId = `gw-${randomUUID()}`;
    const errors: string[] = [];
    const publisher = createWitnessPublisher({ db: store.db, chainId, witnesses: [config!], retryMinMs: 20, retryMaxMs: 100, requestTimeoutMs: 2_000, onWitnessError: (_, error) => errors.push(error.code) });
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, checkpointEvery: 5, commitDelayMs: 0, onCheckpoint: (checkpoint) => publisher.notify(checkpoint) });
    try {
      await writer.ready();
      expect(await publisher.waitForCoverage(0, 5_000)).toBe(true);
      for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 5 }, () => writer.append(sampleEntry())));
      expect(await publisher.waitForCoverage(4, 5_000)).toBe(true);
      expect(publisher.coverage()).toEqual({ number: 4, size: 20 });

      const cosigned = await latestCosignedCheckpoint(store.db, chainId, 1);
      const policy = { origin: originOf(LOG_NAME, chainId), logKeys: [parseVerifierKey(signer.verifierKey)], witnesses: [config!.verifier], quorum: 1 };
      expect(verifyCheckpoint(cosigned!.note, policy)).toMatchObject({ size: 20, cosignedBy: [config!.name] });
      const rows = await store.db.selectFrom('access_log_cosignatures').select(['number', 'witness']).where('chain_id', '=', chainId).orderBy('number').execute();
      expect(rows).toEqual([0, 1, 2, 3, 4].map((number) => ({ number, witness: config!.name })));

      // Away: the writer goes on, nothing more is covered, the failures are reported.
      await witness.close();
      for (let i = 0; i < 2; i++) await Promise.all(Array.from({ length: 5 }, () => writer.append(sampleEntry())));
      await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(1);
      expect(errors).toContain('WITNESS_UNREACHABLE');
      expect(publisher.coverage()).toEqual({ number: 4, size: 20 });
      expect(publisher.status()[0]).toMatchObject({ cosignedNumber: 4, lastError: 'WITNESS_UNREACHABLE' });

      // Back, with its own storage: the missed checkpoints follow in order, each proved consistent with the last.
      witness = await witnessAt(config!.name, port);
      expect(await publisher.waitForCoverage(6, 5_000)).toBe(true);
      expect(publisher.coverage()).toEqual({ number: 6, size: 30 });
      expect(publisher.status()[0]!.lastError).toBeUndefined();
      const seen = (await (await fetch(`${witness.url}/checkpoints`)).json()) as { checkpoints: { origin: string; size: number }[] };
      expect(seen.checkpoints.find((c) => c.origin === originOf(LOG_NAME, chainId))?.size).toBe(30);

      // A publisher that starts again on the chain goes on from what is stored, and gets the final checkpoint cosigned.
      await publisher.close();
      const again = createWitnessPublisher({ db: store.db, chainId, witnesses: [config!], retryMinMs: 20, retryMaxMs: 100 });
      const final = await new Promise<number>((resolve) => {
        const next = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, onCheckpoint: (checkpoint) => {
          again.notify(checkpoint);
          if (checkpoint.final) resolve(checkpoint.number);
        } });
        void next.close();
      });
      expect(await again.waitForCoverage(final, 5_000)).toBe(true);
      await again.close();
      const history = (await (await fetch(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(originOf(LOG_NAME, chainId))}`)).json()) as { checkpoints: { size: number; final: boolean }[] };
      expect(history.checkpoints.at(-1)).toMatchObject({ size: 30, final: true });
    } finally {
      await writer.close().catch(() => {});
      await publisher.close();
      await witness.close();
    }
  });

  it('counts a checkpoint only once the quorum cosigned it, and reports a witness that refuses', async () => {
    const good = await witnessAt(`bureau-a-${randomUUID().slice(0, 6)}.test`);
    // This one trusts another log key: it refuses every checkpoint (403).
    const stranger = await startWitness({ dataDir: join(dir, `stranger-${randomUUID()}`), name: `bureau-b-${randomUUID().slice(0, 6)}.test`, logKeys: [generateNoteKey(LOG_NAME).verifierKey], originPrefixes: [LOG_NAME], port: 0, log: () => {} });
    const witnesses = parseWitnessList(`${good.verifierKey}@${good.url},${stranger.verifierKey}@${stranger.url}`);
    const chainId = `gw-${randomUUID()}`;
    const errors: string[] = [];
    const both = createWitnessPublisher({ db: store.db, chainId, witnesses, retryMinMs: 20, retryMaxMs: 50, closeWaitMs: 100, onWitnessError: (_, error) => errors.push(error.code) });
    const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: LOG_NAME, onCheckpoint: (checkpoint) => both.notify(checkpoint) });
    try {
      await writer.ready();
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(1);
      expect(errors.every((code) => code === 'LOG_KEY_UNKNOWN' || code === 'FORBIDDEN' || /KEY|FORBIDDEN|ORIGIN/.test(code))).toBe(true);
      await expect.poll(() => latestCosignedCheckpoint(store.db, chainId, 1), { timeout: 10_000 }).toMatchObject({ number: 0, witnesses: [witnesses[0]!.name] });
      // One of the two cosigned: with a quorum of both, nothing counts.
      expect(both.coverage()).toBeUndefined();
      expect(await both.waitForCoverage(0, 200)).toBe(false);
      expect(await latestCosignedCheckpoint(store.db, chainId, 2)).toBeUndefined();
      const one = createWitnessPublisher({ db: store.db, chainId, witnesses, quorum: 1 });
      // With a quorum of one, the good witness's stored cosignature is enough.
      one.notify(treeCheckpointOf(await store.db.selectFrom('access_log_tree_checkpoints').selectAll().where('chain_id', '=', chainId).where('number', '=', 0).executeTakeFirstOrThrow()));
      expect(await one.waitForCoverage(0, 5_000)).toBe(true);
      await one.close();
    } finally {
      await writer.close();
      await both.close();
      await good.close();
      await stranger.close();
    }
  });
});
