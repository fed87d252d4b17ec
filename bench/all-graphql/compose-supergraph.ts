import { parse } from 'graphql';
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';
import { HRSS_SUBGRAPH_SDL } from './hrss-subgraph.ts';
import { MARKET_SUPERVISION_SUBGRAPH_SDL } from './market-supervision-subgraph.ts';
import { PUBLIC_SECURITY_SUBGRAPH_SDL } from './public-security-subgraph.ts';

/** Where each subgraph of the all-GraphQL city answers (its `/graphql` endpoint). */
export interface SubgraphUrls {
  readonly publicSecurity: string;
  readonly marketSupervision: string;
  readonly hrss: string;
}

/**
 * Composes the all-GraphQL city's supergraph SDL with The Guild's federation
 * composition (the same rules as Apollo's), routing each subgraph to its URL.
 *
 * @throws Error listing every composition error.
 * @example
 * const supergraph = composeAllGraphqlSupergraph(urls);
 * createGatewayRuntime({ supergraph });
 */
export function composeAllGraphqlSupergraph(urls: SubgraphUrls): string {
  const result = composeServices([
    { name: 'public-security', typeDefs: parse(PUBLIC_SECURITY_SUBGRAPH_SDL), url: urls.publicSecurity },
    { name: 'market-supervision', typeDefs: parse(MARKET_SUPERVISION_SUBGRAPH_SDL), url: urls.marketSupervision },
    { name: 'human-resources-social-security', typeDefs: parse(HRSS_SUBGRAPH_SDL), url: urls.hrss },
  ]);
  if (compositionHasErrors(result)) {
    throw new Error(`the all-GraphQL supergraph does not compose:\n${result.errors.map((error) => `  ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}
