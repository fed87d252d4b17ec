import { sql, type Kysely } from 'kysely';

/**
 * Agreement quotas (issue #13): the `quota` term's two limits as columns of
 * `agreements` (null: no limit of that kind; absent on agreements stored
 * before), and `agreement_quota_use`, one counter row per agreement, kind
 * and window (`policies/quota-window.ts`).
 *
 * A counter counts units leased by the replicas (`quota-store.ts`), which
 * spend them locally: it is a meter, not evidence (the access log is), so
 * the gateway may update it; old windows may be deleted by the operator.
 * SELECT, INSERT, UPDATE for `isthmus_gateway` where the role exists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists agreement_quota_use`.execute(db);
  await sql`alter table agreements drop column if exists quota_requests_per_minute, drop column if exists quota_records_per_day`.execute(db);
}

const UP: readonly string[] = [
  `alter table agreements
     add column quota_requests_per_minute integer check (quota_requests_per_minute > 0),
     add column quota_records_per_day integer check (quota_records_per_day > 0)`,
  `create table agreement_quota_use (
     agreement_id text not null references agreements (id),
     kind text not null check (kind in ('requestsPerMinute', 'recordsPerDay')),
     window_start timestamptz not null,
     used bigint not null check (used >= 0),
     primary key (agreement_id, kind, window_start)
   )`,
  `do $$ begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       grant select, insert, update on agreement_quota_use to isthmus_gateway;
     end if;
   exception when insufficient_privilege then
     raise notice 'agreement_quota_use: grant to isthmus_gateway not made (the migrating user may not grant it)';
   end $$`,
];
