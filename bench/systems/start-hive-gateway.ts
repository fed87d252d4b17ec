import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { composeAllGraphqlSupergraph } from '../all-graphql/compose-supergraph.ts';
import { serveSystem } from './listen-on-loopback.ts';
import type { RunningSystem, SystemUpstreams } from './running-system.ts';

/**
 * Starts The Guild's Hive Gateway over the all-GraphQL city: the supergraph
 * is composed from the three subgraphs with `@theguild/federation-composition`
 * and handed to `createGatewayRuntime` (the runtime the `hive-gateway` CLI
 * serves, in one process, as the CLI does by default), on node:http.
 *
 * Everything is left at Hive Gateway's defaults but its start-up logging,
 * which the harness discards anyway: it plans each operation over the
 * supergraph, batches entity calls per subgraph (`_entities`), and masks
 * errors, much as Isthmus stitches, batches and maps errors.
 *
 * @example
 * const hive = await startHiveGateway({ variant: 'all-graphql', publicSecurity, marketSupervision, hrss });
 */
export async function startHiveGateway(upstreams: SystemUpstreams): Promise<RunningSystem> {
  if (upstreams.variant !== 'all-graphql') throw new Error('Hive Gateway federates GraphQL subgraphs only: it runs over the all-GraphQL city');
  const supergraph = composeAllGraphqlSupergraph({
    publicSecurity: upstreams.publicSecurity,
    marketSupervision: upstreams.marketSupervision,
    hrss: upstreams.hrss,
  });
  const runtime = createGatewayRuntime({ supergraph, logging: 'error' });
  return serveSystem(createServer(runtime), () => runtime.dispose());
}
