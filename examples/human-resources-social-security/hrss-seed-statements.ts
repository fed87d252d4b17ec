import {
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
  return statements;
}

function batches<T>(rows: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < rows.length; start += SEED_BATCH_ROWS) result.push(rows.slice(start, start + SEED_BATCH_ROWS));
  return result;
}
