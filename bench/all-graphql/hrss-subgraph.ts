import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import { parse, type GraphQLSchema } from 'graphql';
import type pg from 'pg';

/**
 * The human resources and social security bureau as an Apollo Federation v2
 * subgraph: `Person.socialInsurance` and `Enterprise.insuredEmployeeCount`,
 * added to entities other bureaus own. `_hrssPersons` and `_hrssEnterprises`
 * are the stitching entry points (see the market supervision subgraph).
 */
export const HRSS_SUBGRAPH_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])

  type Query {
    _hrssPersons(idNumbers: [ID!]!): [Person]! @inaccessible
    _hrssEnterprises(creditCodes: [ID!]!): [Enterprise]! @inaccessible
  }

  type Person @key(fields: "idNumber") {
    idNumber: ID!
    socialInsurance: SocialInsurance
  }

  type Enterprise @key(fields: "creditCode") {
    creditCode: ID!
    insuredEmployeeCount: Int
  }

  type SocialInsurance {
    insuredStatus: String
    contributionMonths: Int
    employerCreditCode: ID
    monthlyBase: Float
  }
`;

/** What each request's resolvers share: one batching loader per table, so a list of N entities is one query. */
export interface HrssSubgraphContext {
  readonly accounts: DataLoader<string, SocialInsuranceRow | null>;
  readonly summaries: DataLoader<string, number | null>;
}

interface SocialInsuranceRow {
  readonly insuredStatus: string;
  readonly contributionMonths: number;
  readonly employerCreditCode: string | null;
  readonly monthlyBase: number;
}

/**
 * Builds the HRSS subgraph's schema. Its data is read from the same tables
 * the Isthmus SQL connector reads (`insurance_accounts`,
 * `enterprise_insurance_summary`), so the bureau's work per request matches
 * the mixed city's: one `where key = any(…)` query per table per request.
 *
 * @example
 * const yoga = createYoga({ schema: createHrssSubgraph(), context: () => createHrssLoaders(pool) });
 */
export function createHrssSubgraph(): GraphQLSchema {
  // The module form: its resolvers may name their context type.
  return buildSubgraphSchema([{
    typeDefs: parse(HRSS_SUBGRAPH_SDL),
    resolvers: {
      Query: {
        _hrssPersons: (_: unknown, args: { idNumbers: readonly string[] }) => args.idNumbers.map((idNumber) => ({ idNumber })),
        _hrssEnterprises: (_: unknown, args: { creditCodes: readonly string[] }) => args.creditCodes.map((creditCode) => ({ creditCode })),
      },
      Person: {
        __resolveReference: (reference: { idNumber: string }) => ({ idNumber: reference.idNumber }),
        socialInsurance: (person: { idNumber: string }, _: unknown, context: HrssSubgraphContext) => context.accounts.load(person.idNumber),
      },
      Enterprise: {
        __resolveReference: (reference: { creditCode: string }) => ({ creditCode: reference.creditCode }),
        insuredEmployeeCount: (enterprise: { creditCode: string }, _: unknown, context: HrssSubgraphContext) =>
          context.summaries.load(enterprise.creditCode),
      },
    },
  }]);
}

/**
 * One request's loaders over `pool`. Created per request so that nothing is
 * cached between requests, as the SQL connector caches nothing either.
 */
export function createHrssLoaders(pool: pg.Pool): HrssSubgraphContext {
  return {
    accounts: new DataLoader(async (keys: readonly string[]) => {
      const { rows } = await pool.query<{ id_number: string; insured_status: string; contribution_months: number; employer_credit_code: string | null; monthly_base_yuan: string }>(
        'select id_number, insured_status, contribution_months, employer_credit_code, monthly_base_yuan from insurance_accounts where id_number = any($1::text[])',
        [keys],
      );
      const byId = new Map(rows.map((row) => [row.id_number, row]));
      return keys.map((key) => {
        const row = byId.get(key);
        return row
          ? { insuredStatus: row.insured_status, contributionMonths: row.contribution_months, employerCreditCode: row.employer_credit_code, monthlyBase: Number(row.monthly_base_yuan) }
          : null;
      });
    }),
    summaries: new DataLoader(async (keys: readonly string[]) => {
      const { rows } = await pool.query<{ credit_code: string; insured_employee_count: number }>(
        'select credit_code, insured_employee_count from enterprise_insurance_summary where credit_code = any($1::text[])',
        [keys],
      );
      const byCode = new Map(rows.map((row) => [row.credit_code, row.insured_employee_count]));
      return keys.map((key) => byCode.get(key) ?? null);
    }),
  };
}
