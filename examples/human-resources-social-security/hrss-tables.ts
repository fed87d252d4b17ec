/**
 * The tables of the human resources and social security bureau's database,
 * as kysely sees them. Column names are the ones schemas/human-resources-social-security
 * maps with `@sql` and `@column`.
 */
export interface HrssTables {
  insurance_accounts: InsuranceAccountsTable;
  enterprise_insurance_summary: EnterpriseInsuranceSummaryTable;
}

/** One row per insured person: 社会保险账户. */
export interface InsuranceAccountsTable {
  id_number: string;
  insured_status: string;
  contribution_months: number;
  employer_credit_code: string | null;
  /** numeric(12,2): `pg` reads it as a string, to keep the cents exact. */
  monthly_base_yuan: string | number;
}

/** One row per registered enterprise, whether or not anybody is insured there. */
export interface EnterpriseInsuranceSummaryTable {
  credit_code: string;
  /** Accounts with status ACTIVE whose employer is this enterprise. */
  insured_employee_count: number;
}
