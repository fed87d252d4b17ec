import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createAccessLogWriter, type AccessLogBatchReport } from '../gateway/access-log/access-log-writer.ts';
import { verifyAccessLog } from '../gateway/access-log/verify-access-log.ts';
import { openStore, type Store } from '../gateway/store/store.ts';
import { sampleEntry } from '../test/support/access-log-fixtures.ts';
import { DEFAULT_LOG_NAME } from '../gateway/access-log/log-tree-note-key.ts';
import { createWitnessPublisher, type WitnessCoverage, type WitnessPublisher } from '../gateway/access-log/witness-publisher.ts';
import { parseWitnessList } from '../gateway/access-log/witness-config.ts';
import { generateNoteKey, parseSignerKey } from '../packages/isthmus-log-proofs/src/index.ts';
import { startBenchWitness, type BenchWitness } from './systems/start-bench-witness.ts';

/**
 * `npx node bench/access-log-throughput.ts [--seconds 10] [--concurrency 256] [--pglite] [--witness]`
 *
 * How many access log entries per second one gateway's writer commits, the
 * way requests would produce them: `concurrency` simulated requests each
 * append an entry, wait for its commit, and start over. Runs against a
 * scratch database on `DATABASE_URL`'s server (dropped afterwards), or
 * embedded PGlite with `--pglite`. Reports entries/s, transactions/s, the
 * mean batch size and the append latency percentiles, then verifies the
 * chain it wrote. Issue #4's goal: ≥ 2,000 entries/s on a 2-core machine
 * with PostgreSQL. `--witness` runs an `isthmus-witness` in its own process
 * and the gateway's publisher beside the writer, checkpoints every second,
 * as a gateway with witnesses does (issue #12): requests still wait only for
 * their own commit, and the run says how far the witness had cosigned.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '256' }, pglite: { type: 'boolean', default: false }, witness: { type: 'boolean', default: false } },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const serverUrl = process.env.DATABASE_URL;
  if (!values.pglite && !serverUrl) throw new Error('set DATABASE_URL (a server where a scratch database may be created), or pass --pglite');

  let store: Store;
  let drop = async () => {};
  if (values.pglite) {
    store = await openStore({ kind: 'pglite' });
  } else {
    const name = `isthmus_bench_log_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    store = await openStore({ kind: 'postgres', url: url.toString() });
    drop = async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  }

  let witness: BenchWitness | undefined;
  let publisher: WitnessPublisher | undefined;
  try {
    await store.migrate();
    const batches: AccessLogBatchReport[] = [];
    const chainId = `bench-${randomUUID().slice(0, 8)}`;
    const noteKey = generateNoteKey(DEFAULT_LOG_NAME);
    let coverage: WitnessCoverage | undefined;
    if (values.witness) {
      witness = await startBenchWitness({ logKey: noteKey.verifierKey, originPrefix: DEFAULT_LOG_NAME });
      publisher = createWitnessPublisher({ db: store.db, chainId, witnesses: parseWitnessList(`${witness.verifierKey}@${witness.url}`), quorum: 1, onCoverage: (covered) => (coverage = covered) });
    }
    const writer = createAccessLogWriter({
      db: store.db,
      chainId,
      noteSigner: parseSignerKey(noteKey.signerKey),
      onBatch: (report) => batches.push(report),
      ...(publisher && { checkpointIntervalMs: 1_000, onCheckpoint: (checkpoint: Parameters<WitnessPublisher['notify']>[0]) => publisher!.notify(checkpoint) }),
    });
    await writer.ready();

    // Warm-up: JIT, connections, plans.
    await Promise.all(Array.from({ length: 2_000 }, () => writer.append(sampleEntry())));
    batches.length = 0;

    const latencies: number[] = [];
    let failures = 0;
    const deadline = performance.now() + seconds * 1_000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const begun = performance.now();
          try {
            await writer.append(sampleEntry());
            latencies.push(performance.now() - begun);
          } catch {
            failures += 1;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1_000;
    const head = writer.status().committedSeq ?? 0;
    const coveredAtEnd = coverage?.size ?? 0;
    await writer.close();

    latencies.sort((a, b) => a - b);
    const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(1);
    const committed = batches.filter((batch) => batch.ok).reduce((sum, batch) => sum + batch.entries, 0);
    process.stdout.write(
      [
        `access log writer on ${store.kind}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, concurrency ${concurrency}, ${seconds} s`,
        `  ${Math.round(latencies.length / elapsed)} entries/s committed (${latencies.length} entries, ${failures} failed)`,
        `  ${Math.round(batches.length / elapsed)} transactions/s, ${(committed / Math.max(1, batches.length)).toFixed(1)} entries per transaction on average`,
        `  append latency p50 ${percentile(50)} ms, p99 ${percentile(99)} ms`,
        ...(publisher ? [`  witness: cosigned up to ${coveredAtEnd} of ${head} entries when the load stopped (checkpoints every 1 s or 1,000 entries)`] : []),
      ].join('\n') + '\n',
    );
    const verified = await verifyAccessLog(store.db);
    process.stdout.write(`  verify: ${verified.problems.length === 0 ? 'ok' : 'PROBLEMS'}, ${verified.entries} entries in ${verified.chains} chains\n`);
  } finally {
    await publisher?.close();
    await witness?.close();
    await store.close();
    await drop();
  }
}

await main();
