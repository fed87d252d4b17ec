import { existsSync, readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { CliIo } from '../cli-io.ts';
import { loadConfig } from '../../config/config.ts';
import { parseWitnessList, WitnessListInvalid, type WitnessConfig } from '../../access-log/witness-config.ts';
import { loadLogKeys, LogKeysUnreadable, LOG_KEYS_PATH, type PinnedLogKeys } from '../../access-log/verify-log-keys.ts';
import { DEFAULT_LOG_NAME } from '../../access-log/verify-witnessed.ts';
import { LOG_NOTE_KEY_HISTORY_FILE, LogNoteKeyError, readNoteVerifierKeys } from '../../access-log/log-tree-note-key.ts';
import { parseVerifierKey } from '../../../packages/isthmus-log-proofs/src/index.ts';
import { verifyAccessLog, type AccessLogVerification, type ChainReport } from '../../access-log/verify-access-log.ts';
import { readTrustedCertificates } from '../../access-log/timestamp-settings.ts';
import { verifyStoredTimestamps, type TimestampReport } from '../../access-log/timestamp-store.ts';
import type { Store } from '../../store/store.ts';
import { AccessLogArchiveDirError } from '../../access-log/access-log-error.ts';
import { verifyArchives, type ArchiveVerification } from '../../access-log/verify-archives.ts';
import { compareArchivesWithDatabase } from '../../access-log/verify-archives-database.ts';
import { ARCHIVE_HELP, archiveWithDatabase, printArchiveReport } from './log-command-archive.ts';

/** The synopsis line of `log verify`. */
export const VERIFY_SYNOPSIS = 'isthmus log verify [--witness <vkey>@<url>]… [--quorum <n>] [--log-keys <url or file>] [--require-witnesses] [--tsa-ca <file>] [--archive <dir> [--database <url>]] [--json]';

/** What `log verify` does and its flags, for the usage text. */
export const VERIFY_HELP = `verify   proves every chain of the access log against the checkpoints its
         witnesses cosigned, fetched from the witnesses (never from the
         database): each entry's hash and link, the Merkle tree's root at
         every witnessed size, the database's own checkpoints and their
         succession. Names the entry that was changed, moved or forged, the
         checkpoint that is missing or re-signed, and says how many entries
         no witnessed checkpoint covers yet. Exit 0: intact; 1: problems (or,
         with --require-witnesses, nothing proven); 2: bad usage.
         --witness   a witness's verifier key and URL (repeatable); default
                     ISTHMUS_WITNESSES. Without any, only the database's own
                     rows are compared: nothing is proven against evidence
                     outside the database.
         --quorum    how many witnesses must have cosigned a checkpoint for it
                     to cover entries; default ISTHMUS_WITNESS_QUORUM, or all.
         --log-keys  the gateway's log note keys, current and past: its
                     ${LOG_KEYS_PATH} URL or a copy of it in a file;
                     default the keys dir's ${LOG_NOTE_KEY_HISTORY_FILE} and
                     its note key files (access-log-note.key, .2.key, …).
         --require-witnesses  fail (exit 1) unless a quorum of witnesses was
                     read: what production should run.
         --tsa-ca    the CA certificates (PEM) of the RFC 3161 timestamp
                     authority: every stored timestamp of a checkpoint is
                     verified against its note; default ISTHMUS_TSA_CA_FILE.
${ARCHIVE_HELP}         --json      the whole report as JSON on stdout.
`;

/** `isthmus log verify`: runs with the store `withStore` opens; returns the exit code. */
export async function verifyCommand(
  args: Record<string, string | boolean | readonly string[] | undefined>,
  io: CliIo,
  withStore: (run: (store: Store) => Promise<number>, env?: Readonly<Record<string, string | undefined>>) => Promise<number>,
): Promise<number> {
  const fail = (message: string, code = 1) => {
    io.stderr.write(`isthmus log verify: ${message}\n`);
    return code;
  };
  let witnesses: WitnessConfig[];
  try {
    const flags = Array.isArray(args.witness) ? (args.witness as readonly string[]) : [];
    witnesses = parseWitnessList(flags.length > 0 ? flags.join(',') : (io.env.ISTHMUS_WITNESSES ?? ''));
  } catch (error) {
    if (!(error instanceof WitnessListInvalid)) throw error;
    return fail(`${error.message} (${error.code})${Array.isArray(args.witness) ? '' : ' in ISTHMUS_WITNESSES'}`, 2);
  }
  const quorumText = typeof args.quorum === 'string' ? args.quorum : io.env.ISTHMUS_WITNESS_QUORUM;
  const quorum = quorumText === undefined || quorumText === '' ? witnesses.length : /^\d+$/u.test(quorumText) ? Number(quorumText) : Number.NaN;
  if (!Number.isSafeInteger(quorum) || quorum > witnesses.length || (witnesses.length > 0 && quorum < 1)) {
    return fail(`the quorum must be a whole number from 1 to the ${witnesses.length} witnesses given`, 2);
  }

  let pinned: PinnedLogKeys | undefined;
  try {
    if (typeof args['log-keys'] === 'string') {
      pinned = await loadLogKeys(args['log-keys'], { signal: AbortSignal.timeout(60_000) });
    } else {
      const keysDir = loadConfig(io.env).keysDir;
      const history = keysDir === undefined ? undefined : join(keysDir, LOG_NOTE_KEY_HISTORY_FILE);
      if (history !== undefined && existsSync(history)) pinned = await loadLogKeys(history);
      // And the key files themselves: a key rotated into a read-only folder is in no history file yet.
      const files = keysDir === undefined ? [] : await readNoteVerifierKeys(keysDir);
      const known = new Set(pinned?.keys.map((key) => key.verifierKey));
      const added = files.filter((vkey) => !known.has(vkey)).map((vkey) => parseVerifierKey(vkey));
      if (added.length > 0) pinned = { ...pinned, keys: [...(pinned?.keys ?? []), ...added] };
    }
  } catch (error) {
    if (error instanceof LogNoteKeyError) return fail(`${error.message} (${error.code})`);
    if (!(error instanceof LogKeysUnreadable)) throw error;
    return fail(`${error.message} (${error.code})`);
  }
  const logName = io.env.ISTHMUS_LOG_NAME || pinned?.logName || DEFAULT_LOG_NAME;

  let tsaCas: X509Certificate[] | undefined;
  const tsaCaFile = typeof args['tsa-ca'] === 'string' ? args['tsa-ca'] : io.env.ISTHMUS_TSA_CA_FILE || undefined;
  if (tsaCaFile !== undefined) {
    try {
      tsaCas = readTrustedCertificates(readFileSync(tsaCaFile, 'utf8'));
    } catch (error) {
      const code = (error as { code?: string }).code;
      return fail(`the timestamp authority's CA file cannot be used (${code === 'ENOENT' ? 'no such file' : code ?? 'unreadable'})`, 2);
    }
  }

  let archives: ArchiveVerification | undefined;
  if (typeof args.archive === 'string') {
    if (typeof args.database === 'string' && !/^postgres(ql)?:\/\//u.test(args.database)) return fail('--database must be a postgres:// connection string', 2);
    try {
      archives = await verifyArchives(args.archive, { logKeys: pinned?.keys ?? [], signal: AbortSignal.timeout(30 * 60_000) });
    } catch (error) {
      if (!(error instanceof AccessLogArchiveDirError)) throw error;
      return fail(`${error.message} (${error.code})`);
    }
    if (!archiveWithDatabase(args, io.env)) {
      if (args.json === true) io.stdout.write(`${JSON.stringify({ archives }, null, 2)}\n`);
      else printArchiveReport(archives, io, { offline: true });
      return archives.problems.length > 0 ? 1 : 0;
    }
  } else if (args.database !== undefined) {
    return fail('--database goes with --archive (without it, set DATABASE_URL)', 2);
  }

  const env = typeof args.database === 'string' ? { ...io.env, DATABASE_URL: args.database } : undefined;
  return withStore(async (store) => {
    const result = await verifyAccessLog(store.db, { witnesses, quorum, logKeys: pinned?.keys ?? [], logName, signal: AbortSignal.timeout(30 * 60_000) });
    const stamps = tsaCas && (await verifyStoredTimestamps(store.db, tsaCas));
    const joined = archives && (await compareArchivesWithDatabase(store.db, archives));
    if (args.json === true) {
      const report = { ...result, ...(stamps && { timestamps: { ...stamps, latest: Object.fromEntries(stamps.latest) } }), ...(joined && { archives: joined }) };
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      printReport(result, io);
      if (stamps) printTimestamps(stamps, io);
      if (joined) printArchiveReport(joined, io, { offline: false });
    }
    if (result.problems.length > 0 || (stamps && stamps.problems.length > 0) || (joined && joined.problems.length > 0)) return 1;
    if (args['require-witnesses'] === true && !result.proven) return 1;
    return 0;
  }, env);
}

/** The report in plain words: one line per chain, one per problem, then the verdict and what was not proven. */
function printReport(result: AccessLogVerification, io: CliIo): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  for (const chain of result.chainReports) out(chainLine(chain));
  for (const p of result.problems) {
    const where = [p.chainId ? `chain=${p.chainId}` : undefined, p.seq > 0 ? `seq=${p.seq}` : undefined, p.entryId ? `entry=${p.entryId}` : undefined, p.checkpoint !== null ? `checkpoint=#${p.checkpoint}` : undefined];
    out(`${p.kind} ${where.filter(Boolean).join(' ')}: ${p.detail}`);
  }
  const broken = new Set(result.problems.map((p) => p.chainId).filter((id) => id !== '')).size;
  if (result.problems.length === 0) out(`ok: ${result.entries} entries in ${result.chains} chains`);
  else out(`${broken} of ${result.chains} chains have problems (${result.entries} entries checked)`);
  if (result.proven) {
    const names = result.witnesses.filter((w) => w.ok).map((w) => w.name);
    out(`proven against ${names.length} witness${names.length === 1 ? '' : 'es'} (${names.join(', ')}; quorum ${result.quorum}); ${result.uncoveredEntries} entries are not yet covered by a witnessed checkpoint`);
  } else if (result.witnesses.length === 0) {
    io.stderr.write(
      'note: no witness was asked (set ISTHMUS_WITNESSES or pass --witness): the entries were only compared with the database\'s own checkpoints, so nothing was proven against evidence outside the database\n',
    );
  } else {
    const away = result.witnesses.filter((w) => !w.ok).map((w) => `${w.name} (${w.error ?? 'unreadable'})`);
    io.stderr.write(`note: fewer than ${result.quorum} witnesses could be read (${away.join('; ')}): nothing was proven against a quorum of witnesses\n`);
  }
  if (result.keySource === 'none') io.stderr.write(`note: no pinned log keys (pass --log-keys or keep ${LOG_NOTE_KEY_HISTORY_FILE} in the keys dir): checkpoint signatures were not checked\n`);
  const legacy = result.chainReports.filter((chain) => chain.legacy).length;
  if (legacy > 0) io.stderr.write(`note: ${legacy} legacy chain${legacy === 1 ? '' : 's'} from before witnessed checkpoints: only the hash chain was checked, nothing there is covered\n`);
}

/** The RFC 3161 stamps: a line per bad token, then what was stamped. */
function printTimestamps(report: TimestampReport, io: CliIo): void {
  for (const p of report.problems) io.stdout.write(`${p.code} chain=${p.chainId} checkpoint=#${p.number}: ${p.message}\n`);
  const latest = [...report.latest.values()].sort((a, b) => b.genTime.getTime() - a.genTime.getTime())[0];
  io.stdout.write(
    `timestamps: ${report.stamped} of ${report.checkpoints} checkpoints carry a verified RFC 3161 stamp${latest ? ` (latest ${latest.genTime.toISOString()} by ${latest.tsa})` : ''}; ${report.unstamped} without one\n`,
  );
}

function chainLine(chain: ChainReport): string {
  const parts = [`chain ${chain.chainId}: ${chain.entries} entries (seq ${chain.retiredSeq + 1}–${chain.headSeq}${chain.retiredSeq > 0 ? `, 1–${chain.retiredSeq} retired` : ''})`];
  if (chain.legacy) parts.push('legacy: hash chain only, not covered');
  else if (chain.witnessedSize > 0 || chain.witnessedBy.length > 0) parts.push(`witnessed up to ${chain.witnessedSize} (cosigned by ${chain.witnessedBy.join(', ')})`);
  else parts.push('no witnessed checkpoint covers it');
  if (!chain.legacy) {
    parts.push(
      chain.uncoveredEntries === 0
        ? 'every entry covered'
        : `${chain.uncoveredEntries} not yet covered${chain.firstUncovered ? ` (from seq ${chain.firstUncovered.seq}, entry ${chain.firstUncovered.entryId})` : ''}`,
    );
  }
  parts.push(chain.lifecycle === 'stopped' ? 'stopped (final checkpoint witnessed)' : chain.lifecycle === 'started' ? 'no final checkpoint: crashed or still running' : 'start not witnessed');
  parts.push(chain.writer ? `written by ${chain.writer.hostname}, version ${chain.writer.version}, started ${chain.writer.startedAt.toISOString()}` : 'no gateway instance of this id is registered');
  return parts.join('; ');
}
