import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Catalogue } from '../policies/catalogue.ts';
import type { GatewayConfig } from './config/config.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Store } from './store/store.ts';
import type { DevIssuer } from './auth/dev-issuer.ts';
import type { AgreementStore } from './agreements/agreement-store.ts';
import type { AgreementRegistry } from './agreements/agreement-registry.ts';
import type { AccessLogWriter } from './access-log/access-log-writer.ts';
import { openGatewayResources, type OpenGatewayResourcesOptions } from './gateway-resources.ts';
import { createGatewayHandler, type GatewayHandlerOptions } from './gateway-handler.ts';
import type { CatalogueReload } from './catalogue/catalogue-generations.ts';

export { ACCESS_LOG_KEY_FILE, ACCESS_LOG_KEY_HISTORY_FILE } from './gateway-resources.ts';
export { GATEWAY_VERSION } from './version.ts';

/** A running gateway. */
export interface Gateway {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly instanceId: string;
  /** The catalogue served now (each read sees the latest reload). */
  readonly catalogue: Catalogue;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly agreements: AgreementStore;
  /** The in-memory view of the agreements in force that every request reads. */
  readonly agreementRegistry: AgreementRegistry;
  /** The dev issuer, when `ISTHMUS_DEV_ISSUER` is on: signs tokens for the demo and tests. */
  readonly devIssuer: DevIssuer | undefined;
  /** This process's chain of the access log. */
  readonly accessLog: AccessLogWriter;
  /**
   * Reads the schemas folder again (SIGHUP, `POST /admin/api/catalogue/reload`):
   * a valid one serves new requests, in-flight ones finish on the old; an
   * invalid one is refused with every problem and the running one stays.
   */
  reloadCatalogue(): Promise<CatalogueReload>;
  /**
   * Stops taking connections, lets in-flight requests finish (bounded by
   * `shutdownTimeoutMs`), then closes connectors and the store. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Extra wiring for tests, the demo and the bench: where logs go, GraphiQL's query, the console's personas, the plugins a benchmark runs. */
export interface StartGatewayOptions extends OpenGatewayResourcesOptions, GatewayHandlerOptions {}

/**
 * The composition root: opens the gateway's resources
 * (`openGatewayResources`: catalogue, store, access log, agreements,
 * connectors, stitched schema), builds its handler over them
 * (`createGatewayHandler`: yoga once, the routes) and listens. Fails fast,
 * with a message naming the setting or file, on bad configuration or an
 * invalid catalogue, having closed whatever it had opened.
 *
 * @example
 * const gateway = await startGateway(loadConfig(process.env));
 * process.once('SIGTERM', () => gateway.close());
 */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  const resources = await openGatewayResources(config, options);
  const { log, store, instanceId } = resources;
  let server: Server | undefined;
  try {
    const handler = createGatewayHandler(resources, options);
    server = createServer({ keepAliveTimeout: 5_000 }, handler.listener);
    await listen(server, config.port, config.host);
    const address = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
    // Only so that a process the embedded store turns away can point here: not worth failing the start for.
    await store.advertise(url).catch((error: unknown) => log.warn({ err: error }, 'could not record the URL in the embedded store\'s lock'));
    log.info({ url, instanceId, bureaus: [...resources.catalogue.bureaus.keys()], store: store.kind }, 'gateway listening');
    log.flush();

    let closing: Promise<void> | undefined;
    const listening = server;
    return {
      url,
      instanceId,
      catalogue: resources.catalogue,
      store,
      metrics: resources.metrics,
      log,
      agreements: resources.agreements,
      agreementRegistry: resources.agreementRegistry,
      devIssuer: resources.auth.devIssuer,
      accessLog: resources.accessLog,
      reloadCatalogue: () => handler.reloadCatalogue(),
      close() {
        closing ??= (async () => {
          handler.startDraining();
          await drain(listening, config.shutdownTimeoutMs, log);
          // Every response has been sent, so every entry of one is committed; the resources close in reverse.
          await resources[Symbol.asyncDispose]();
          log.info({ instanceId }, 'gateway stopped');
          log.flush();
        })();
        return closing;
      },
    };
  } catch (error) {
    server?.close();
    await resources[Symbol.asyncDispose]();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, closes idle keep-alive sockets, waits for in-flight requests, and cuts what is left at the deadline. */
async function drain(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Sockets that finish their request while draining are closed as they go idle.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([closed.then(() => 'drained' as const), deadline]);
  clearInterval(idleSweep);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log.warn({ timeoutMs }, 'shutdown deadline reached; closing remaining connections');
    server.closeAllConnections();
    await closed;
  }
}
