import type { Transaction } from 'kysely';
import type { AccessLogRecord } from './access-log-record.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/**
 * The "who read me" index rows of a page of entries, by entry id: what the
 * verifier compares with each entry's own (hashed) subjects, since a subject
 * removed from the index hides a read from the citizen. The page's time
 * range prunes partitions.
 */
export async function subjectIndex(trx: Transaction<StoreSchema>, records: readonly AccessLogRecord[]): Promise<ReadonlyMap<string, ReadonlySet<string>>> {
  const index = new Map<string, Set<string>>();
  if (records.length === 0) return index;
  const times = records.map((record) => record.entry.occurredAt.getTime());
  const rows = await trx
    .selectFrom('access_log_subjects')
    .select(['entry_id', 'subject_kind', 'subject_id'])
    .where(
      'entry_id',
      'in',
      records.map((record) => record.id),
    )
    .where('occurred_at', '>=', new Date(Math.min(...times)))
    .where('occurred_at', '<=', new Date(Math.max(...times)))
    .execute();
  for (const row of rows) {
    let subjects = index.get(row.entry_id);
    if (!subjects) index.set(row.entry_id, (subjects = new Set()));
    subjects.add(subjectKey(row.subject_kind, row.subject_id));
  }
  return index;
}

/** Whether an entry's index rows are exactly its subjects. */
export function sameSubjects(record: AccessLogRecord, indexed: ReadonlySet<string> | undefined): boolean {
  const listed = record.entry.subjects;
  if (!Array.isArray(listed)) return false;
  const expected = new Set(listed.map((subject) => subjectKey(subject?.kind, subject?.id)));
  const actual = indexed ?? new Set<string>();
  return expected.size === actual.size && [...expected].every((key) => actual.has(key));
}

/** The key `sameSubjects` compares an index row by: its kind and id. */
export function subjectKey(kind: unknown, id: unknown): string {
  return `${String(kind)}\u0000${String(id)}`;
}
