import { sql, type Kysely } from 'kysely';

/**
 * `access_log_timestamps` (issue #12): RFC 3161 timestamps of the access
 * log's checkpoints, one per checkpoint at most, written after the
 * checkpoint committed (`stampCheckpoint`). A token proves, by a third
 * party's clock, that the checkpoint's note existed no later than
 * `gen_time`; `log verify` checks each against the note in
 * `access_log_tree_checkpoints` (migration 0007) and the trusted TSA CA.
 *
 * - `token`: the DER TimeStampToken in base64, exactly as the TSA sent it
 *   (it is self-verifying; the other columns are for reading, not trust).
 * - `tsa`: the subject of the TSA's certificate.
 * - Append-only like every log table (`access_log_refuse_change`, migration
 *   0003); SELECT and INSERT for `isthmus_log_writer` and `isthmus_gateway`
 *   where those roles exist (they need CREATEROLE, see 0003 and 0006).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists access_log_timestamps`.execute(db);
}

const UP: readonly string[] = [
  `create table access_log_timestamps (
     chain_id text not null,
     number integer not null check (number >= 0),
     token text not null check (token ~ '^[A-Za-z0-9+/]+={0,2}$'),
     gen_time timestamptz not null,
     tsa text not null,
     primary key (chain_id, number)
   )`,
  `create trigger access_log_timestamps_append_only before update or delete on access_log_timestamps for each row execute function access_log_refuse_change()`,
  `create trigger access_log_timestamps_no_truncate before truncate on access_log_timestamps for each statement execute function access_log_refuse_change()`,
  `do $$ begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_log_writer') then
       grant select, insert on access_log_timestamps to isthmus_log_writer;
     end if;
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       grant select, insert on access_log_timestamps to isthmus_gateway;
     end if;
   exception when insufficient_privilege then
     raise notice 'access_log_timestamps: grants to the log roles not made (the migrating user may not grant them)';
   end $$`,
];
