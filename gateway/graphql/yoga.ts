import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from '../observability/logger.ts';
import type { GatewayContext, GatewayServerContext } from './gateway-context.ts';
import { toClientError } from './error-codes.ts';
import { useOperationLimits, type OperationLimits } from './use-operation-limits.ts';
import { useClientErrors } from './use-client-errors.ts';
import { useAuthentication } from './use-authentication.ts';
import { useEnforcement, type EnforcementOptions } from './use-enforcement.ts';
import { useConsumerIdentity } from './use-consumer-identity.ts';
import { useAccessLog, type AccessLogPluginOptions } from './use-access-log.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import type { ConsumerAssertionSigner } from '../auth/consumer-assertion.ts';

/** What the GraphQL endpoint is built from. */
export interface GatewayYogaOptions {
  readonly schema: GraphQLSchema;
  readonly log: Logger;
  readonly limits: OperationLimits;
  readonly verifier: TokenVerifier;
  readonly enforcement: EnforcementOptions;
  readonly consumerAssertions: ConsumerAssertionSigner;
  /** Bureaus reached over HTTP, whose calls carry the signed consumer identity. */
  readonly httpBureaus: ReadonlySet<string>;
  readonly accessLog: AccessLogPluginOptions;
  /** Stages that benchmarks may switch off to measure their cost; both on in every real gateway. */
  readonly stages: { readonly enforcement: boolean; readonly accessLog: boolean };
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
 * The gateway's GraphQL endpoint: one yoga instance, built once at start-up.
 *
 * Plugin order is the order of a query's life:
 * 1. authentication — before the body is parsed, so strangers learn nothing;
 * 2. limits — refuse oversized operations during validation, before any work;
 * 3. access log — registered before enforcement so that its after-hook sees every
 *    outcome, refusals included; it appends the record enforcement built and holds
 *    the response until the entry is committed;
 * 4. enforcement — the adapter over `policies/enforce.ts`: plan, decide, prune denied
 *    fields, then shape and mask the result and build the access record;
 * 5. consumer identity — sign who is asking for each bureau the allowed part touches,
 *    after enforcement so denied bureaus are not even told;
 * 6. client errors — every error gets its code, status and the request id, last.
 * Each fills its part of the one request context (`gateway-context.ts`) through
 * yoga's `extendContext`, for the ones after it.
 * Errors are mapped to the gateway's codes in `maskError` (see `error-codes.ts`),
 * so nothing unexpected reaches a client with its detail.
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
    plugins: [
      useAuthentication(options.verifier),
      useOperationLimits(options.limits),
      ...(options.stages.accessLog ? [useAccessLog(options.accessLog)] : []),
      ...(options.stages.enforcement ? [useEnforcement(options.enforcement), useConsumerIdentity(options.consumerAssertions, options.httpBureaus)] : []),
      useClientErrors(),
    ],
  });
}
