import type { CliIo } from '../cli-io.ts';
import type { ArchiveVerification } from '../../access-log/verify-archives.ts';

/** What `--archive` and `--database` add to the usage text of `log verify`. */
export const ARCHIVE_HELP = `         --archive   a folder of monthly archives (ISTHMUS_LOG_ARCHIVE_DIR, or a
                     copy): each one's signature by a pinned log key, its
                     entries file, every entry's hash and link, within and
                     across months, the chain of archives; with the database
                     (DATABASE_URL, ISTHMUS_DATA_DIR or --database), also that
                     the live log continues where the archives end, with no
                     seq missing from both or held by both. Without a
                     database: offline, the archives only.
         --database  with --archive: the postgres:// URL of the database.
`;

/** Whether `log verify --archive` reads a database too: one named by flag, or set in the environment. */
export function archiveWithDatabase(args: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): boolean {
  return typeof args.database === 'string' || Boolean(env.DATABASE_URL) || (Boolean(env.ISTHMUS_DATA_DIR) && env.ISTHMUS_DATA_DIR !== ':memory:');
}

/** The archives' report in plain words: what was read, one line per problem and per month pending detach, the verdict. */
export function printArchiveReport(result: ArchiveVerification, io: CliIo, options: { readonly offline: boolean }): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const span = result.months.length === 0 ? 'no archive' : `${result.months.length} month${result.months.length === 1 ? '' : 's'} (${result.months[0]}${result.months.length > 1 ? ` to ${result.months.at(-1)}` : ''})`;
  out(`archives ${result.dir}: ${span}, ${result.entries} entries`);
  for (const chain of result.chains) out(`archived chain ${chain.chainId}: up to seq ${chain.lastSeq} (${chain.month})`);
  for (const p of result.problems) {
    const where = [`month=${p.month}`, p.chainId ? `chain=${p.chainId}` : undefined, p.seq > 0 ? `seq=${p.seq}` : undefined, p.entryId ? `entry=${p.entryId}` : undefined];
    out(`${p.kind} ${where.filter(Boolean).join(' ')}: ${p.detail}`);
  }
  for (const pending of result.pendingDetach) {
    out(`pending detach: chain ${pending.chainId} seq ${pending.fromSeq}–${pending.toSeq} are archived (up to ${pending.month}) and still in the database, the same entries: the next retention run reuses the archive and detaches them`);
  }
  out(result.problems.length === 0 ? `ok: archives intact${options.offline ? '' : ', and the live log continues where they end'}` : `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in the archives`);
  if (options.offline) io.stderr.write('note: offline: no database was read (set DATABASE_URL or pass --database to check that the live log continues where the archives end); a last month\'s archive removed shows only then\n');
  if (result.keySource === 'none') io.stderr.write('note: no pinned log keys (pass --log-keys): archive signatures were not checked\n');
}
