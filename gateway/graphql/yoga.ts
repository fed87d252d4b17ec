import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { GatewayPlugin } from './gateway-plugins.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayContext, GatewayServerContext } from './gateway-context.ts';
import { toClientError } from './error-codes.ts';
import { useWellFormedParams } from './use-well-formed-params.ts';

/** What the GraphQL endpoint is built from. */
export interface GatewayYogaOptions {
  readonly schema: GraphQLSchema;
  readonly log: Logger;
  /** In the order of a query's life: {@link inLifeOrder} of the gateway's plugins (`gateway-plugins.ts`). */
  readonly plugins: readonly GatewayPlugin[];
  readonly graphiql: boolean;
  /** The query GraphiQL opens with; {@link GRAPHIQL_DEFAULT_QUERY} unless given. */
  readonly graphiqlQuery?: string;
}

/** The example that GraphiQL opens with: one person, three bureaus. */
export const GRAPHIQL_DEFAULT_QUERY = `# One person, read from three bureaus in one query:
# public-security (GraphQL), market-supervision (REST), human-resources-social-security (SQL).
query PersonAcrossBureaus($idNumber: ID!) {
  person(idNumber: $idNumber) {
    name
    socialInsurance { insuredStatus contributionMonths }
    enterprises { name status insuredEmployeeCount }
  }
}
`;

/** The gateway's yoga instance. */
export type GatewayYoga = YogaServerInstance<GatewayServerContext, GatewayContext>;

/**
 * The gateway's GraphQL endpoint: one yoga instance, built once at start-up,
 * running the plugins it is given (see `gateway-plugins.ts` for their order
 * and why). Errors are mapped to the gateway's codes in `maskError` (see
 * `error-codes.ts`), so nothing unexpected reaches a client with its detail.
 */
export function createGatewayYoga(options: GatewayYogaOptions): GatewayYoga {
  const { log } = options;
  return createYoga<GatewayServerContext, GatewayContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // The request listener bounds the body before yoga sees it: a POST needs a
    // Content-Length no larger than the limit, and node's parser reads no byte
    // past it. Yoga's own limit would re-stream every body through a
    // TransformStream and a second Request (2% of busy time under load).
    maxRequestBodySize: false,
    graphiql: options.graphiql ? { title: 'Isthmus', defaultQuery: options.graphiqlQuery ?? GRAPHIQL_DEFAULT_QUERY } : false,
    // Government networks are often closed: GraphiQL is served from the
    // bundled package, not from a CDN, loaded on first use. Not kept here: the
    // request listener asks for the page once and serves it compressed itself.
    renderGraphiQL: (graphiqlOptions) => import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(graphiqlOptions)),
    // Yoga's own logs go through ours, so they are JSON and carry no request bodies.
    logging: {
      debug: (...args: unknown[]) => log.debug({ yoga: args.map(String) }),
      info: (...args: unknown[]) => log.info({ yoga: args.map(String) }),
      warn: (...args: unknown[]) => log.warn({ yoga: args.map(String) }),
      // Yoga reports every error whose masking replaced it: a bureau that failed (already in the
      // metrics and the access log), a client's mistake. Unexpected ones are logged, with
      // detail, by maskError below; a denied field is returned as it is and never reported.
      error: (...args: unknown[]) =>
        args.every((arg) => arg instanceof GraphQLError)
          ? log.debug({ yoga: args.map((arg) => (arg as GraphQLError).extensions?.code ?? 'GraphQLError') })
          : log.error({ yoga: args.map((arg) => (arg instanceof Error ? arg.name : String(arg))) }),
    },
    maskedErrors: {
      maskError(error) {
        const client = toClientError(error);
        if (client.extensions.code === 'INTERNAL') log.error({ err: error }, 'unexpected error in a GraphQL request');
        return client;
      },
    },
    // GraphQL over HTTP first: a request that is not well-formed is refused before the gateway's stages see it.
    plugins: [useWellFormedParams(), ...options.plugins],
  });
}
