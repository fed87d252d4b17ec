import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { CliCommand, CliIo } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';
import { loadConfig } from '../../config/config.ts';
import { openStore, type Store } from '../../store/store.ts';
import { StoreLockedError } from '../../store/store-error.ts';
import { verifyCommand, VERIFY_HELP, VERIFY_SYNOPSIS } from './log-command-verify.ts';
import { exportAccessLog } from '../../access-log/export-access-log.ts';
import { accessLogRecordJson } from '../../access-log/access-log-record.ts';

const USAGE = `usage: ${VERIFY_SYNOPSIS}
       isthmus log export --since <ISO date> [--until <ISO date>] --format jsonl

${VERIFY_HELP}export   streams entries that occurred in [since, until) as JSON lines to stdout.

The log is read from DATABASE_URL, or from the embedded database under
ISTHMUS_DATA_DIR. One process owns an embedded database at a time: while a
gateway runs on it, these commands are refused (exit 1) and say which
process holds it: stop the gateway first (or read entries through its admin
API, GET /admin/api/access-log).
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
  io.stderr.write(`isthmus log: ${sub.startsWith('-') ? `unknown option '${sub}'` : `unknown subcommand '${sub}'`}\n\n${USAGE}`);
  return 2;
};

async function verify(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(
    argv,
    {
      witness: { type: 'string', multiple: true },
      quorum: { type: 'string' },
      'log-keys': { type: 'string' },
      'require-witnesses': { type: 'boolean' },
      'tsa-ca': { type: 'string' },
      archive: { type: 'string' },
      database: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    io,
  );
  if (typeof args === 'number') return args;
  return verifyCommand(args, io, (run, env) => withStore(env ? { ...io, env } : io, 'verify', run));
}

async function exportLog(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, { since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, io);
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

/**
 * Opens the store the gateway would use, without migrating it. The
 * embedded store is locked like a gateway locks it: while a gateway runs on
 * it, this refuses before opening it, naming the gateway.
 */
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
  }
  let store: Store;
  try {
    store = await openStore(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl, poolSize: 2 } : { kind: 'pglite', dataDir: config.dataDir });
  } catch (error) {
    if (!(error instanceof StoreLockedError)) throw error;
    // Reading entries works through the running gateway; verifying needs the database itself.
    const api = name === 'export' && error.holder?.url ? `, or read the entries through its admin API at ${error.holder.url}/admin/api/access-log` : '';
    io.stderr.write(`isthmus log ${name}: ${error.message} (${error.code}). The embedded store allows one process at a time: stop that gateway and run this again${api}.\n`);
    return 1;
  }
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

function parse(argv: readonly string[], options: ParseArgsOptionsConfig, io: CliIo): Record<string, string | boolean | readonly string[] | undefined> | number {
  try {
    const values = parseCliArgs(argv, options).values as Record<string, string | boolean | readonly string[] | undefined>;
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    return values;
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`isthmus log: ${error.message}\n\n${USAGE}`);
    return 2;
  }
}

/** An ISO date or instant; `null` when malformed, undefined when absent. */
function instant(value: string | boolean | readonly string[] | undefined): Date | null | undefined {
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
