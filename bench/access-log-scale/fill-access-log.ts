import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '../../gateway/store/store-schema.ts';
import { GENESIS_HASH } from '../../gateway/access-log/access-log-record.ts';

/** Bureaus of the generated city (`bureau-01` … `bureau-51`): each consumes and provides. */
export const CITY_BUREAUS = 51;
/** Citizens of the generated population, `P000000000` …: synthetic keys, never real identity numbers. */
export const CITY_PERSONS = 3_000_000;
/** Enterprises of the generated population, `E00000000` …. */
export const CITY_ENTERPRISES = 200_000;
/** Entries generated per statement: bounds each statement's memory and its time on a shared machine. */
export const DEFAULT_FILL_CHUNK = 200_000;

/** One generated chain: `entries` entries spread evenly in time over [from, until). */
export interface FillChain {
  readonly chainId: string;
  readonly entries: number;
  readonly from: Date;
  readonly until: Date;
}

/**
 * Fills the log with one chain of a city's entries, set-based (`INSERT …
 * SELECT generate_series`), chunk by chunk, as valid entries: each hash is
 * the writer's `hashAccessLogRecord`, reproduced in SQL — the canonical JSON
 * written out with its keys in the order `canonicalJson` sorts them (see
 * {@link entryCanonicalSql}), hashed by `sha256()` and chained by a window
 * aggregate over seq — so `log verify` checks generated chains as it checks
 * written ones. The chains carry no tree nodes or checkpoints (as a chain
 * written before the tree would not): those are the writer's, measured by
 * appending through it.
 *
 * The mix (issue 14): 92% single lookups (a fifth of them by a citizen app
 * about its own citizen, 10% about an enterprise), 5% lists of 10–100
 * persons, 3% denied with no subject; consumers skewed towards a few busy
 * bureaus, providers another bureau; times strictly increasing with seq.
 */
