import { sql, type Kysely } from 'kysely';

/**
 * The console's own audit trail (issue #10): one row per thing a person did
 * in the console — signed in, signed out, decided on an agreement, exported
 * the access log, ran the chains' verification — shown to auditors.
 *
 * Append-only as the access log's tables are (migration 0003): a trigger
 * refuses UPDATE, DELETE (row level) and TRUNCATE (statement level), and the
 * `isthmus_log_writer` role, where it exists, gets INSERT and SELECT on the
 * table and nothing else; the console writes under that role when the
 * gateway's user may assume it. The table is not partitioned: a console's
 * actions are a few thousand a day, not a read per request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists console_audit`.execute(db);
  await sql`drop function if exists console_audit_refuse_change()`.execute(db);
}

const UP: readonly string[] = [
  `create function console_audit_refuse_change() returns trigger language plpgsql as $$
   begin
     raise exception 'the console audit trail is append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,
  `create table console_audit (
     id uuid primary key,
     occurred_at timestamptz not null,
     action text not null check (action in ('SIGN_IN', 'SIGN_OUT', 'DECISION', 'EXPORT', 'VERIFY')),
     outcome text not null check (outcome in ('DONE', 'REFUSED')),
     bureau text not null,
     user_id text not null,
     roles jsonb not null,
     target text,
     detail jsonb not null,
     request_id text
   )`,
  `create index console_audit_time on console_audit (occurred_at, id)`,
  `create trigger console_audit_append_only before update or delete on console_audit for each row execute function console_audit_refuse_change()`,
  `create trigger console_audit_no_truncate before truncate on console_audit for each statement execute function console_audit_refuse_change()`,
  `do $$
   begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_log_writer') then
       execute 'grant select, insert on console_audit to isthmus_log_writer';
     end if;
   exception when insufficient_privilege then
     raise notice 'console_audit not granted to isthmus_log_writer; the console writes its trail as %', current_user;
   end $$`,
];
