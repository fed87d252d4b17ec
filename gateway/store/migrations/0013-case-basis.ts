import { sql, type Kysely } from 'kysely';

/**
 * Issue 13, case ids and legal bases:
 *
 * - An agreement may require reads under it to name their case file:
 *   `case_id_required`, and the case id's pattern `case_id_format` (checked
 *   at submission, `policies/agreement-case-id.ts`). Agreements stored before
 *   require none. The gateway's table grants on `agreements` cover the new
 *   columns; the term is in every event's snapshot as the other terms are.
 * - Each access log entry records the agreements it used with their legal
 *   basis and purpose as they stood at the read (`agreements_used`, jsonb
 *   `[{ id, legalBasis, purpose }]`): an agreement's later version may
 *   cite another statute, and the entry is evidence of this read. Null on
 *   entries written before; they hash as they always did, since an absent
 *   field is left out of the hashed JSON. `access_log_append_tree` (0007)
 *   is replaced, same signature (so its grants stand), to insert the column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agreements add column case_id_required boolean not null default false, add column case_id_format text`.execute(db);
  await sql`alter table agreements add constraint agreements_case_id_format_needs_required check (case_id_format is null or case_id_required)`.execute(db);
  await sql`alter table access_log add column agreements_used jsonb`.execute(db);
  await sql.raw(appendTree(`${COLUMNS}, agreements_used`, `${COLUMN_TYPES}, agreements_used jsonb`)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(appendTree(COLUMNS, COLUMN_TYPES)).execute(db);
  await sql`alter table access_log drop column if exists agreements_used`.execute(db);
  await sql`alter table agreements drop constraint if exists agreements_case_id_format_needs_required, drop column if exists case_id_format, drop column if exists case_id_required`.execute(db);
}

/** 0007's column list, unchanged: a migration never imports another's internals, which must stay as applied. */
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

/** 0007's `access_log_append_tree`, inserting `columns`: identical otherwise. */
function appendTree(columns: string, types: string): string {
  return `create or replace function access_log_append_tree(chain text, entries jsonb, nodes jsonb, checkpoint jsonb, as_writer boolean, lock_timeout_ms integer)
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
       insert into access_log (${columns})
       select ${columns} from jsonb_to_recordset(entries) as x(${types})
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
   end $$`;
}
