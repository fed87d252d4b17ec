import { sql, type Kysely } from 'kysely';

/**
 * `access_log_append`: one batch of the access log — its entries, their
 * data subjects and, when one is due, the chain's signed checkpoint — in one
 * statement, and so in one round trip and one transaction of its own.
 *
 * The writer used to open a transaction and send five statements (BEGIN,
 * timeout and chain lock, role, insert, COMMIT). On the machines Isthmus is
 * measured on a round trip costs about as much CPU as hashing the entry, and
 * at concurrency 1 every request waited for all five (issue #5). The
 * function keeps every guarantee of that transaction:
 *
 * - `lock_timeout` bounds every lock wait in it (the chain's advisory lock,
 *   the partitions'), set first with `set_config(…, true)`, which a lock wait
 *   reads when it starts. (`statement_timeout` would not do: its timer is
 *   armed before the function runs.) The writer's own deadline bounds the
 *   wait for the answer.
 * - The chain's advisory lock (the class the writer used before, and the
 *   chain's `hashtext`), so a transaction whose COMMIT acknowledgement was
 *   lost has finished before the writer reads the chain's head back.
 * - `isthmus_log_writer`: when `as_writer` is true, the inserts run under the
 *   role (`set_config('role', …, true)` is `SET LOCAL ROLE`, checked by every
 *   later statement of the transaction), which may only INSERT and SELECT.
 *   The function is an ordinary SECURITY INVOKER one: it can do nothing its
 *   caller could not.
 *
 * The column list is written out here, as migration 0003 made the table; a
 * later change of columns brings its own migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(APPEND_FUNCTION).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists access_log_append(text, jsonb, jsonb, boolean, integer)`.execute(db);
}

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

const APPEND_FUNCTION = `
create function access_log_append(chain text, entries jsonb, checkpoint jsonb, as_writer boolean, lock_timeout_ms integer)
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
    raise exception 'access_log_append: every entry must belong to chain %', chain using errcode = 'invalid_parameter_value';
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
  if checkpoint is not null then
    -- A batch whose COMMIT was reported lost may have written this checkpoint already.
    insert into access_log_checkpoints (chain_id, seq, hash, jws, signed_at, kid, final)
    select chain, c.seq, c.hash, c.jws, c.signed_at, c.kid, false
    from jsonb_to_record(checkpoint) as c(seq bigint, hash text, jws text, signed_at timestamptz, kid text)
    on conflict do nothing;
  end if;
  return added;
end $$`;
