import { sql, type Kysely } from 'kysely';

/**
 * Retention records, for each chain a detached month leaves, the chain's
 * Merkle frontier at the highest seq it took (issue 12): the hashes of the
 * perfect subtrees that make up the tree of entries 1..max_seq, as hex, in
 * `frontierRefs(max_seq)` order. `log verify` starts its walk of the
 * remaining entries from it, so the witnessed roots can still be recomputed
 * once old months are gone. Null for detachments made before this column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table access_log_detachments add column frontier jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table access_log_detachments drop column if exists frontier`.execute(db);
}
