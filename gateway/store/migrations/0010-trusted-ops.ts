import { sql, type Kysely } from 'kysely';

/**
 * Registered operations per client app (issue #13, trusted operations): one
 * row per change an operator made through the admin API — the app, its mode,
 * its whole manifest, who and when. The app's manifest now is its latest row.
 *
 * Append-only as the access log's and the console audit's tables are: which
 * documents an app could run, and since when, is evidence. A trigger refuses
 * UPDATE, DELETE and TRUNCATE; `isthmus_gateway` gets SELECT and INSERT only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists operation_manifests`.execute(db);
  await sql`drop function if exists operation_manifests_refuse_change()`.execute(db);
}

const UP: readonly string[] = [
  `create function operation_manifests_refuse_change() returns trigger language plpgsql as $$
   begin
     raise exception 'registered operations are append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,
  `create table operation_manifests (
     seq bigint generated always as identity primary key,
     bureau text not null,
     app text not null,
     mode text check (mode in ('off', 'log-unknown', 'require')),
     manifest jsonb not null,
     changed_by text not null,
     changed_at timestamptz not null
   )`,
  `create index operation_manifests_app on operation_manifests (bureau, app, seq desc)`,
  `create trigger operation_manifests_append_only before update or delete on operation_manifests for each row execute function operation_manifests_refuse_change()`,
  `create trigger operation_manifests_no_truncate before truncate on operation_manifests for each statement execute function operation_manifests_refuse_change()`,
  `do $$
   begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       grant select, insert on operation_manifests to isthmus_gateway;
     end if;
   exception when insufficient_privilege then
     raise notice 'operation_manifests not granted to isthmus_gateway';
   end $$`,
];
