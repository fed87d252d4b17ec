import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import type { BureauDatabase } from '../bureau-server.ts';
import { generateCity } from '../data/generate-city.ts';
import { startHrssDatabase } from './hrss-database.ts';
import { isthmusReads } from './isthmus-reads.ts';

const city = generateCity({ seed: 13, persons: 700, enterprises: 90 });

// PGlite and the PostgreSQL server of DATABASE_URL (skipped without it). Each
// run creates its own database there, so this file never touches anyone else's.
describeEachStore('HRSS database on $name', ({ serverUrl }) => {
  let hrss: BureauDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    hrss = await startHrssDatabase({ city, serverUrl });
    // One connection: PGlite serves one at a time, and the gateway's manifest says the same.
    pool = new pg.Pool({ connectionString: hrss.url, max: 1, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    // Stopping the database kills idle connections; the pool reports that here, and the test expects it.
    pool.on('error', () => {});
  });

  afterAll(async () => {
    if (pool && !pool.ending) await pool.end();
    await hrss?.close();
  });

  it('gives a connection string for its own database', () => {
    if (serverUrl === undefined) expect(hrss.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    else expect(new URL(hrss.url).pathname).toMatch(/^\/hrss_[0-9a-f]{16}$/);
  });

  it('has the tables and columns the bureau schema maps', async () => {
    const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `select table_name, column_name, data_type, is_nullable,
              numeric_precision, numeric_scale
         from information_schema.columns
        where table_schema = 'public'
        order by table_name, ordinal_position`,
    );
    expect(rows).toEqual([
      { table_name: 'enterprise_insurance_summary', column_name: 'credit_code', data_type: 'text', is_nullable: 'NO', numeric_precision: null, numeric_scale: null },
      { table_name: 'enterprise_insurance_summary', column_name: 'insured_employee_count', data_type: 'integer', is_nullable: 'NO', numeric_precision: 32, numeric_scale: 0 },
      { table_name: 'insurance_accounts', column_name: 'id_number', data_type: 'text', is_nullable: 'NO', numeric_precision: null, numeric_scale: null },
      { table_name: 'insurance_accounts', column_name: 'insured_status', data_type: 'text', is_nullable: 'NO', numeric_precision: null, numeric_scale: null },
      { table_name: 'insurance_accounts', column_name: 'contribution_months', data_type: 'integer', is_nullable: 'NO', numeric_precision: 32, numeric_scale: 0 },
      { table_name: 'insurance_accounts', column_name: 'employer_credit_code', data_type: 'text', is_nullable: 'YES', numeric_precision: null, numeric_scale: null },
      { table_name: 'insurance_accounts', column_name: 'monthly_base_yuan', data_type: 'numeric', is_nullable: 'NO', numeric_precision: 12, numeric_scale: 2 },
    ]);
    const keys = await pool.query<{ table_name: string; column_name: string }>(
      `select k.table_name, k.column_name
         from information_schema.table_constraints c
         join information_schema.key_column_usage k using (constraint_schema, constraint_name)
        where c.constraint_type = 'PRIMARY KEY' and c.table_schema = 'public'
        order by k.table_name`,
    );
    expect(keys.rows).toEqual([
      { table_name: 'enterprise_insurance_summary', column_name: 'credit_code' },
      { table_name: 'insurance_accounts', column_name: 'id_number' },
    ]);
  });

  it('holds every insurance account of the city, to the cent', async () => {
    const { rows } = await pool.query<Record<string, unknown>>('select * from insurance_accounts order by id_number');
    const expected = [...city.insuranceAccounts]
      .sort((a, b) => (a.idNumber < b.idNumber ? -1 : 1))
      .map((account) => ({
        id_number: account.idNumber,
        insured_status: account.insuredStatus,
        contribution_months: account.contributionMonths,
        employer_credit_code: account.employerCreditCode,
        monthly_base_yuan: account.monthlyBaseYuan.toFixed(2),
      }));
    expect(rows).toHaveLength(city.insuranceAccounts.length);
    expect(rows).toEqual(expected);
  });

  it('summarises every enterprise, counting active insured employees and 0 where there are none', async () => {
    const { rows } = await pool.query<{ credit_code: string; insured_employee_count: number }>(
      'select credit_code, insured_employee_count from enterprise_insurance_summary',
    );
    expect(rows.map((row) => row.credit_code).sort()).toEqual(city.enterprises.map((e) => e.creditCode).sort());
    for (const row of rows) {
      const active = city.insuranceAccounts.filter(
        (account) => account.employerCreditCode === row.credit_code && account.insuredStatus === 'ACTIVE',
      ).length;
      expect(row.insured_employee_count, row.credit_code).toBe(active);
    }
    expect(rows.some((row) => row.insured_employee_count === 0)).toBe(true);
    expect(rows.some((row) => row.insured_employee_count > 0)).toBe(true);
  });

  it('answers a batched lookup by key, as the SQL connector asks', async () => {
    const ids = [city.insuranceAccounts[5]!.idNumber, '110105194912310021', city.insuranceAccounts[9]!.idNumber];
    const { rows } = await pool.query<{ id_number: string }>(
      'select id_number from insurance_accounts where id_number = any($1::text[]) order by id_number',
      [ids],
    );
    expect(rows.map((row) => row.id_number)).toEqual([ids[0], ids[2]].sort());
  });

  it('records who read which insured persons through its Isthmus view, from the transaction-local settings, and only the rows returned', async () => {
    const before = (await isthmusReads(hrss)).length;
    const ids = [city.insuranceAccounts[3]!.idNumber, '110105194912310021', city.insuranceAccounts[7]!.idNumber];
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `select set_config('isthmus.consumer_bureau', $1, true), set_config('isthmus.consumer_app', $2, true), set_config('isthmus.purpose', $3, true),
                set_config('isthmus.agreement_ids', $4, true), set_config('isthmus.request_id', $5, true)`,
        ['civil-affairs', 'allowance-review', 'minimum-living-allowance-review', 'agr-a,agr-b', 'req-hrss-1'],
      );
      const { rows } = await client.query<{ id_number: string }>('select id_number from isthmus.insurance_accounts where id_number in ($1, $2, $3)', ids);
      expect(rows.map((row) => row.id_number).sort()).toEqual([ids[0], ids[2]].sort());
      await client.query('commit');
      // Transaction-local: the next read on the same connection is nobody's.
      await client.query('select id_number from isthmus.insurance_accounts where id_number = $1', [ids[0]]);
    } finally {
      client.release();
    }
    const reads = (await isthmusReads(hrss)).slice(before);
    const consumer = { consumerBureau: 'civil-affairs', consumerApp: 'allowance-review', consumerUser: null, purpose: 'minimum-living-allowance-review', caseId: null, agreementIds: ['agr-a', 'agr-b'], requestId: 'req-hrss-1', tableName: 'insurance_accounts' };
    expect(reads.slice(0, 2).map((read) => read.idNumber).sort()).toEqual([ids[0], ids[2]].sort());
    expect(reads.slice(0, 2)).toEqual([expect.objectContaining(consumer), expect.objectContaining(consumer)]);
    expect(reads.slice(2)).toEqual([{ consumerBureau: null, consumerApp: null, consumerUser: null, purpose: null, caseId: null, agreementIds: [], requestId: null, tableName: 'insurance_accounts', idNumber: ids[0] }]);
  });

  it('refuses connections while stopped and serves the same data again after start', async () => {
    await hrss.stop();
    await expect(pool.query('select 1')).rejects.toThrow();
    await hrss.start();
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from insurance_accounts');
    expect(rows[0]!.n).toBe(city.insuranceAccounts.length);
  });

  it('is gone after close', async () => {
    await pool.end();
    await hrss.close();
    await hrss.close();
    const client = new pg.Client({ connectionString: hrss.url, connectionTimeoutMillis: 5_000 });
    await expect(client.connect()).rejects.toThrow(serverUrl === undefined ? /ECONNREFUSED/ : /does not exist/);
    await client.end().catch(() => {});
    await expect(hrss.start()).rejects.toThrow(/closed/);
  });
});
