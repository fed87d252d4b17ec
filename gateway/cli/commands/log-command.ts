import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { JWK } from 'jose';
import type { CliCommand, CliIo } from '../cli-io.ts';
import { loadConfig } from '../../config/config.ts';
import { openStore, type Store } from '../../store/store.ts';
import { verifyAccessLog } from '../../access-log/verify-access-log.ts';
import { exportAccessLog } from '../../access-log/export-access-log.ts';
import { accessLogRecordJson } from '../../access-log/access-log-record.ts';

const USAGE = `usage: isthmus log verify [--jwks <file>]
       isthmus log export --since <ISO date> [--until <ISO date>] --format jsonl

verify   walks every hash chain of the access log and checks its checkpoints;
         prints "ok: N entries in M chains" (exit 0) or the first problem of
         each broken chain with the entry id (exit 1).
         --jwks  the gateway's published public keys (a JWKS file): checkpoint
                 signatures are then checked against them rather than against
                 the keys recorded in the log's own database.
export   streams entries that occurred in [since, until) as JSON lines to stdout.

The log is read from DATABASE_URL, or from the embedded database under
ISTHMUS_DATA_DIR; the embedded database allows one process at a time, so
stop the gateway first.
`;

/** `isthmus log verify | export`: the operator's tools for the access log. */
export const logCommand: CliCommand = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'verify') return verify(rest, io);
  if (sub === 'export') return exportLog(rest, io);
  io.stderr.write(`isthmus log: unknown subcommand '${sub}'\n\n${USAGE}`);
  return 2;
};

async function verify(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, { jwks: { type: 'string' }, help: { type: 'boolean' } }, io);
  if (typeof args === 'number') return args;
  let trustedKeys: readonly JWK[] | undefined;
  if (typeof args.jwks === 'string') {
    try {
      const parsed = JSON.parse(readFileSync(args.jwks, 'utf8')) as { keys?: unknown } | unknown[];
      const keys = Array.isArray(parsed) ? parsed : parsed.keys;
      if (!Array.isArray(keys)) throw new Error('no keys');
      trustedKeys = keys as JWK[];
    } catch {
      io.stderr.write(`isthmus log verify: --jwks must name a readable JWKS file ({"keys": [...]})\n`);
      return 2;
    }
  }
  return withStore(io, 'verify', async (store) => {
    const result = await verifyAccessLog(store.db, { ...(trustedKeys && { trustedKeys }) });
    if (result.problems.length === 0) {
      io.stdout.write(`ok: ${result.entries} entries in ${result.chains} chains\n`);
      if (result.keySource === 'store') io.stderr.write('note: checkpoint signatures were checked against keys recorded in the database; pass --jwks to check them against the published keys\n');
      return 0;
    }
    for (const problem of result.problems) {
      io.stdout.write(`${problem.kind} chain=${problem.chainId} seq=${problem.seq} entry=${problem.entryId ?? '-'}: ${problem.detail}\n`);
    }
    io.stdout.write(`${result.problems.length} of ${result.chains} chains have problems (${result.entries} entries checked)\n`);
    return 1;
  });
}

async function exportLog(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, { since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean' } }, io);
  if (typeof args === 'number') return args;
  const since = instant(args.since);
  const until = args.until === undefined ? undefined : instant(args.until);
  if (!since || until === null || args.format !== 'jsonl') {
    io.stderr.write(`isthmus log export: --since <ISO date> and --format jsonl are required; --until, if given, must be an ISO date\n\n${USAGE}`);
    return 2;
  }
  return withStore(io, 'export', async (store) => {
    const lines: string[] = [];
    for await (const record of exportAccessLog(store.db, { since, ...(until && { until }) })) {
      lines.push(accessLogRecordJson(record));
      // One write per page-sized chunk, and wait for stdout to drain: memory stays at one chunk.
      if (lines.length >= 500) await write(io, lines.splice(0).join('\n') + '\n');
    }
    if (lines.length > 0) await write(io, lines.join('\n') + '\n');
    return 0;
  });
}

/** Opens the store the gateway would use, without migrating it; refuses a data dir a gateway holds. */
async function withStore(io: CliIo, name: string, run: (store: Store) => Promise<number>): Promise<number> {
  const config = loadConfig(io.env);
  if (!config.databaseUrl) {
    const dir = config.dataDir;
    if (dir === undefined) {
      io.stderr.write(`isthmus log ${name}: ISTHMUS_DATA_DIR is :memory:, so there is no access log to read; set DATABASE_URL or ISTHMUS_DATA_DIR\n`);
      return 1;
    }
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      io.stderr.write(`isthmus log ${name}: no embedded database in ${dir}; set DATABASE_URL or ISTHMUS_DATA_DIR\n`);
      return 1;
    }
    // PGlite keeps postmaster.pid while a process has the database open, and
    // does not stop a second process from opening it (which would corrupt it).
    if (existsSync(join(dir, 'postmaster.pid'))) {
      io.stderr.write(
        `isthmus log ${name}: the embedded database in ${dir} is locked: a gateway is using it (the embedded store allows one process at a time). ` +
          `Stop the gateway and run this again. If no gateway is running, one was not shut down cleanly: remove ${join(dir, 'postmaster.pid')}.\n`,
      );
      return 1;
    }
  }
  const store = await openStore(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl, poolSize: 2 } : { kind: 'pglite', dataDir: config.dataDir });
  try {
    const pending = await store.pending();
    if (pending.includes('0003-access-log')) {
      io.stderr.write(`isthmus log ${name}: this database has no access log yet (migration 0003-access-log is pending)\n`);
      return 1;
    }
    return await run(store);
  } finally {
    await store.close();
  }
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>, io: CliIo): Record<string, string | boolean | undefined> | number {
  try {
    const values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    return values;
  } catch (error) {
    io.stderr.write(`isthmus log: ${error instanceof Error ? error.message : 'bad arguments'}\n\n${USAGE}`);
    return 2;
  }
}

/** An ISO date or instant; `null` when malformed, undefined when absent. */
function instant(value: string | boolean | undefined): Date | null | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Writes and, when the stream says its buffer is full, waits for `drain` (bounded: a stuck stdout must not hang forever). */
async function write(io: CliIo, text: string): Promise<void> {
  const stdout = io.stdout as CliIo['stdout'] & { once?: (event: 'drain' | 'close' | 'error', listener: () => void) => unknown };
  const accepted = stdout.write(text);
  if (accepted !== false || typeof stdout.once !== 'function') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stdout did not drain within 60 s')), 60_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stdout.once!('drain', done);
    stdout.once!('close', done);
  });
}
