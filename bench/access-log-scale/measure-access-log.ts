import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import type { StoreSchema } from '../../gateway/store/store-schema.ts';
import type { Principal } from '../../policies/principal.ts';
import { createAccessLogWriter } from '../../gateway/access-log/access-log-writer.ts';
import { readAccessLog } from '../../gateway/access-log/access-log-reader.ts';
import { exportAccessLog } from '../../gateway/access-log/export-access-log.ts';
import { readWalkStart } from '../../gateway/access-log/verify-walk-start.ts';
import { walkChainEntries } from '../../gateway/access-log/verify-chain-entries.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';
import { cpuMsSince, readCpuMs } from '../measure/read-cpu-time.ts';
import { percentile } from '../measure/run-load.ts';
import { CITY_BUREAUS, CITY_PERSONS } from './fill-access-log.ts';

/** What one kind of read cost at one size: wall time per call (median, p90) and the database's CPU per call. */
export interface ReadFigure {
  readonly calls: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly dbCpuMsPerCall: number;
  /** Rows the calls returned, on average. */
  readonly rows: number;
  /** EXPLAIN (ANALYZE, BUFFERS) of the call's query, run once more after the timed calls. */
  readonly plan: string;
}

/** The scratch database and the connections a measurement runs over. */
export interface MeasureContext {
  readonly db: Kysely<StoreSchema>;
  readonly pool: pg.Pool;
  /** The database's name, whose backends' CPU is counted. */
  readonly database: string;
  /** Queries the readers sent since the last {@link takeQueries}. */
  takeQueries(): readonly CompiledQuery[];
}

/** CPU (ms) used so far by every backend serving `database`, by pid: the database's own work for this bench alone. */
export async function readDatabaseCpu(pool: pg.Pool, database: string): Promise<ReadonlyMap<number, number>> {
  const { rows } = await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]);
  const byPid = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = await readCpuMs(pid);
    if (!Number.isNaN(ms)) byPid.set(pid, ms);
  }
  return byPid;
}


/**
 * Runs `call` for each input, timing each and counting the database's CPU
 * over all of them, then EXPLAINs (ANALYZE, BUFFERS) the first query the
 * last call sent, with its parameters.
 */
