import { sql, type Kysely } from 'kysely';

/**
 * Sharing agreements: the current version of each (`agreements`), the
 * append-only history of every step (`agreement_events`), and a one-row
 * counter of changes to the whole set (`agreement_set_version`).
 *
 * The counter is a row, not a sequence, on purpose: a sequence moves outside
 * transactions, so a reader could see its new value before the change it
 * counts is committed and then never look again. The row is bumped in the
 * same transaction as the change, and its row lock orders concurrent writers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agreements')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('version', 'integer', (column) => column.notNull().check(sql`version > 0`))
    .addColumn('consumer_bureau', 'text', (column) => column.notNull())
    .addColumn('consumer_app', 'text', (column) => column.notNull())
    .addColumn('provider_bureau', 'text', (column) => column.notNull())
    .addColumn('fields', 'jsonb', (column) => column.notNull())
    .addColumn('masks', 'jsonb', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('legal_basis', 'text', (column) => column.notNull())
    .addColumn('row_scope', 'text', (column) => column.notNull().check(sql`row_scope in ('ANY', 'SELF')`))
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('valid_from', 'timestamptz', (column) => column.notNull())
    .addColumn('valid_until', 'timestamptz', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull().check(sql`status in ('DRAFT', 'PENDING', 'ACTIVE', 'REVOKED', 'EXPIRED', 'REJECTED')`))
    .addColumn('requested_by', 'text', (column) => column.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('reply_by', 'timestamptz')
    .addColumn('rejection_reason', 'text')
    .addColumn('revocation_reason', 'text')
    .addColumn('disclosure_delay_days', 'integer')
    .addColumn('disclosure_delay_reason', 'text')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .addCheckConstraint('agreements_window', sql`valid_from < valid_until`)
    // The requester never approves: held here too, whatever code writes the row.
    .addCheckConstraint('agreements_separation_of_duties', sql`approved_by is null or approved_by <> requested_by`)
    .execute();
  await db.schema.createIndex('agreements_provider_status').on('agreements').columns(['provider_bureau', 'status']).execute();
  await db.schema.createIndex('agreements_consumer_status').on('agreements').columns(['consumer_bureau', 'status']).execute();
  await db.schema.createIndex('agreements_created').on('agreements').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('agreements_active_until').on('agreements').column('valid_until').where(sql.ref('status'), '=', 'ACTIVE').execute();

  await db.schema
    .createTable('agreement_events')
    .addColumn('id', 'integer', (column) => column.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('agreement_id', 'text', (column) => column.notNull().references('agreements.id'))
    .addColumn('version', 'integer', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull().check(sql`action in ('CREATE', 'SUBMIT', 'APPROVE', 'REJECT', 'REVOKE', 'EXPIRE')`))
    .addColumn('actor_user', 'text', (column) => column.notNull())
    .addColumn('actor_bureau', 'text', (column) => column.notNull())
    .addColumn('actor_roles', 'jsonb', (column) => column.notNull())
    .addColumn('consumer_bureau', 'text', (column) => column.notNull())
    .addColumn('provider_bureau', 'text', (column) => column.notNull())
    .addColumn('at', 'timestamptz', (column) => column.notNull())
    .addColumn('reason', 'text')
    .addColumn('set_version', 'integer', (column) => column.notNull())
    .addColumn('snapshot', 'jsonb', (column) => column.notNull())
    // One event per version: a second writer of the same step fails here even if it got past the version check.
    .addUniqueConstraint('agreement_events_one_per_version', ['agreement_id', 'version'])
    .execute();
  await db.schema.createIndex('agreement_events_at').on('agreement_events').column('at').execute();
  await db.schema.createIndex('agreement_events_actor').on('agreement_events').columns(['actor_user', 'id']).execute();
  await db.schema.createIndex('agreement_events_provider').on('agreement_events').columns(['provider_bureau', 'id']).execute();
  await db.schema.createIndex('agreement_events_consumer').on('agreement_events').columns(['consumer_bureau', 'id']).execute();

  // History is evidence: refuse edits and deletions at the database, not only in code.
  await sql`
    create function agreement_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'agreement_events is append-only';
    end
    $$`.execute(db);
  await sql`create trigger agreement_events_no_update_or_delete before update or delete on agreement_events for each row execute function agreement_events_append_only()`.execute(db);
  await sql`create trigger agreement_events_no_truncate before truncate on agreement_events for each statement execute function agreement_events_append_only()`.execute(db);

  await db.schema
    .createTable('agreement_set_version')
    .addColumn('id', 'boolean', (column) => column.primaryKey().defaultTo(true).check(sql`id`))
    .addColumn('version', 'integer', (column) => column.notNull())
    .execute();
  await sql`insert into agreement_set_version (id, version) values (true, 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agreement_set_version').execute();
  await db.schema.dropTable('agreement_events').execute();
  await sql`drop function agreement_events_append_only()`.execute(db);
  await db.schema.dropTable('agreements').execute();
}
