import {
  sql,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
} from 'kysely';
import type { City } from '../data/generate-city.ts';
import type { HrssTables } from './hrss-tables.ts';

/** Rows per INSERT: 5 parameters a row stays far below PostgreSQL's 65,535 per statement. */
export const SEED_BATCH_ROWS = 500;

/**
 * The statements that create and fill the bureau's tables for `city`:
 * `CREATE TABLE`s, then batched, parameterised `INSERT`s. Run them in order,
 * in one transaction, on an empty database.
 *
 * They are compiled rather than executed so that one definition seeds both
 * stores: a PostgreSQL server through `pg`, and PGlite through its own
 * `query(sql, params)` before any socket is open.
 *
 * @example
 * for (const { sql, parameters } of hrssSeedStatements(city)) await client.query(sql, [...parameters]);
 */
export function hrssSeedStatements(city: City): CompiledQuery[] {
  // A "cold" kysely: it only compiles PostgreSQL, it never connects.
  const db = new Kysely<HrssTables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });

  const statements: CompiledQuery[] = [
    db.schema
      .createTable('insurance_accounts')
      .addColumn('id_number', 'text', (column) => column.primaryKey())
      .addColumn('insured_status', 'text', (column) => column.notNull())
      .addColumn('contribution_months', 'integer', (column) => column.notNull())
      .addColumn('employer_credit_code', 'text')
      .addColumn('monthly_base_yuan', 'numeric(12, 2)', (column) => column.notNull())
      .compile(),
    db.schema
      .createTable('enterprise_insurance_summary')
      .addColumn('credit_code', 'text', (column) => column.primaryKey())
      .addColumn('insured_employee_count', 'integer', (column) => column.notNull())
      .compile(),
  ];

  const accounts = city.insuranceAccounts.map((account) => ({
    id_number: account.idNumber,
    insured_status: account.insuredStatus,
    contribution_months: account.contributionMonths,
    employer_credit_code: account.employerCreditCode,
    // A string, so that no float formatting decides the cents.
    monthly_base_yuan: account.monthlyBaseYuan.toFixed(2),
  }));
  for (const rows of batches(accounts)) statements.push(db.insertInto('insurance_accounts').values(rows).compile());

  // Precomputed rather than a view: the bureau publishes the count as data, and
  // every enterprise has a row, with 0 where nobody is insured.
  const insured = new Map<string, number>();
  for (const account of city.insuranceAccounts) {
    if (account.insuredStatus === 'ACTIVE' && account.employerCreditCode !== null) {
      insured.set(account.employerCreditCode, (insured.get(account.employerCreditCode) ?? 0) + 1);
    }
  }
  const summaries = city.enterprises.map((enterprise) => ({
    credit_code: enterprise.creditCode,
    insured_employee_count: insured.get(enterprise.creditCode) ?? 0,
  }));
  for (const rows of batches(summaries)) {
    statements.push(db.insertInto('enterprise_insurance_summary').values(rows).compile());
  }
  statements.push(...hrssAuditStatements().map((statement) => statement.compile(db)));
  return statements;
}

function batches<T>(rows: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < rows.length; start += SEED_BATCH_ROWS) result.push(rows.slice(start, start + SEED_BATCH_ROWS));
  return result;
}

/**
 * The bureau's own record of who read which insured persons through Isthmus
 * (查询留痕), kept by the bureau and not by the gateway:
 *
 * - `audit.isthmus_reads`: one row per insured person read, with the
 *   consumer bureau, app, user, purpose, case id, agreement ids and request
 *   id that the gateway's SQL connector sets for the read's transaction
 *   (`isthmus.consumer_bureau`, …; see `CONSUMER_SETTINGS` in
 *   gateway/graphql/use-consumer-identity.ts). A read made without them (a
 *   tool, the benchmark's bare stitching) is recorded with no consumer.
 * - `isthmus.insurance_accounts`: the view the gateway reads (the bureau's
 *   SDL maps `Person.socialInsurance` to it), every row of which passes
 *   through `audit.record_isthmus_read`. The function costs 10,000 so that
 *   PostgreSQL checks the gateway's `id_number in (…)` first and records only
 *   the rows it returns; it runs as its owner (`security definer`), so the
 *   gateway's login needs no right on the audit table.
 *
 * In their own schemas, so `public` holds the bureau's tables as they were.
 */
function hrssAuditStatements() {
  const setting = (name: string) => sql.raw(`nullif(current_setting('isthmus.${name}', true), '')`);
  return [
    sql`create schema audit`,
    sql`create table audit.isthmus_reads (
      id bigint generated always as identity primary key,
      read_at timestamptz not null default clock_timestamp(),
      consumer_bureau text,
      consumer_app text,
      consumer_user text,
      purpose text,
      case_id text,
      agreement_ids text[] not null default '{}',
      request_id text,
      table_name text not null,
      id_number text not null
    )`,
    sql`create function audit.record_isthmus_read(read_table text, read_id_number text) returns boolean
      language plpgsql volatile security definer cost 10000
      set search_path = pg_catalog, pg_temp
      as $$
      begin
        insert into audit.isthmus_reads (consumer_bureau, consumer_app, consumer_user, purpose, case_id, agreement_ids, request_id, table_name, id_number)
        values (${setting('consumer_bureau')}, ${setting('consumer_app')}, ${setting('consumer_user')}, ${setting('purpose')}, ${setting('case_id')},
                coalesce(string_to_array(${setting('agreement_ids')}, ','), '{}'), ${setting('request_id')}, read_table, read_id_number);
        return true;
      end
      $$`,
    sql`create schema isthmus`,
    sql`create view isthmus.insurance_accounts as
      select a.* from public.insurance_accounts a
       where audit.record_isthmus_read('insurance_accounts', a.id_number)`,
  ];
}

