import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import { monthOf } from './ensure-partitions.ts';
import { archiveProblem, type ArchiveProblem } from './archive-report.ts';
import type { ArchiveVerification, ArchivedChainTail, PendingDetach } from './verify-archives.ts';

/**
 * Checks that the live log continues exactly where the archives end, chain
 * by chain, in one REPEATABLE READ, READ ONLY snapshot. With D the last seq
 * retention detached from a chain (`access_log_detachments`) and A the last
 * seq its archives hold:
 *
 * - A < D: entries A+1..D were detached and are in no archive — missing
 *   from both: `ARCHIVE_GAP` (a last month's archive removed shows here).
 * - A = D: the database's record of the detached entry D must be the
 *   archive's last entry (`ARCHIVE_EDITED` otherwise); the live walk of
 *   `verifyAccessLog` checks that entry D+1 links to it.
 * - A > D: entries D+1..A are archived and still attached — a run that
 *   archived a month and stopped before detaching it. If the database's entry
 *   A is the archive's (same hash; the hash chains vouch for those below it)
 *   and D+1..A are all there, it is consistent: `pendingDetach`, and the next
 *   retention run reuses the archive and detaches the month. Otherwise the
 *   two hold other entries under one seq (`ARCHIVE_OVERLAP`), or the
 *   database has neither the entries nor a record of detaching them
 *   (`ARCHIVE_GAP`).
 *
 * @example
 * const offline = await verifyArchives(dir, { logKeys });
 * const joined = await compareArchivesWithDatabase(store.db, offline);
 */
export async function compareArchivesWithDatabase(db: Kysely<StoreSchema>, archives: ArchiveVerification): Promise<ArchiveVerification> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const { rows: detachments } = await sql<{ chain_id: string; max_seq: string | number; max_seq_hash: string; upper_bound: Date }>`
        select distinct on (chain_id) chain_id, max_seq, max_seq_hash, upper_bound from access_log_detachments order by chain_id, max_seq desc`.execute(trx);
      const detached = new Map(detachments.map((row) => [row.chain_id, { seq: Number(row.max_seq), hash: row.max_seq_hash, month: monthOf(new Date(new Date(row.upper_bound).getTime() - 1)) }]));
      const tails = new Map<string, ArchivedChainTail>(archives.chains.map((tail) => [tail.chainId, tail]));
      const problems: ArchiveProblem[] = [];
      const pendingDetach: PendingDetach[] = [];
      for (const chainId of [...new Set([...tails.keys(), ...detached.keys()])].sort()) {
        const tail = tails.get(chainId);
        const archived = tail?.lastSeq ?? 0;
        const retired = detached.get(chainId);
        const d = retired?.seq ?? 0;
        if (archived < d) {
          const span = archived + 1 === d ? `entry ${d} was` : `entries ${archived + 1}–${d} were`;
          problems.push(
            archiveProblem('ARCHIVE_GAP', retired!.month, {
              chainId,
              seq: archived + 1,
              detail: `${span} detached from chain ${chainId} (up to ${retired!.month}) and are in no archive${tail ? ` (its archives end at seq ${archived}, in ${tail.month})` : ''}: missing from both`,
            }),
          );
        } else if (archived === d) {
          if (tail && retired && tail.lastHash !== retired.hash) {
            problems.push(archiveProblem('ARCHIVE_EDITED', tail.month, { chainId, seq: d, detail: `the database recorded detaching entry ${d} of chain ${chainId} with another hash than its archive in ${tail.month} holds` }));
          }
        } else {
          const { rows } = await sql<{ hash: string; id: string }>`select hash, id from access_log where chain_id = ${chainId} and seq = ${archived}`.execute(trx);
          const { rows: counted } = await sql<{ count: string | number }>`
            select count(distinct seq) as count from access_log where chain_id = ${chainId} and seq > ${d} and seq <= ${archived}`.execute(trx);
          const present = Number(counted[0]?.count ?? 0);
          if (rows.length === 1 && rows[0]!.hash === tail!.lastHash && present === archived - d) {
            pendingDetach.push({ chainId, month: tail!.month, fromSeq: d + 1, toSeq: archived });
          } else if (rows.length > 0) {
            problems.push(
              archiveProblem('ARCHIVE_OVERLAP', tail!.month, {
                chainId,
                seq: archived,
                entryId: rows.find((row) => row.hash !== tail!.lastHash)?.id ?? null,
                detail: `seq ${archived} of chain ${chainId} is in its archive of ${tail!.month} and in the database, as another entry`,
              }),
            );
          } else {
            problems.push(
              archiveProblem('ARCHIVE_GAP', tail!.month, {
                chainId,
                seq: d + 1,
                detail: `the archives hold chain ${chainId} up to seq ${archived} (${tail!.month}); the database holds neither entry ${archived} nor a record of detaching it (it records up to seq ${d})`,
              }),
            );
          }
        }
      }
      return { ...archives, problems: [...archives.problems, ...problems], pendingDetach };
    });
}
