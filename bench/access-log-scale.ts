import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { StoreSchema } from '../gateway/store/store-schema.ts';
import { openStore } from '../gateway/store/store.ts';
import { ensurePartitionsFor } from '../gateway/access-log/ensure-partitions.ts';
import { CITY_BUREAUS, fillChain } from './access-log-scale/fill-access-log.ts';
import {
  measureAppend,
  measureChainWalk,
  measureCitizenReads,
  measureDayExports,
  measureOfficerReads,
  measureTableBytes,
  type MeasureContext,
} from './access-log-scale/measure-access-log.ts';

const RESULTS = fileURLToPath(new URL('./results/access-log-scale.json', import.meta.url));
/** Entries per generated chain at most: a year of one gateway replica's chain, cut where a replica would restart. */
const MAX_CHAIN = 1_000_000;
/** The first generated chain, walked at every size for `log verify`'s cost per entry. */
const WALKED_CHAIN = 'fill-0001';

/**
 * `DATABASE_URL=… npx node bench/access-log-scale.ts --sizes 100k,1m,3m [--keep] [--reuse <database>] [--append-seconds 3]`
 *
 * The access log at city scale (issue 14, part 4): fills a scratch
 * database on `DATABASE_URL`'s server to each size in turn — a year of a
 * city's entries ending now, 51 bureaus, a population of 3 million
 * generated citizens, valid hash chains made in SQL (`fill-access-log.ts`)
 * — and at each size measures, medians of several calls, the database's CPU
 * counted from its backends' `/proc` times: append throughput through the
 * real writer (concurrency 64, three runs), then — after a VACUUM (ANALYZE),
 * as autovacuum would have — a citizen's who-read-me, an officer's first
 * page (and that of a bureau with no entries yet), an auditor's one-day
 * export, `log verify`'s walk of one chain per million entries (the
 * verifier's and the database's CPU), and the tables' bytes per entry. Prints a
 * table, writes `bench/results/access-log-scale.json` with every
 * EXPLAIN (ANALYZE, BUFFERS). The database is dropped unless `--keep`;
 * `--reuse` fills on from a kept one.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100k,1m' },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'string' },
      'append-seconds': { type: 'string', default: '3' },
    },
  });
  const sizes = values.sizes.split(',').map(parseSize);
  const appendSeconds = Number(values['append-seconds']);
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set DATABASE_URL (a server where a scratch database may be created)');
  const name = values.reuse ?? `isthmus_bench_scale_${randomUUID().slice(0, 8)}`;
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error('--reuse takes a database name of lowercase letters, digits and _');
  if (!values.reuse) await admin(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  const store = await openStore({ kind: 'postgres', url: url.toString() });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  let captured: CompiledQuery[] = [];
  const db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }), log: (event) => void captured.push(event.query) });
  const context: MeasureContext = { db, pool, database: name, takeQueries: () => [captured, (captured = [])][0]! };
  const until = new Date();
  const from = new Date(until.getTime() - 365 * 86_400_000);
  const results: unknown[] = [];
  try {
    await store.migrate();
    await ensurePartitionsFor(store.db, Array.from({ length: 14 }, (_, i) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 1))));
    for (const size of sizes) {
      const fillStarted = performance.now();
      const filled = await fillTo(store.db, size, from, until);
      const fillSeconds = (performance.now() - fillStarted) / 1_000;
      const appends = [];
      for (let run = 0; run < 3; run += 1) appends.push(await measureAppend(context, 64, appendSeconds));
      appends.sort((a, b) => a.entriesPerSecond - b.entriesPerSecond);
      // After the appends, what autovacuum would have done by then (it may be off on a shared bench server): the
      // reads are planned on the months' statistics as they are, and the GIN index's pending list is merged.
      await sql`vacuum (analyze) access_log, access_log_subjects`.execute(store.db);
      const log = await measureTableBytes(db, 'access_log');
      const subjects = await measureTableBytes(db, 'access_log_subjects');
      const citizen = await measureCitizenReads(context, 30);
      const officer = await measureOfficerReads(context, 15);
      const newBureau = await measureOfficerReads(context, 3, `bureau-${CITY_BUREAUS + 1}`);
      const day = await measureDayExports(context, 3, from, until);
      const walk = await measureChainWalk(context, WALKED_CHAIN);
      if (walk.problems > 0) throw new Error(`the generated chain ${WALKED_CHAIN} did not verify (${walk.problems} problems): the generator is wrong`);
      const result = { size, filled, fillSeconds, load: loadavg()[0], cores: cpus().length, log, subjects, append: appends[1], appendRuns: appends, citizen, officer, newBureau, day, walk };
      results.push(result);
      process.stdout.write(`${row(result)}\n`);
      await mkdir(new URL('./results/', import.meta.url), { recursive: true });
      await writeFile(RESULTS, JSON.stringify({ at: new Date().toISOString(), database: name, results }, null, 2));
    }
    process.stdout.write(`results: ${RESULTS}${values.keep ? `; database kept: ${name}` : ''}\n`);
  } finally {
    await db.destroy();
    await store.close();
    if (!values.keep) await admin(serverUrl, `drop database if exists ${name} with (force)`);
  }
}

/** Generated entries up to `size` (chains `fill-0001`, … of at most {@link MAX_CHAIN}); returns the entries now generated. */
async function fillTo(db: Kysely<StoreSchema>, size: number, from: Date, until: Date): Promise<number> {
  const { rows } = await sql<{ chain_id: string; n: string }>`
    select c.chain_id, (select max(seq) from access_log l where l.chain_id = c.chain_id) as n from access_log_chains c where c.chain_id like 'fill-%'`.execute(db);
  let have = rows.reduce((sum, r) => sum + Number(r.n ?? 0), 0);
  let next = rows.length + 1;
  while (have < size) {
    const entries = Math.min(MAX_CHAIN, size - have);
    await fillChain(db, { chainId: `fill-${String(next).padStart(4, '0')}`, entries, from, until });
    have += entries;
    next += 1;
  }
  return have;
}

