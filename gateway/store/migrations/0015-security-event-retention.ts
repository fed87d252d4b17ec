import { sql, type Kysely } from 'kysely';

/**
 * Retention of the security events (issue 13), and the console's record of
 * who read them.
 *
 * Level-3 protection keeps security logs at least six months; past their
 * retention they may go. The table stays append-only for the gateway's
 * login: it has no DELETE privilege, and the trigger of migration 0012 now
 * lets a DELETE through only inside `security_events_prune(before, max_rows)`,
 * a SECURITY DEFINER function owned by the migrating role (fixed
 * `search_path`, EXECUTE for `isthmus_gateway` only), which:
 *
 * - refuses a cutoff younger than 180 days by the database's own clock
 *   (the gateway's `MIN_SECURITY_EVENT_RETENTION_DAYS`): a compromised
 *   gateway cannot use it to erase recent refusals;
 * - deletes at most `max_rows` of the oldest rows before the cutoff, and
 *   returns how many, so a large backlog goes in short transactions.
 *
 * The trigger recognises the function by a transaction-local setting that
 * only the function sets *and* by the table owner being the current user
 * (true inside the definer function, false for the gateway's login): the
 * login setting the flag itself still gets no DELETE through. On PGlite the
 * one user owns everything, as for the access log's retention; the trigger
 * still refuses a plain DELETE there.
 *
 * Also: the console trail's actions gain `SECURITY_EVENTS_VIEW` and
 * `SECURITY_EVENTS_EXPORT` (an auditor or operator read the security events
 * page, or exported it), and the events get an index for the console's
 * filter by client address.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}

const CONSOLE_ACTIONS_0005 = `'SIGN_IN', 'SIGN_OUT', 'DECISION', 'EXPORT', 'VERIFY'`;

const UP: readonly string[] = [
  `create or replace function security_events_refuse_change() returns trigger language plpgsql as $$
   begin
     if tg_op = 'DELETE'
        and current_setting('isthmus.security_events_prune', true) = 'on'
        and current_user = (select pg_get_userbyid(relowner) from pg_class where oid = tg_relid) then
       return old;
     end if;
     raise exception 'security_events is append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,
  `create function security_events_prune(before timestamptz, max_rows integer) returns integer language plpgsql security definer as $$
   declare
     removed integer;
   begin
     if before is null or before > now() - interval '180 days' then
       raise exception 'security_events_prune: % is within the six months security events are kept', before
         using errcode = 'insufficient_privilege';
     end if;
     if max_rows is null or max_rows < 1 or max_rows > 100000 then
       raise exception 'security_events_prune: max_rows must be from 1 to 100000' using errcode = 'invalid_parameter_value';
     end if;
     perform set_config('isthmus.security_events_prune', 'on', true);
     delete from security_events where id in (
       select id from security_events where occurred_at < before order by occurred_at, id limit max_rows);
     get diagnostics removed = row_count;
     perform set_config('isthmus.security_events_prune', 'off', true);
     return removed;
   end $$`,
  `do $$ begin
     execute format('alter function security_events_prune(timestamptz, integer) set search_path = %I, pg_temp', current_schema());
   end $$`,
  `revoke execute on function security_events_prune(timestamptz, integer) from public`,
  `do $$
   begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       execute 'grant execute on function security_events_prune(timestamptz, integer) to isthmus_gateway';
     end if;
   exception when insufficient_privilege then
     raise notice 'security_events_prune not granted to isthmus_gateway; grant it execute by hand';
   end $$`,
  `create index security_events_address_time on security_events (client_address, occurred_at)`,
  `alter table console_audit drop constraint console_audit_action_check`,
  `alter table console_audit add constraint console_audit_action_check check (action in (${CONSOLE_ACTIONS_0005}, 'SECURITY_EVENTS_VIEW', 'SECURITY_EVENTS_EXPORT'))`,
];

const DOWN: readonly string[] = [
  `alter table console_audit drop constraint console_audit_action_check`,
  `alter table console_audit add constraint console_audit_action_check check (action in (${CONSOLE_ACTIONS_0005})) not valid`,
  `drop index if exists security_events_address_time`,
  `drop function if exists security_events_prune(timestamptz, integer)`,
  `create or replace function security_events_refuse_change() returns trigger language plpgsql as $$
   begin
     raise exception 'security_events is append-only: % on % refused', tg_op, tg_table_name
       using errcode = 'insufficient_privilege';
   end $$`,
];
