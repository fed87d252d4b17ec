/** A column name the SQL connector will put in a query: lower-case snake_case. */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table or view, optionally schema-qualified: `insurance_accounts`, `hrss.insurance_accounts`. */
export const SQL_TABLE = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/**
 * The column a field reads when it has no `@column`: its name in snake_case
 * (`contributionMonths` → `contribution_months`, `line2Address` → `line2_address`).
 */
export function snakeCase(fieldName: string): string {
  return fieldName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
