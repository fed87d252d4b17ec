import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { BureauServer, HttpBureauOptions } from '../bureau-server.ts';
import { demoCity, type CityPerson } from '../data/generate-city.ts';
import { graphqlRejectionBody, startHttpBureau } from '../start-http-bureau.ts';

/** Options of {@link startPublicSecurity}. */
export type PublicSecurityOptions = HttpBureauOptions;

/** The bureau's id in the catalogue: the audience of the consumer assertions it accepts. */
export const PUBLIC_SECURITY_BUREAU = 'public-security';

/** The most identity numbers one `persons` call may ask for, like a real bureau's batch limit. */
export const MAX_PERSONS_PER_QUERY = 1_000;

// The bureau's own schema: the fields of schemas/public-security/schema.graphql
// without the Isthmus directives, which are the gateway's business, not the bureau's.
const TYPE_DEFS = /* GraphQL */ `
  type Query {
    "One resident by their 18-digit resident identity number."
    person(idNumber: ID!): Person
    "Residents by identity number, in the order asked; null where none is registered."
    persons(idNumbers: [ID!]!): [Person]!
  }

  "A registered resident."
  type Person {
    idNumber: ID!
    name: String
    "MALE or FEMALE"
    gender: String
    "YYYY-MM-DD"
    birthDate: String
    address: String
    householdId: String
  }
`;

/**
 * Starts the public security bureau's household register (公安局 户籍): a
 * GraphQL service at `/graphql` on node:http, serving the city's persons.
 * Once it trusts the gateway, a request without a valid consumer assertion
 * gets 401 and `{ errors: [{ extensions: { code: 'UNAUTHENTICATED', reason } }] }`.
 *
 * @example
 * const bureau = await startPublicSecurity();
 * await fetch(bureau.url, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ query: '{ persons(idNumbers: ["330402197704291057"]) { name } }' }),
 * });
 */
export function startPublicSecurity(options: PublicSecurityOptions = {}): Promise<BureauServer> {
  const persons = new Map<string, CityPerson>();
  for (const person of (options.city ?? demoCity()).persons) persons.set(person.idNumber, person);

  const schema = createSchema({
    typeDefs: TYPE_DEFS,
    resolvers: {
      Query: {
        person: (_: unknown, args: { idNumber: string }) => persons.get(args.idNumber) ?? null,
        persons(_: unknown, args: { idNumbers: readonly string[] }) {
          if (args.idNumbers.length > MAX_PERSONS_PER_QUERY) {
            throw new GraphQLError(`persons takes at most ${MAX_PERSONS_PER_QUERY} idNumbers`, {
              extensions: { code: 'BAD_USER_INPUT' },
            });
          }
          return args.idNumbers.map((idNumber) => persons.get(idNumber) ?? null);
        },
      },
    },
  });
  // No logging: the server also runs under benchmarks, where a log line per request would be the cost measured.
  const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', logging: false, landingPage: false });
  return startHttpBureau(yoga, {
    port: options.port,
    host: options.host,
    path: '/graphql',
    bureau: PUBLIC_SECURITY_BUREAU,
    rejectionBody: graphqlRejectionBody,
    ...(options.trustGateway ? { trustGateway: options.trustGateway } : {}),
  });
}
