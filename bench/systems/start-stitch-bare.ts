import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Connector } from '../../connectors/connector.ts';
import { createConnector } from '../../connectors/create-connector.ts';
import { loadCatalogue } from '../../gateway/catalogue/load-catalogue.ts';
import { stitchBureaus } from '../../gateway/graphql/stitch-bureaus.ts';
import { catalogueSettings } from './catalogue-settings.ts';
import { serveSystem } from './listen-on-loopback.ts';
import type { RunningSystem, SystemUpstreams } from './running-system.ts';

/**
 * Starts `stitch-bare`: the graph Isthmus serves — the same catalogue, the
 * same connectors with the same limits (so every upstream call is the same),
 * the same `stitchBureaus` — behind a plain graphql-yoga on node:http, with
 * yoga's defaults and none of the gateway's own layers (request ids, request
 * log, metrics, operation limits, error mapping, and later auth, policy and
 * access log). What Isthmus costs beyond this is what the gateway adds.
 *
 * @example
 * const system = await startStitchBare(upstreams);
 * await fetch(system.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
 */
export async function startStitchBare(upstreams: SystemUpstreams): Promise<RunningSystem> {
  const settings = catalogueSettings(upstreams);
  const { catalogue, schemas } = (() => {
    try {
      return loadCatalogue({ dir: settings.schemasDir, env: settings.env });
    } finally {
      settings.dispose();
    }
  })();
  const connectors = new Map<string, Connector>();
  for (const bureau of catalogue.bureaus.values()) {
    const { kind, url, timeoutMs, maxConcurrency, breaker } = bureau.connector;
    connectors.set(bureau.id, createConnector(kind, { bureau: bureau.id, url, schema: schemas.get(bureau.id)!, limits: { timeoutMs, maxConcurrency, breaker } }));
  }
  const yoga = createYoga({ schema: stitchBureaus(catalogue, connectors), graphqlEndpoint: '/graphql', logging: false, landingPage: false, graphiql: false });
  return serveSystem(createServer(yoga), () => Promise.allSettled([...connectors.values()].map((connector) => connector.close())));
}
