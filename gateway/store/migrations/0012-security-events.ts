import { sql, type Kysely } from 'kysely';

/**
 * Security events (issue 13): one row per refusal an operator should see —
 * a refused token on any API, a `/graphql` request refused as a whole, an
 * admin or console action and its outcome — for auditors and operators.
 *
 * Evidence, so append-only as the console's trail is (migration 0005): a
 * trigger refuses UPDATE, DELETE and TRUNCATE, and the gateway's role gets
 * SELECT and INSERT only. Never a token, never a variable's value: the
 * columns have no room for them (`detail` holds only what the recorder puts
 * there, bounded by `security-events.ts`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists security_events`.execute(db);
  await sql`drop function if exists security_events_refuse_change()`.execute(db);
}

const UP: readonly string[] = [
  `create function security_events_refuse_change() returns trigger language plpgsql as $$
   begin
     raise exception 'security_events is append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,
  `create table security_events (
     id uuid primary key,
     occurred_at timestamptz not null,
     kind text not null check (kind in ('TOKEN_REFUSED', 'OPERATION_REFUSED', 'QUOTA_REFUSED', 'THROTTLED', 'ADMIN_ACTION', 'ACCESS_REFUSED')),
     reason text not null,
     outcome text not null check (outcome in ('DONE', 'REFUSED')),
     route text not null,
     request_id text,
     client_address text,
     bureau text,
     app text,
     user_id text,
     issuer text,
     subject text,
     key_id text,
     status integer,
     detail jsonb not null
   )`,
  `create index security_events_time on security_events (occurred_at, id)`,
  `create index security_events_kind_time on security_events (kind, occurred_at)`,
  `create trigger security_events_append_only before update or delete on security_events for each row execute function security_events_refuse_change()`,
  `create trigger security_events_no_truncate before truncate on security_events for each statement execute function security_events_refuse_change()`,
  `do $$
   begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       execute 'grant select, insert on security_events to isthmus_gateway';
     end if;
   exception when insufficient_privilege then
     raise notice 'security_events not granted to isthmus_gateway; grant it select and insert by hand';
   end $$`,
];
