import { sql, type Kysely } from 'kysely';

/**
 * `isthmus_gateway` (issue #12): the group role a gateway's own database
 * login is granted, so that the login the gateway runs as owns nothing.
 *
 * Migrations run as the tables' owner (`ISTHMUS_MIGRATION_DATABASE_URL`);
 * the gateway runs as a login the operator creates and grants this role
 * (`grant isthmus_gateway to <login>`). The role is NOLOGIN and holds exactly
 * what a gateway writes and reads, and no more:
 *
 * - the access log's tables and the console's audit trail: SELECT and INSERT
 *   (and membership of `isthmus_log_writer`, which the writer assumes for its
 *   inserts); never UPDATE, DELETE, TRUNCATE, TRIGGER or ownership, so it can
 *   neither edit rows nor alter the tables or disable their triggers;
 * - agreements and the set's version counter: SELECT, INSERT, UPDATE (an
 *   agreement's current row changes; its history in `agreement_events` is
 *   INSERT only);
 * - `gateway_instances`: SELECT, INSERT and UPDATE of `last_seen_at` and
 *   `stopped_at` only;
 * - kysely's migration tables: SELECT, so the gateway can check that no
 *   migration is pending.
 *
 * Two things the gateway does need an owner's rights: creating next month's
 * partitions and detaching months past retention. Both become SECURITY
 * DEFINER functions owned by the migrating role, with a fixed `search_path`
 * and EXECUTE for this role only. The detaching one refuses any month that is
 * not entirely older than six months (level-3 protection's minimum, the
 * gateway's `MIN_LOG_RETENTION_DAYS`), so a compromised gateway cannot use it
 * to move recent entries out of the log.
 *
 * CREATE ROLE needs CREATEROLE: when the migrating user lacks it the role is
 * skipped with a notice (as migration 0003 does for `isthmus_log_writer`),
 * and the start-up check (`checkStoreRole`) reports what the gateway's login
 * can do. Tables added by later migrations grant this role what the gateway
 * needs of them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The role is cluster-wide and may serve other databases: it stays, without this database's grants.
  await sql.raw(`do $$ begin
    if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
      execute format('revoke all on schema %I from isthmus_gateway', current_schema());
      revoke all on ${GATEWAY_TABLES.join(', ')} from isthmus_gateway;
      revoke execute on function access_log_ensure_partition(timestamptz), access_log_append(text, jsonb, jsonb, boolean, integer) from isthmus_gateway;
    end if;
  end $$`).execute(db);
  await sql`drop function if exists access_log_detach_partition(text, text)`.execute(db);
  await sql`alter function access_log_ensure_partition(timestamptz) security invoker`.execute(db);
  await sql`alter function access_log_ensure_partition(timestamptz) reset search_path`.execute(db);
}

const LOG_TABLES = ['access_log', 'access_log_subjects', 'access_log_checkpoints', 'access_log_chains', 'access_log_keys', 'access_log_detachments', 'console_audit'];
const GATEWAY_TABLES = [...LOG_TABLES, 'agreements', 'agreement_events', 'agreement_set_version', 'gateway_instances', 'kysely_migration', 'kysely_migration_lock'];

const UP: readonly string[] = [
  // Partitions are created by the owner, whoever calls: a partition the gateway's login created would be its own to drop.
  `alter function access_log_ensure_partition(timestamptz) security definer`,
  `do $$ begin
     execute format('alter function access_log_ensure_partition(timestamptz) set search_path = %I, pg_temp', current_schema());
   end $$`,
  `revoke execute on function access_log_ensure_partition(timestamptz) from public`,

  `create function access_log_detach_partition(parent text, child text) returns void language plpgsql security definer as $$
   declare
     upper_bound timestamptz;
   begin
     if parent not in ('access_log', 'access_log_subjects') then
       raise exception 'access_log_detach_partition: % is not a partitioned log table', parent using errcode = 'invalid_parameter_value';
     end if;
     select (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz into upper_bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass(quote_ident(parent)) and c.relname = child;
     if upper_bound is null then
       raise exception 'access_log_detach_partition: % is not a partition of %', child, parent using errcode = 'invalid_parameter_value';
     end if;
     -- Six months, as MIN_LOG_RETENTION_DAYS: the caller's clock and settings are not trusted with anything younger.
     if upper_bound > now() - interval '180 days' then
       raise exception 'access_log_detach_partition: % is within the six months the log keeps', child using errcode = 'insufficient_privilege';
     end if;
     execute format('alter table %I detach partition %I', parent, child);
   end $$`,
  `do $$ begin
     execute format('alter function access_log_detach_partition(text, text) set search_path = %I, pg_temp', current_schema());
   end $$`,
  `revoke execute on function access_log_detach_partition(text, text) from public`,

  `do $$
   begin
     if not exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       begin
         create role isthmus_gateway nologin;
       exception
         when insufficient_privilege then
           raise notice 'isthmus_gateway not created (needs CREATEROLE): give the gateway a login with the privileges listed in migration 0006';
           return;
         when duplicate_object or unique_violation then
           null; -- another database's migration created it at the same moment
       end;
     end if;
     execute format('grant usage on schema %I to isthmus_gateway', current_schema());
     grant select, insert on ${LOG_TABLES.join(', ')} to isthmus_gateway;
     grant select, insert, update on agreements, agreement_set_version to isthmus_gateway;
     grant select, insert on agreement_events to isthmus_gateway;
     grant select, insert, update (last_seen_at, stopped_at) on gateway_instances to isthmus_gateway;
     grant select on kysely_migration, kysely_migration_lock to isthmus_gateway;
     grant execute on function access_log_ensure_partition(timestamptz), access_log_detach_partition(text, text),
       access_log_append(text, jsonb, jsonb, boolean, integer) to isthmus_gateway;
     begin
       grant isthmus_log_writer to isthmus_gateway;
     exception when undefined_object or insufficient_privilege or invalid_grant_operation then
       raise notice 'isthmus_gateway is not a member of isthmus_log_writer; the gateway writes the log as its own login';
     end;
   end $$`,
];