function row(r: {
  size: number; fillSeconds: number; load: number | undefined; log: { heapBytes: number; indexBytes: number; rows: number }; subjects: { heapBytes: number; indexBytes: number; rows: number };
  append: { entriesPerSecond: number; dbCpuMsPerEntry: number } | undefined; citizen: { medianMs: number; dbCpuMsPerCall: number }; officer: { medianMs: number; dbCpuMsPerCall: number }; newBureau: { medianMs: number; dbCpuMsPerCall: number };
  day: { medianMs: number; rows: number }; walk: { msPerMillion: number; nodeCpuMsPerMillion: number; dbCpuMsPerMillion: number };
}): string {
  // Per entry of the table (the appends' entries too), as the last ANALYZE counted them.
  const perEntry = (bytes: number) => (bytes / r.log.rows).toFixed(0);
  return [
    `size ${r.size} (filled in ${r.fillSeconds.toFixed(0)} s, load ${r.load?.toFixed(1)})`,
    `  bytes/entry: log heap ${perEntry(r.log.heapBytes)} + indexes ${perEntry(r.log.indexBytes)}; subjects heap ${perEntry(r.subjects.heapBytes)} + indexes ${perEntry(r.subjects.indexBytes)} (${(r.subjects.rows / r.log.rows).toFixed(2)} subject rows/entry)`,
    `  append c=64: ${r.append?.entriesPerSecond.toFixed(0)} entries/s, ${r.append?.dbCpuMsPerEntry.toFixed(3)} ms DB CPU/entry`,
    `  citizen who-read-me: ${r.citizen.medianMs.toFixed(1)} ms median, ${r.citizen.dbCpuMsPerCall.toFixed(2)} ms DB CPU`,
    `  officer first page: ${r.officer.medianMs.toFixed(1)} ms median, ${r.officer.dbCpuMsPerCall.toFixed(2)} ms DB CPU`,
    `  new bureau's first page: ${r.newBureau.medianMs.toFixed(1)} ms median, ${r.newBureau.dbCpuMsPerCall.toFixed(2)} ms DB CPU`,
    `  auditor one-day export: ${r.day.medianMs.toFixed(0)} ms median for ${r.day.rows.toFixed(0)} entries`,
    `  verify walk: ${(r.walk.msPerMillion / 1_000).toFixed(0)} s per million entries (CPU: verifier ${(r.walk.nodeCpuMsPerMillion / 1_000).toFixed(0)} s, database ${(r.walk.dbCpuMsPerMillion / 1_000).toFixed(0)} s)`,
  ].join('\n');
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!match) throw new Error(`--sizes: not a size: ${text} (e.g. 100k, 1m, 3m)`);
  return Math.round(Number(match[1]) * (match[2]!.toLowerCase() === 'm' ? 1e6 : match[2]!.toLowerCase() === 'k' ? 1e3 : 1));
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

await main();
