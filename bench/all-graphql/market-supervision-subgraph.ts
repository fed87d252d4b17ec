import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import type { City, CityEnterprise } from '../../examples/data/generate-city.ts';

/**
 * The market supervision bureau as an Apollo Federation v2 subgraph: the
 * enterprise registry, and `Person.enterprises` (the enterprises a person
 * represents) added to the `Person` entity that public security owns.
 *
 * `_msPersons` is the entry point Isthmus and graphql-tools stitching merge
 * persons through; it is `@inaccessible`, so a federation gateway keeps it
 * out of its public schema and reaches persons through `_entities` instead.
 */
export const MARKET_SUPERVISION_SUBGRAPH_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])

  type Query {
    enterprise(creditCode: ID!): Enterprise
    enterprises(creditCodes: [ID!]!): [Enterprise]!
    _msPersons(idNumbers: [ID!]!): [Person]! @inaccessible
  }

  type Enterprise @key(fields: "creditCode") {
    creditCode: ID!
    name: String
    legalRepresentativeId: ID
    status: String
    registeredCapital: Float
    establishedOn: String
  }

  type Person @key(fields: "idNumber") {
    idNumber: ID!
    enterprises: [Enterprise!]
  }
`;

interface PersonStub {
  readonly idNumber: string;
}

/**
 * Builds the market supervision subgraph over the city's enterprises, served
 * from memory like the demo REST bureau. A person who represents nothing has
 * `enterprises: []`, as the REST bureau answers.
 *
 * @example
 * const yoga = createYoga({ schema: createMarketSupervisionSubgraph(demoCity()) });
 */
export function createMarketSupervisionSubgraph(city: City): GraphQLSchema {
  const byCreditCode = new Map<string, CityEnterprise>();
  const byRepresentative = new Map<string, CityEnterprise[]>();
  for (const enterprise of city.enterprises) {
    byCreditCode.set(enterprise.creditCode, enterprise);
    const represented = byRepresentative.get(enterprise.legalRepresentativeId);
    if (represented) represented.push(enterprise);
    else byRepresentative.set(enterprise.legalRepresentativeId, [enterprise]);
  }
  return buildSubgraphSchema({
    typeDefs: parse(MARKET_SUPERVISION_SUBGRAPH_SDL),
    resolvers: {
      Query: {
        enterprise: (_: unknown, args: { creditCode: string }) => byCreditCode.get(args.creditCode) ?? null,
        enterprises: (_: unknown, args: { creditCodes: readonly string[] }) => args.creditCodes.map((code) => byCreditCode.get(code) ?? null),
        _msPersons: (_: unknown, args: { idNumbers: readonly string[] }): PersonStub[] => args.idNumbers.map((idNumber) => ({ idNumber })),
      },
      Enterprise: {
        __resolveReference: (reference: { creditCode: string }) => byCreditCode.get(reference.creditCode) ?? null,
      },
      Person: {
        __resolveReference: (reference: PersonStub): PersonStub => ({ idNumber: reference.idNumber }),
        enterprises: (person: PersonStub) => byRepresentative.get(person.idNumber) ?? [],
      },
    },
  });
}