export async function fillChain(db: Kysely<StoreSchema>, chain: FillChain, chunk = DEFAULT_FILL_CHUNK): Promise<void> {
  await createChainAggregate(db);
  await db.insertInto('access_log_chains').values({ chain_id: chain.chainId, started_at: chain.from }).onConflict((c) => c.doNothing()).execute();
  const spanMs = chain.until.getTime() - chain.from.getTime();
  let prev = GENESIS_HASH;
  for (let first = 1; first <= chain.entries; first += chunk) {
    const last = Math.min(chain.entries, first + chunk - 1);
    const { rows } = await sql<{ hash: string }>`
      with b as materialized (
        select s as seq, gen_random_uuid() as id, gen_random_uuid()::text as request_id,
          date_trunc('milliseconds', ${chain.from}::timestamptz + (${spanMs}::float8 * (s - 1 + 0.9 * random()) / ${chain.entries}) * interval '1 millisecond') as at,
          random() as shape_draw, random() as app_draw, random() as kind_draw,
          1 + floor(${CITY_BUREAUS} * power(random(), 1.6))::int as cb, floor(random() * ${CITY_BUREAUS - 1})::int as pb_offset,
          floor(random() * ${CITY_PERSONS})::int as seed, 10 + floor(random() * 91)::int as list_size,
          floor(random() * 20)::int as op, (1 + floor(random() * 3000))::float8 / 10 as duration_ms
        from generate_series(${first}::int, ${last}::int) as s
      ), r as materialized (
        select b.*, 'bureau-' || lpad(cb::text, 2, '0') as consumer,
          'bureau-' || lpad((1 + (cb + pb_offset) % ${CITY_BUREAUS})::text, 2, '0') as provider,
          case when shape_draw < 0.92 then 'one' when shape_draw < 0.97 then 'list' else 'denied' end as shape,
          case when kind_draw < 0.1 then 'enterprise' else 'person' end as kind
        from b
      ), v as materialized (
        select r.*, shape = 'one' and kind = 'person' and app_draw < 0.2 as by_citizen,
          case when kind = 'enterprise' then 'E' || lpad((seed % ${CITY_ENTERPRISES})::text, 8, '0') else 'P' || lpad(seed::text, 9, '0') end as subject_id,
          case when shape = 'one' then '[{"id":"' || case when kind = 'enterprise' then 'E' || lpad((seed % ${CITY_ENTERPRISES})::text, 8, '0') else 'P' || lpad(seed::text, 9, '0') end || '","kind":"' || kind || '"}]'
               when shape = 'list' then (select '[' || string_agg('{"id":"P' || lpad(((seed + j * 7919) % ${CITY_PERSONS})::text, 9, '0') || '","kind":"person"}', ',' order by j) || ']' from generate_series(1, list_size) as j)
               else '[]' end as subjects_json,
          case when shape = 'list' then list_size when shape = 'one' then 1 else 0 end as rows_returned,
          encode(sha256(convert_to('query Op' || op, 'UTF8')), 'hex') as operation_hash
        from r
      ), e as materialized (
        select v.*, ${sql.raw(entryCanonicalSql())} as entry_json from v
      ), h as (
        select e.*, isthmus_bench_chain(
            '{"chainId":"' || ${chain.chainId} || '","entry":' || entry_json || ',"id":"' || id || '","layout":1,"prevHash":"',
            '","seq":' || seq || '}', ${prev}::text) over (order by seq) as hash
        from e
      ), linked as (
        select h.*, coalesce(lag(hash) over (order by seq), ${prev}::text) as prev_hash from h
      ), inserted as (
        insert into access_log (id, occurred_at, chain_id, seq, prev_hash, hash, request_id, action, consumer_bureau, client_app, user_id, roles,
          citizen, purpose, case_id, agreement_ids, provider_bureaus, fields_requested, fields_returned, denied, subjects, row_counts,
          upstream_errors, duration_ms, operation_hash, operation_name, outcome)
        select id, at, ${chain.chainId}, seq, prev_hash, hash, request_id, 'READ', consumer, ${sql.raw(COLUMN_SQL.clientApp)}, ${sql.raw(COLUMN_SQL.user)},
          (${sql.raw(COLUMN_SQL.roles)})::jsonb, ${sql.raw(COLUMN_SQL.citizen)}, ${sql.raw(COLUMN_SQL.purpose)}, ${sql.raw(COLUMN_SQL.caseId)},
          (${sql.raw(COLUMN_SQL.agreementIds)})::jsonb, ('["' || provider || '"]')::jsonb, (${sql.raw(COLUMN_SQL.fieldsRequested)})::jsonb,
          (${sql.raw(COLUMN_SQL.fieldsReturned)})::jsonb, (${sql.raw(COLUMN_SQL.denied)})::jsonb, subjects_json::jsonb, (${sql.raw(COLUMN_SQL.rowCounts)})::jsonb,
          '[]'::jsonb, duration_ms, operation_hash, 'Op' || op, ${sql.raw(COLUMN_SQL.outcome)}
        from linked
        returning id, occurred_at, seq, hash, subjects
      ), indexed as (
        insert into access_log_subjects (entry_id, occurred_at, subject_kind, subject_id)
        select inserted.id, inserted.occurred_at, subject.kind, subject.id
        from inserted cross join lateral jsonb_to_recordset(inserted.subjects) as subject(kind text, id text)
      )
      select hash from inserted order by seq desc limit 1`.execute(db);
    prev = rows[0]!.hash;
  }
}

