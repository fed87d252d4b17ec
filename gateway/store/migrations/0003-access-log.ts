import { sql, type Kysely } from 'kysely';

/**
 * The access log (issue #4): append-only tables, monthly partitions, and a
 * role that can only add to them.
 *
 * - `access_log` and `access_log_subjects` are range-partitioned by month on
 *   `occurred_at` (UTC months). Partitions are created by
 *   `access_log_ensure_partition(month)`, which this migration calls for the
 *   current and the next month and the writer calls as months turn
 *   (`ensurePartitions`). Retention detaches whole months; nothing is deleted.
 * - `access_log_subjects` is partitioned too, rather than one global index
 *   table: its rows must leave with their entries' month, and a citizen's
 *   query carries a time range that prunes partitions.
 * - A trigger refuses UPDATE and DELETE (row level, so it is cloned onto every
 *   partition) and TRUNCATE (statement level, added to each partition as it
 *   is created) on every log table. It guards against mistakes and a
 *   compromised gateway; a superuser can still disable it, which is what the
 *   hash chain and the signed checkpoints are for.
 * - The role `isthmus_log_writer` (NOLOGIN) gets INSERT and SELECT on the log
 *   tables and nothing else. The gateway writes the log under it
 *   (`SET LOCAL ROLE` inside each log transaction) when the role exists and
 *   the gateway's user may assume it. CREATE ROLE needs CREATEROLE: when the
 *   migrating user lacks it the role is skipped with a notice, and the writer
 *   writes as the gateway's own user. PGlite (single-user, superuser) does
 *   support roles and privileges, so the role is created there too.
 * - `gateway_instances.stopped_at`: set by the log writer's `close()` in the
 *   same transaction as the chain's final checkpoint, so the verifier can
 *   tell a chain that was cut from a process that crashed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
  // Partitions for now and the next month, so a fresh database accepts entries at once.
  await sql`select access_log_ensure_partition(now())`.execute(db);
  await sql`select access_log_ensure_partition(now() + interval '1 month')`.execute(db);
  for (const statement of ROLE) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The role is cluster-wide and may serve other databases: it stays.
  for (const table of ['access_log_detachments', 'access_log_keys', 'access_log_chains', 'access_log_checkpoints', 'access_log_subjects', 'access_log']) {
    await sql`drop table if exists ${sql.id(table)} cascade`.execute(db);
  }
  await sql`drop function if exists access_log_ensure_partition(timestamptz)`.execute(db);
  await sql`drop function if exists access_log_refuse_change()`.execute(db);
  await sql`alter table gateway_instances drop column if exists stopped_at`.execute(db);
}

const LOG_TABLES = ['access_log', 'access_log_subjects', 'access_log_checkpoints', 'access_log_chains', 'access_log_keys', 'access_log_detachments'];

const UP: readonly string[] = [
  `create function access_log_refuse_change() returns trigger language plpgsql as $$
   begin
     raise exception 'the access log is append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,

  `create table access_log (
     id uuid not null,
     occurred_at timestamptz not null,
     chain_id text not null,
     seq bigint not null check (seq > 0),
     prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
     hash text not null check (hash ~ '^[0-9a-f]{64}$'),
     request_id text not null,
     action text not null check (action in ('READ', 'LOG_READ')),
     consumer_bureau text not null,
     client_app text not null,
     user_id text,
     roles jsonb not null,
     citizen text,
     purpose text,
     case_id text,
     agreement_ids jsonb not null,
     provider_bureaus jsonb not null,
     fields_requested jsonb not null,
     fields_returned jsonb not null,
     denied jsonb not null,
     subjects jsonb not null,
     row_counts jsonb not null,
     upstream_errors jsonb not null,
     duration_ms double precision not null,
     operation_hash text not null,
     operation_name text,
     outcome text not null check (outcome in ('ALLOWED', 'PARTIAL', 'DENIED', 'FAILED')),
     hidden_until timestamptz,
     hidden_reason text,
     check ((hidden_until is null) = (hidden_reason is null)),
     primary key (id, occurred_at)
   ) partition by range (occurred_at)`,
  // A unique (chain_id, seq) is impossible on a partitioned table without the
  // partition key; one writer per chain plus the verifier's seq check stand in for it.
  `create index access_log_chain_seq on access_log (chain_id, seq)`,
  `create index access_log_time on access_log (occurred_at, id)`,
  `create index access_log_consumer_time on access_log (consumer_bureau, occurred_at, id)`,
  `create index access_log_providers on access_log using gin (provider_bureaus jsonb_path_ops)`,

  `create table access_log_subjects (
     entry_id uuid not null,
     occurred_at timestamptz not null,
     subject_kind text not null check (subject_kind in ('person', 'enterprise')),
     subject_id text not null,
     primary key (entry_id, subject_kind, subject_id, occurred_at)
   ) partition by range (occurred_at)`,
  `create index access_log_subjects_subject on access_log_subjects (subject_kind, subject_id, occurred_at, entry_id)`,

  `create table access_log_checkpoints (
     chain_id text not null,
     seq bigint not null check (seq >= 0),
     hash text not null check (hash ~ '^[0-9a-f]{64}$'),
     jws text not null,
     signed_at timestamptz not null,
     kid text not null,
     final boolean not null,
     primary key (chain_id, seq, final)
   )`,
  `create table access_log_chains (
     chain_id text primary key,
     started_at timestamptz not null
   )`,
  `create table access_log_keys (
     kid text primary key,
     public_jwk jsonb not null,
     first_used_at timestamptz not null
   )`,
  `create table access_log_detachments (
     partition_name text not null,
     chain_id text not null,
     max_seq bigint not null,
     max_seq_hash text not null,
     upper_bound timestamptz not null,
     detached_at timestamptz not null,
     primary key (partition_name, chain_id)
   )`,

  ...LOG_TABLES.flatMap((table) => [
    `create trigger ${table}_append_only before update or delete on ${table} for each row execute function access_log_refuse_change()`,
    `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function access_log_refuse_change()`,
  ]),

  // Months are UTC months, computed on timestamps without time zone so that
  // the session's TimeZone cannot shift a boundary. Two gateways may race to
  // create the same month: the loser's error is swallowed and the table is there.
  `create function access_log_ensure_partition(month timestamptz) returns void language plpgsql as $$
   declare
     lower_bound timestamp := date_trunc('month', month at time zone 'UTC');
     upper_bound timestamp := date_trunc('month', month at time zone 'UTC') + interval '1 month';
     suffix text := to_char(date_trunc('month', month at time zone 'UTC'), '"y"YYYY"m"MM');
     parent text;
     child text;
   begin
     foreach parent in array array['access_log', 'access_log_subjects'] loop
       child := parent || '_' || suffix;
       continue when to_regclass(quote_ident(child)) is not null;
       begin
         execute format('create table %I partition of %I for values from (%L) to (%L)',
           child, parent, to_char(lower_bound, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(upper_bound, 'YYYY-MM-DD') || ' 00:00:00+00');
         execute format('create trigger %I before truncate on %I for each statement execute function access_log_refuse_change()',
           child || '_no_truncate', child);
       exception when duplicate_table or duplicate_object or unique_violation then
         null;
       end;
     end loop;
   end $$`,

  `alter table gateway_instances add column stopped_at timestamptz`,
];

const ROLE: readonly string[] = [
  `do $$
   begin
     if not exists (select 1 from pg_roles where rolname = 'isthmus_log_writer') then
       begin
         create role isthmus_log_writer nologin;
       exception
         when insufficient_privilege then
           raise notice 'isthmus_log_writer not created (needs CREATEROLE); the access log is written as %', current_user;
           return;
         when duplicate_object or unique_violation then
           null; -- another database's migration created it at the same moment
       end;
     end if;
     execute 'grant select, insert on ${LOG_TABLES.join(', ')} to isthmus_log_writer';
     begin
       execute format('grant usage on schema %I to isthmus_log_writer', current_schema());
     exception when insufficient_privilege then
       raise notice 'usage on schema % not granted to isthmus_log_writer (it may already have it through PUBLIC)', current_schema();
     end;
     begin
       execute 'grant isthmus_log_writer to ' || quote_ident(current_user);
     exception when insufficient_privilege or invalid_grant_operation then
       raise notice '% may not assume isthmus_log_writer; the access log is written as %', current_user, current_user;
     end;
   end $$`,
];
