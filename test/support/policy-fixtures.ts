import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  execute,
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { loadCatalogue } from '../../gateway/catalogue/load-catalogue.ts';
import type { Agreement } from '../../policies/agreement.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import { planOperation, type OperationPlan } from '../../policies/field-plan.ts';
import type { Principal } from '../../policies/principal.ts';

/**
 * Fixtures for the policy tests: the demo city's catalogue, the schema its
 * gateway serves to clients (merged types, merge-only roots hidden), and
 * builders for principals and agreements.
 */

/**
 * The client-facing schema of the demo city, as the stitched gateway serves
 * it, kept by hand so that the policy tests read without a gateway.
 * `policy-fixtures.test.ts` stitches `schemas/` as the gateway does and fails
 * when the two differ in any type or field a query can reach.
 */
export const DEMO_CLIENT_SDL = /* GraphQL */ `
  type Query {
    person(idNumber: ID!): Person
    persons(idNumbers: [ID!]!): [Person]!
    enterprise(creditCode: ID!): Enterprise
    enterprises(creditCodes: [ID!]!): [Enterprise]!
  }
  type Person {
    idNumber: ID!
    name: String
    gender: String
    birthDate: String
    address: String
    householdId: String
    enterprises: [Enterprise!]
    socialInsurance: SocialInsurance
  }
  type Enterprise {
    creditCode: ID!
    name: String
    legalRepresentativeId: ID
    status: String
    registeredCapital: Float
    establishedOn: String
    insuredEmployeeCount: Int
  }
  type SocialInsurance {
    insuredStatus: String
    contributionMonths: Int
    employerCreditCode: ID
    monthlyBase: Float
  }
`;

const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));

let schema: GraphQLSchema | undefined;
let catalogue: Catalogue | undefined;

/** The demo city's client-facing schema (built once per test file). */
export function demoClientSchema(): GraphQLSchema {
  schema ??= buildSchema(DEMO_CLIENT_SDL);
  return schema;
}

/** The demo city's catalogue, read from `schemas/` (once per test file). */
export function demoCatalogue(): Catalogue {
  catalogue ??= loadCatalogue({ dir: SCHEMAS, env: {} }).catalogue;
  return catalogue;
}

/** A fixed clock for decisions. */
export const NOW = new Date('2026-03-01T08:00:00Z');

/** Resident ID numbers of the demo fixtures. */
export const CITIZEN = '330402198203151234';
export const OTHER_PERSON = '330411199001012345';
export const CREDIT_CODE = '91330402MA2B3C4D5E';

export const PUBLIC_SECURITY = 'public-security';
export const MARKET_SUPERVISION = 'market-supervision';
export const HRSS = 'human-resources-social-security';

/** A developer of market supervision's licensing app, with no scopes. */
export function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    issuer: 'https://id.city.example',
    subject: 'dev-1',
    bureau: MARKET_SUPERVISION,
    app: 'licensing-app',
    roles: ['developer'],
    scopes: [],
    expiresAt: Math.floor(NOW.getTime() / 1000) + 3600,
    ...overrides,
  };
}

/** An active agreement of public security with market supervision's licensing app for `Person.name`, in force around {@link NOW}. */
export function agreement(overrides: Partial<Agreement> = {}): Agreement {
  return {
    id: 'agr-ps-ms-1',
    version: 1,
    consumerBureau: MARKET_SUPERVISION,
    consumerApp: 'licensing-app',
    providerBureau: PUBLIC_SECURITY,
    fields: ['Person.name'],
    masks: {},
    purpose: 'business-licensing',
    legalBasis: '《市场主体登记管理条例》第十条',
    rowScope: 'ANY',
    scope: 'ps.person.basic',
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2027-01-01T00:00:00Z',
    status: 'ACTIVE',
    requestedBy: 'dev-1',
    approvedBy: 'officer-7',
    createdAt: '2025-12-01T00:00:00Z',
    updatedAt: '2025-12-15T00:00:00Z',
    ...overrides,
  };
}

/** Plans a query against `on` (the demo schema by default), failing the test on a problem or a validation error. */
export function planOf(
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
  on: GraphQLSchema = demoClientSchema(),
): OperationPlan {
  const document = parse(query);
  const errors = validate(on, document);
  if (errors.length > 0) throw new Error(`invalid test query: ${errors.map((error) => error.message).join('; ')}`);
  const plan = planOperation(on, document, operationName, variables);
  if (plan.kind !== 'plan') throw new Error(`unexpected plan problem ${plan.code}: ${plan.message}`);
  return plan;
}

/**
 * Executes `document` against `on` with made-up data: every value is derived
 * from the field's type, coordinate and arguments, and every list has two
 * items, so two documents that select the same fields with the same
 * arguments under the same keys give equal results.
 */
export function executeWithMadeUpData(
  on: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName?: string,
): unknown {
  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (_source, args, _context, info) =>
    madeUp(on, info.returnType, `${info.parentType.name}.${info.fieldName}${JSON.stringify(args)}`);
  const result = execute({
    schema: on,
    document,
    variableValues: variables,
    fieldResolver,
    typeResolver: (value) => (value as { __madeUpType: string }).__madeUpType,
    ...(operationName === undefined ? {} : { operationName }),
  });
  if ('then' in result) throw new Error('made-up execution is synchronous');
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('; '));
  return result.data;
}

function madeUp(on: GraphQLSchema, type: GraphQLOutputType, seed: string): unknown {
  if (isNonNullType(type)) return madeUp(on, type.ofType, seed);
  if (isListType(type)) return [madeUp(on, type.ofType, `${seed}#0`), madeUp(on, type.ofType, `${seed}#1`)];
  const named = getNamedType(type);
  if (isObjectType(named)) return {};
  if (named.name === 'Int') return seed.length;
  if (named.name === 'Float') return seed.length + 0.5;
  if (named.name === 'Boolean') return seed.length % 2 === 0;
  if (named.name === 'ID' || named.name === 'String') return seed;
  if (isAbstractType(named)) {
    // Alternate between the concrete types, so lists hold both.
    const possible = on.getPossibleTypes(named);
    return { __madeUpType: possible[seed.endsWith('#1') ? 1 % possible.length : 0]!.name };
  }
  return null;
}
