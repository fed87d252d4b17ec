import { sql, type Kysely } from 'kysely';

/**
 * Issue 13, agreement-pinned operations: an agreement may pin the documents
 * reads under it may run, by hash (`policies/agreement-operations.ts`).
 * `operations` is a jsonb array of 1 to 50 `sha256:<hex>` strings, or null
 * for an agreement that pins none (every agreement stored before). The
 * gateway's table grants on `agreements` cover the new column; the term is
 * in every event's snapshot as the other terms are.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agreements add column operations jsonb`.execute(db);
  await sql`alter table agreements add constraint agreements_operations_pinned check (
    operations is null or (jsonb_typeof(operations) = 'array' and jsonb_array_length(operations) between 1 and 50)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agreements drop constraint if exists agreements_operations_pinned, drop column if exists operations`.execute(db);
}