/** Each entry field as an SQL text expression over the generated row, JSON already where the field is JSON. */
const COLUMN_SQL = {
  clientApp: `case when by_citizen then 'citizen-app' else 'app-' || consumer || '-' || (op % 3) end`,
  user: `case when by_citizen then null else 'officer-' || cb || '-' || (seed % 40) end`,
  roles: `case when by_citizen then '["citizen"]' else '["developer"]' end`,
  citizen: `case when by_citizen then subject_id end`,
  purpose: `(array['licence review','benefit eligibility','case handling','tax assessment','housing allocation'])[1 + op % 5]`,
  caseId: `case when by_citizen then null else 'CASE-' || cb || '-' || (seed % 100000) end`,
  agreementIds: `case when shape = 'denied' then '[]' else '["agr-' || consumer || '-' || provider || '"]' end`,
  fieldsRequested: `case when kind = 'enterprise' and shape = 'one' then '["Enterprise.legalRepresentative","Enterprise.name"]' when shape = 'denied' then '["Person.income"]' else '["Person.address","Person.name"]' end`,
  fieldsReturned: `case when kind = 'enterprise' and shape = 'one' then '[{"coordinate":"Enterprise.legalRepresentative","mask":"NAME"},{"coordinate":"Enterprise.name"}]' when shape = 'denied' then '[]' else '[{"coordinate":"Person.address"},{"coordinate":"Person.name","mask":"NAME"}]' end`,
  denied: `case when shape = 'denied' then '[{"coordinate":"Person.income","path":"person.income","reason":"NO_AGREEMENT"}]' else '[]' end`,
  rowCounts: `case when shape = 'denied' then '{}' else '{"' || provider || '":' || rows_returned || '}' end`,
  outcome: `case when shape = 'denied' then 'DENIED' else 'ALLOWED' end`,
} as const;

/**
 * The entry's canonical JSON (`canonicalJson(entryJson(entry))`) as one SQL
 * text expression: keys sorted as `Array#sort` sorts them, absent fields
 * left out, strings quoted plainly (every generated string is ASCII without
 * quotes or backslashes), `durationMs` in PostgreSQL's shortest float8 form,
 * which for tenths is JavaScript's too.
 */
export function entryCanonicalSql(): string {
  const quoted = (expression: string) => `'"' || ${expression} || '"'`;
  const fields: Readonly<Record<string, string>> = {
    action: `'"READ"'`,
    agreementIds: COLUMN_SQL.agreementIds,
    caseId: quoted(COLUMN_SQL.caseId),
    citizen: quoted(COLUMN_SQL.citizen),
    clientApp: quoted(COLUMN_SQL.clientApp),
    consumerBureau: quoted('consumer'),
    denied: COLUMN_SQL.denied,
    durationMs: `duration_ms::text`,
    fieldsRequested: COLUMN_SQL.fieldsRequested,
    fieldsReturned: COLUMN_SQL.fieldsReturned,
    occurredAt: quoted(`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`),
    operationHash: quoted('operation_hash'),
    operationName: quoted(`'Op' || op`),
    outcome: quoted(COLUMN_SQL.outcome),
    providerBureaus: `'["' || provider || '"]'`,
    purpose: quoted(COLUMN_SQL.purpose),
    requestId: quoted('request_id'),
    roles: COLUMN_SQL.roles,
    rowCounts: COLUMN_SQL.rowCounts,
    subjects: 'subjects_json',
    upstreamErrors: `'[]'`,
    user: quoted(COLUMN_SQL.user),
  };
  const keys = Object.keys(fields).sort();
  // A field whose value is null (a citizen app's user, an officer's citizen) drops out, key and comma: coalesce(',' || …, '').
  const parts = keys.map((key, index) => `coalesce('${index === 0 ? '' : ','}"${key}":' || (${fields[key]}), '')`);
  return `'{' || ${parts.join(' || ')} || '}'`;
}

/**
 * `isthmus_bench_chain(head, tail, start)`: the running hash of a chain, as
 * a window aggregate over seq: each row's hash is SHA-256 of head ‖ the
 * previous row's hash (`start` for the first) ‖ tail. Bench-only: created in
 * the scratch database, never by a migration.
 */
async function createChainAggregate(db: Kysely<StoreSchema>): Promise<void> {
  await sql
    .raw(
      `create or replace function isthmus_bench_chain_step(state text, head text, tail text, start text) returns text
       language sql immutable as $$ select encode(sha256(convert_to(head || coalesce(state, start) || tail, 'UTF8')), 'hex') $$`,
    )
    .execute(db);
  await sql.raw(`drop aggregate if exists isthmus_bench_chain(text, text, text)`).execute(db);
  await sql.raw(`create aggregate isthmus_bench_chain(text, text, text) (sfunc = isthmus_bench_chain_step, stype = text)`).execute(db);
}
