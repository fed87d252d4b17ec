import { sql, type Kysely } from 'kysely';

/**
 * The access log as a Merkle tree per chain, with signed-note checkpoints
 * that witnesses cosign (issue 12, contract sections 1–2).
 *
 * - `access_log_tree_nodes`: the hash of every complete aligned subtree at
 *   levels 4, 8, 12, … (level L, index k covers leaves [k·2^L, (k+1)·2^L)),
 *   so proofs are served from a few rows instead of every entry. Level 0 is
 *   the entries themselves (leaf = SHA-256(0x00 || hash bytes)).
 * - `access_log_tree_checkpoints`: the chain's checkpoints, numbered 0, 1, 2…
 *   (#0 at start-up with size 0, `final` at clean shutdown), each the full
 *   signed note as the log signed it.
 * - `access_log_cosignatures`: the signature line(s) each witness returned.
 * - `access_log_note_keys`: every log note key that signed (convenience;
 *   verify trusts pinned keys, never this table).
 *
 * All four are append-only (the `access_log_refuse_change` trigger), with
 * SELECT and INSERT for `isthmus_log_writer` and `isthmus_gateway`, which
 * owns nothing. `access_log_append_tree` writes a batch's entries, their
 * subjects, the tree nodes the batch completed and, when one is due, the
 * checkpoint, in one statement (as `access_log_append` of 0004 does for the
 * hash chain); the old JWS checkpoints are no longer written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
  for (const statement of GRANTS) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists access_log_append_tree(text, jsonb, jsonb, jsonb, boolean, integer)`.execute(db);
  for (const table of TREE_TABLES) await sql`drop table if exists ${sql.id(table)} cascade`.execute(db);
}

/** The tables this migration adds. */
export const TREE_TABLES = ['access_log_tree_nodes', 'access_log_tree_checkpoints', 'access_log_cosignatures', 'access_log_note_keys'] as const;

const HEX = `~ '^[0-9a-f]{64}$'`;

const COLUMNS = `id, occurred_at, chain_id, seq, prev_hash, hash, request_id, action, consumer_bureau, client_app, user_id, roles,
  citizen, purpose, case_id, agreement_ids, provider_bureaus, fields_requested, fields_returned, denied, subjects, row_counts,
  upstream_errors, duration_ms, operation_hash, operation_name, outcome, hidden_until, hidden_reason`;

const COLUMN_TYPES = `id uuid, occurred_at timestamptz, chain_id text, seq bigint, prev_hash text, hash text, request_id text, action text,
  consumer_bureau text, client_app text, user_id text, roles jsonb, citizen text, purpose text, case_id text, agreement_ids jsonb,
  provider_bureaus jsonb, fields_requested jsonb, fields_returned jsonb, denied jsonb, subjects jsonb, row_counts jsonb,
  upstream_errors jsonb, duration_ms double precision, operation_hash text, operation_name text, outcome text,
  hidden_until timestamptz, hidden_reason text`;

/** The advisory lock class of the access log's chains (the writer's `CHAIN_LOCK_CLASS`). */
const CHAIN_LOCK_CLASS = 0x15_7a_10_6;

const UP: readonly string[] = [
  `create table access_log_tree_nodes (
     chain_id text not null,
     level smallint not null check (level > 0 and level % 4 = 0),
     idx bigint not null check (idx >= 0),
     hash text not null check (hash ${HEX}),
     primary key (chain_id, level, idx)
   )`,
  `create table access_log_tree_checkpoints (
     chain_id text not null,
     number integer not null check (number >= 0),
     size bigint not null check (size >= 0),
     root_hash text not null check (root_hash ${HEX}),
     note text not null,
     signed_at timestamptz not null,
     final boolean not null,
     primary key (chain_id, number)
   )`,
  `create table access_log_cosignatures (
     chain_id text not null,
     number integer not null,
     witness text not null,
     signature text not null,
     cosigned_at timestamptz not null,
     primary key (chain_id, number, witness)
   )`,
  `create table access_log_note_keys (
     vkey text primary key,
     first_used_at timestamptz not null
   )`,
  ...TREE_TABLES.flatMap((table) => [
    `create trigger ${table}_append_only before update or delete on ${table} for each row execute function access_log_refuse_change()`,
    `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function access_log_refuse_change()`,
  ]),

  `create function access_log_append_tree(chain text, entries jsonb, nodes jsonb, checkpoint jsonb, as_writer boolean, lock_timeout_ms integer)
   returns integer language plpgsql as $$
   declare
     added integer;
   begin
     perform set_config('lock_timeout', lock_timeout_ms::text, true);
     if as_writer then
       perform set_config('role', 'isthmus_log_writer', true);
     end if;
     perform pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}::int4, hashtext(chain));
     if exists (select 1 from jsonb_array_elements(entries) as entry where entry->>'chain_id' is distinct from chain) then
       raise exception 'access_log_append_tree: every entry must belong to chain %', chain using errcode = 'invalid_parameter_value';
     end if;
     with inserted as (
       insert into access_log (${COLUMNS})
       select ${COLUMNS} from jsonb_to_recordset(entries) as x(${COLUMN_TYPES})
       returning id, occurred_at, subjects
     ), subjects as (
       insert into access_log_subjects (entry_id, occurred_at, subject_kind, subject_id)
       select distinct inserted.id, inserted.occurred_at, subject.kind, subject.id
       from inserted cross join lateral jsonb_to_recordset(inserted.subjects) as subject(kind text, id text)
     )
     select count(*) into added from inserted;
     if nodes is not null and jsonb_array_length(nodes) > 0 then
       insert into access_log_tree_nodes (chain_id, level, idx, hash)
       select chain, n.level, n.idx, n.hash from jsonb_to_recordset(nodes) as n(level smallint, idx bigint, hash text);
     end if;
     if checkpoint is not null then
       insert into access_log_tree_checkpoints (chain_id, number, size, root_hash, note, signed_at, final)
       select chain, c.number, c.size, c.root_hash, c.note, c.signed_at, c.final
       from jsonb_to_record(checkpoint) as c(number integer, size bigint, root_hash text, note text, signed_at timestamptz, final boolean);
     end if;
     return added;
   end $$`,
];

const GRANTS: readonly string[] = [
  `do $$
   begin
     if exists (select 1 from pg_roles where rolname = 'isthmus_log_writer') then
       execute 'grant select, insert on ${TREE_TABLES.join(', ')} to isthmus_log_writer';
     end if;
     if exists (select 1 from pg_roles where rolname = 'isthmus_gateway') then
       execute 'grant select, insert on ${TREE_TABLES.join(', ')} to isthmus_gateway';
       execute 'grant execute on function access_log_append_tree(text, jsonb, jsonb, jsonb, boolean, integer) to isthmus_gateway';
     end if;
   exception when insufficient_privilege then
     raise notice 'grants on the log tree tables not given (the migrating user may not grant them)';
   end $$`,
];