async function measureReads<T>(context: MeasureContext, inputs: readonly T[], call: (input: T) => Promise<number>): Promise<ReadFigure> {
  const times: number[] = [];
  let rows = 0;
  const before = await readDatabaseCpu(context.pool, context.database);
  for (const input of inputs) {
    context.takeQueries();
    const started = performance.now();
    rows += await call(input);
    times.push(performance.now() - started);
  }
  const cpu = cpuMsSince(before, await readDatabaseCpu(context.pool, context.database));
  const query = context.takeQueries().find((q) => /^\s*select/i.test(q.sql));
  const plan = query ? (await context.pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${query.sql}`, [...query.parameters])).rows.map((r) => r['QUERY PLAN']).join('\n') : '';
  const sorted = [...times].sort((a, b) => a - b);
  return { calls: inputs.length, medianMs: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9), dbCpuMsPerCall: cpu / inputs.length, rows: rows / inputs.length, plan };
}

function principal(overrides: Partial<Principal>): Principal {
  return { issuer: 'https://idp.bench', subject: randomUUID(), bureau: 'city-office', app: 'console', roles: [], scopes: [], expiresAt: 4_102_444_800, ...overrides };
}

/** A citizen's "who read me" (their first page, newest first), for `count` random citizens of the population. */
export function measureCitizenReads(context: MeasureContext, count: number): Promise<ReadFigure> {
  const citizens = Array.from({ length: count }, () => `P${String(Math.floor(Math.random() * CITY_PERSONS)).padStart(9, '0')}`);
  return measureReads(context, citizens, async (citizen) => {
    const page = await readAccessLog(context.db, principal({ roles: ['citizen'], bureau: 'one-stop-service', app: 'citizen-app', citizen }), {});
    return page.items.length;
  });
}

/**
 * A data officer's first page of their bureau's entries (as provider or
 * consumer), for `count` random bureaus of the city — or, with `bureau`,
 * for that one (`bureau-52`: a bureau that joined last week and has no
 * entries yet, the page that has to look furthest).
 */
export function measureOfficerReads(context: MeasureContext, count: number, bureau?: string): Promise<ReadFigure> {
  const bureaus = Array.from({ length: count }, () => bureau ?? `bureau-${String(1 + Math.floor(Math.random() * CITY_BUREAUS)).padStart(2, '0')}`);
  return measureReads(context, bureaus, async (bureau) => {
    const page = await readAccessLog(context.db, principal({ roles: ['data_officer'], bureau, user: `officer-${bureau}` }), {});
    return page.items.length;
  });
}

/** An auditor's export of one whole UTC day, for `count` random days of [from, until). */
export function measureDayExports(context: MeasureContext, count: number, from: Date, until: Date): Promise<ReadFigure> {
  const days = Math.floor((until.getTime() - from.getTime()) / 86_400_000) - 1;
  const first = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + 1);
  const starts = Array.from({ length: count }, () => new Date(first + Math.floor(Math.random() * days) * 86_400_000));
  return measureReads(context, starts, async (since) => {
    let rows = 0;
    for await (const record of exportAccessLog(context.db, { since, until: new Date(since.getTime() + 86_400_000) })) rows += record.seq > 0 ? 1 : 0;
    return rows;
  });
}

/** `log verify`'s walk of one chain (hashes, links, subject index), as `verifyAccessLog` does it per chain. */
export async function measureChainWalk(
  context: MeasureContext,
  chainId: string,
): Promise<{ entries: number; ms: number; msPerMillion: number; nodeCpuMsPerMillion: number; dbCpuMsPerMillion: number; problems: number }> {
  const before = await readDatabaseCpu(context.pool, context.database);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const walk = await context.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => walkChainEntries(trx, { chainId, start: await readWalkStart(trx, chainId), anchors: [], finalAnchor: undefined, coveredSize: 0, pageSize: 1_000, signal: undefined }));
  const ms = performance.now() - started;
  const node = process.cpuUsage(nodeBefore);
  const cpu = cpuMsSince(before, await readDatabaseCpu(context.pool, context.database));
  const perMillion = (value: number) => (value * 1e6) / Math.max(1, walk.entries);
  return { entries: walk.entries, ms, msPerMillion: perMillion(ms), nodeCpuMsPerMillion: perMillion((node.user + node.system) / 1_000), dbCpuMsPerMillion: (cpu * 1e6) / Math.max(1, walk.entries), problems: walk.problems.length };
}

/** Appends city-mix single lookups through the real writer (group commit, tree nodes, checkpoints) at `concurrency` for `seconds`, on a chain of its own. */
export async function measureAppend(context: MeasureContext, concurrency: number, seconds: number): Promise<{ entriesPerSecond: number; dbCpuMsPerEntry: number; p50Ms: number; p99Ms: number }> {
  const writer = createAccessLogWriter({ db: context.db, chainId: `append-${randomUUID().slice(0, 8)}` });
  await writer.ready();
  await Promise.all(Array.from({ length: 500 }, () => writer.append(cityEntry())));
  const latencies: number[] = [];
  const before = await readDatabaseCpu(context.pool, context.database);
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        await writer.append(cityEntry());
        latencies.push(performance.now() - begun);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  const cpu = cpuMsSince(before, await readDatabaseCpu(context.pool, context.database));
  await writer.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { entriesPerSecond: latencies.length / elapsed, dbCpuMsPerEntry: cpu / latencies.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

/** A single lookup of the generated city's mix: one bureau reading a citizen's record from another. */
function cityEntry(): ReturnType<typeof sampleEntry> {
  const bureau = (n: number) => `bureau-${String(n).padStart(2, '0')}`;
  const consumer = 1 + Math.floor(CITY_BUREAUS * Math.random() ** 1.6);
  const provider = bureau(1 + ((consumer + Math.floor(Math.random() * (CITY_BUREAUS - 1))) % CITY_BUREAUS));
  return sampleEntry({
    consumerBureau: bureau(consumer),
    clientApp: `app-${bureau(consumer)}-0`,
    user: `officer-${consumer}-${Math.floor(Math.random() * 40)}`,
    agreementIds: [`agr-${bureau(consumer)}-${provider}`],
    providerBureaus: [provider],
    subjects: [{ kind: 'person', id: `P${String(Math.floor(Math.random() * CITY_PERSONS)).padStart(9, '0')}` }],
    rowCounts: { [provider]: 1 },
  });
}

/** Bytes on disk of a partitioned table's partitions: heap (with TOAST) and indexes, summed; rows as the last ANALYZE counted them. */
export async function measureTableBytes(db: Kysely<StoreSchema>, table: 'access_log' | 'access_log_subjects'): Promise<{ heapBytes: number; indexBytes: number; rows: number }> {
  const { rows } = await sql<{ heap: string; indexes: string; rows: string }>`
    select coalesce(sum(pg_table_size(t.relid)), 0) as heap, coalesce(sum(pg_indexes_size(t.relid)), 0) as indexes,
      coalesce(sum(greatest(c.reltuples, 0)), 0) as rows
    from pg_partition_tree(${table}::regclass) as t join pg_class as c on c.oid = t.relid where t.isleaf`.execute(db);
  return { heapBytes: Number(rows[0]!.heap), indexBytes: Number(rows[0]!.indexes), rows: Number(rows[0]!.rows) };
}
