import { sql, type Kysely } from 'kysely';

/**
 * An agreement may require reads under it to name their case file (issue 13):
 * `case_id_required`, and the case id's pattern `case_id_format` (checked at
 * submission, `policies/agreement-case-id.ts`). Agreements stored before
 * require none. The gateway's table grants on `agreements` cover the new
 * columns; the term is in every event's snapshot as the other terms are.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agreements add column case_id_required boolean not null default false, add column case_id_format text`.execute(db);
  await sql`alter table agreements add constraint agreements_case_id_format_needs_required check (case_id_format is null or case_id_required)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agreements drop constraint if exists agreements_case_id_format_needs_required, drop column if exists case_id_format, drop column if exists case_id_required`.execute(db);
}
