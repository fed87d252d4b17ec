import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import type { City, CityPerson } from '../../examples/data/generate-city.ts';

/**
 * The public security bureau as an Apollo Federation v2 subgraph: the same
 * fields as `examples/public-security`, plus `@key` so a federation gateway
 * can resolve a `Person` reference (`_entities`).
 */
export const PUBLIC_SECURITY_SUBGRAPH_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    person(idNumber: ID!): Person
    persons(idNumbers: [ID!]!): [Person]!
  }

  type Person @key(fields: "idNumber") {
    idNumber: ID!
    name: String
    gender: String
    birthDate: String
    address: String
    householdId: String
  }
`;

/**
 * Builds the public security subgraph over the city's persons, served from
 * memory like the demo bureau.
 *
 * @example
 * const yoga = createYoga({ schema: createPublicSecuritySubgraph(demoCity()) });
 */
export function createPublicSecuritySubgraph(city: City): GraphQLSchema {
  const persons = new Map<string, CityPerson>(city.persons.map((person) => [person.idNumber, person]));
  return buildSubgraphSchema({
    typeDefs: parse(PUBLIC_SECURITY_SUBGRAPH_SDL),
    resolvers: {
      Query: {
        person: (_: unknown, args: { idNumber: string }) => persons.get(args.idNumber) ?? null,
        persons: (_: unknown, args: { idNumbers: readonly string[] }) => args.idNumbers.map((id) => persons.get(id) ?? null),
      },
      Person: {
        __resolveReference: (reference: { idNumber: string }) => persons.get(reference.idNumber) ?? null,
      },
    },
  });
}
