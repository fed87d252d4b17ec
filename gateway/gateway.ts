import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import type { BreakerState, Connector } from '../connectors/connector.ts';
import { createConnector } from '../connectors/create-connector.ts';
import type { GatewayConfig } from './config/config.ts';
import { loadCatalogue } from './catalogue/load-catalogue.ts';
import { stitchBureaus } from './graphql/stitch-bureaus.ts';
import { createGatewayYoga } from './graphql/yoga.ts';
import { createEnforcer } from '../policies/enforce.ts';
import { createApp } from './http/app.ts';
import { createRequestListener } from './http/request-listener.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { openStore, type Store } from './store/store.ts';
import { createGatewayAuth } from './auth/create-gateway-auth.ts';
import { CONSUMER_ASSERTION_HEADER } from './auth/consumer-assertion.ts';
import { consumerHeadersFor } from './graphql/use-consumer-identity.ts';
import { authenticateRequest } from './auth/authenticate-request.ts';
import type { DevIssuer } from './auth/dev-issuer.ts';
import { createAgreementStore, type AgreementStore } from './agreements/agreement-store.ts';
import { createAgreementRegistry, type AgreementRegistry } from './agreements/agreement-registry.ts';
import { startAgreementExpiry, type AgreementExpiry } from './agreements/agreement-expiry.ts';
import { createAdminApi } from './admin/admin-api.ts';
import { openSigningKey } from './auth/signing-key.ts';
import { createAccessLogWriter, type AccessLogWriter } from './access-log/access-log-writer.ts';
import { createAccessLogApi } from './access-log/access-log-api.ts';
import { detachExpiredPartitions } from './access-log/retention.ts';
import { isAuthError } from './auth/auth-error.ts';
import type { Catalogue } from '../policies/catalogue.ts';
import { createConsole } from './console/console-app.ts';
import type { ConsolePersona, LocalName } from './console/console-persona.ts';

/** File of the key that signs access log checkpoints, under the keys folder. */
export const ACCESS_LOG_KEY_FILE = 'access-log-signing.json';
/** How often old access log months are checked for detaching. */
const RETENTION_SWEEP_MS = 6 * 60 * 60 * 1_000;

/** The version reported by instances and logs. */
export const GATEWAY_VERSION = '0.1.0';

/** A running gateway. */
export interface Gateway {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly instanceId: string;
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
   * Stops taking connections, lets in-flight requests finish (bounded by
   * `shutdownTimeoutMs`), then closes connectors and the store. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Extra wiring for tests and the demo. */
export interface StartGatewayOptions {
  /** Where JSON logs go; stdout by default. */
  readonly logDestination?: DestinationStream;
  /** The query GraphiQL opens with (the demo fills in one of its residents). */
  readonly graphiqlQuery?: string;
  /**
   * For benchmarks only, never from configuration: switches a stage off to
   * measure what it costs. Enforcement off also means no access log entries.
   */
  readonly benchmark?: { readonly enforcement?: boolean; readonly accessLog?: boolean };
  /** The console's demo wiring: personas for its picker (offered only while the dev issuer is on) and names of consumer bureaus. */
  readonly console?: { readonly personas?: readonly ConsolePersona[]; readonly bureauNames?: ReadonlyMap<string, LocalName> };
}

/**
 * The composition root: opens and migrates the store, loads the catalogue,
 * connects every bureau, stitches the graph, builds the yoga instance once,
 * and listens. Fails fast, with a message naming the setting or file, on bad
 * configuration or an invalid catalogue.
 *
 * @example
 * const gateway = await startGateway(loadConfig(process.env));
 * process.once('SIGTERM', () => gateway.close());
 */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  const log = createLogger(config.logLevel, options.logDestination);
  const { catalogue, schemas } = loadCatalogue({ dir: config.schemasDir, env: config.env });
  const metrics = createMetrics();

  const store = await openStore(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir });
  const connectors = new Map<string, Connector>();
  let server: Server | undefined;
  let registry: AgreementRegistry | undefined;
  let expiry: AgreementExpiry | undefined;
  let accessLog: AccessLogWriter | undefined;
  let retention: NodeJS.Timeout | undefined;
  try {
    const applied = await store.migrate();
    if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations');
    const instanceId = `${hostname()}-${randomUUID().slice(0, 8)}`;
    const now = new Date();
    await store.db.insertInto('gateway_instances').values({ id: instanceId, hostname: hostname(), version: GATEWAY_VERSION, started_at: now, last_seen_at: now }).execute();

    const auth = await createGatewayAuth(config);
    // The checkpoint key is its own: a leaked upstream-assertion key must not let anyone forge the log's checkpoints.
    const checkpointKey = await openSigningKey({ dir: config.keysDir, fileName: ACCESS_LOG_KEY_FILE, purpose: 'Isthmus gateway: signs access log checkpoints' });
    accessLog = createAccessLogWriter({ db: store.db, chainId: instanceId, signer: checkpointKey, onBatch: (batch) => metrics.observeAccessLogBatch(batch) });
    await accessLog.ready();
    const writer = accessLog;
    retention = setInterval(() => {
      detachExpiredPartitions(store.db, new Date(), { retentionDays: config.logRetentionDays }).catch((error: unknown) =>
        log.warn({ err: error }, 'access log retention failed; will try again'),
      );
    }, RETENTION_SWEEP_MS).unref();
    const agreements = createAgreementStore(store.db);
    registry = await createAgreementRegistry({
      agreements,
      listen: store.listen,
      onError: (error) => log.warn({ err: error }, 'agreement refresh failed; keeping the last snapshot'),
    });
    const agreementRegistry = registry;
    expiry = startAgreementExpiry({
      agreements,
      onExpired: (expired) => log.info({ agreements: expired.map((agreement) => agreement.id) }, 'agreements expired'),
      onError: (error) => log.warn({ err: error }, 'agreement expiry sweep failed'),
    });
    for (const bureau of catalogue.bureaus.values()) {
      const { kind, url, timeoutMs, maxConcurrency, breaker } = bureau.connector;
      connectors.set(
        bureau.id,
        createConnector(kind, {
          bureau: bureau.id,
          url,
          schema: schemas.get(bureau.id)!,
          limits: { timeoutMs, maxConcurrency, breaker },
          observe: metrics.observeUpstream,
          upstreamHeaders: consumerHeadersFor(bureau.id, CONSUMER_ASSERTION_HEADER),
        }),
      );
    }
    const breakers = (): ReadonlyMap<string, BreakerState> => new Map([...connectors].map(([id, connector]) => [id, connector.breakerState()]));
    metrics.trackBreakers(breakers);

    const schema = stitchBureaus(catalogue, connectors);
    // One enforcer for /graphql and explain, so that explain can never tell a developer something /graphql would not do.
    const enforcer = createEnforcer({ schema, catalogue, denyWholeOperation: config.denyWholeOperation });
    const yoga = createGatewayYoga({
      schema,
      log,
      limits: { maxDepth: config.maxDepth, maxAliases: config.maxAliases },
      verifier: auth.verifier,
      stages: { enforcement: options.benchmark?.enforcement ?? true, accessLog: options.benchmark?.accessLog ?? true },
      enforcement: { enforcer, agreements: () => agreementRegistry.current() },
      consumerAssertions: auth.consumerAssertions,
      httpBureaus: new Set([...connectors.values()].filter((connector) => connector.carriesHeaders).map((connector) => connector.bureau)),
      accessLog: { writer },
      graphiql: config.graphiql,
      ...(options.graphiqlQuery ? { graphiqlQuery: options.graphiqlQuery } : {}),
    });
    let draining = false;
    const app = createApp({ metrics, log, pingStore: () => store.ping(), breakers, draining: () => draining, ...auth.wellKnown });
    // Mounted before the agreements API: the log is read by citizens too, whom the agreements API turns away.
    app.route(
      '/admin/api',
      createAccessLogApi({
        db: store.db,
        writer,
        authenticate: async (request) => {
          try {
            return await authenticateRequest(request.headers, auth.verifier, request.signal);
          } catch (error) {
            if (isAuthError(error)) return undefined;
            throw error;
          }
        },
      }),
    );
    app.route(
      '/admin/api',
      createAdminApi({
        authenticate: (request) => authenticateRequest(request.headers, auth.verifier, request.signal),
        agreements,
        catalogue,
        workingDaysToReply: config.agreementReplyWorkingDays,
        log,
        explain: { enforcer, inForce: () => agreementRegistry.current() },
        onChange: () => agreementRegistry.refresh(),
      }),
    );
    // The persona picker signs with the dev issuer, so it exists only while the dev issuer is on.
    const personas = auth.devIssuer && options.console?.personas ? { issuer: auth.devIssuer, list: options.console.personas } : undefined;
    const bureauNames = options.console?.bureauNames;
    app.route('/console', createConsole({ agreements, catalogue, verifier: auth.verifier, onChange: () => agreementRegistry.refresh(), log, personas, bureauNames }));
    server = createServer({ keepAliveTimeout: 5_000 }, createRequestListener({ yoga, app, metrics, log, maxBodyBytes: config.maxBodyBytes }));
    await listen(server, config.port, config.host);
    const address = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
    log.info({ url, instanceId, bureaus: [...catalogue.bureaus.keys()], store: store.kind }, 'gateway listening');
    log.flush();

    let closing: Promise<void> | undefined;
    const listening = server;
    return {
      url,
      instanceId,
      catalogue,
      store,
      metrics,
      log,
      agreements,
      agreementRegistry,
      devIssuer: auth.devIssuer,
      accessLog: writer,
      close() {
        closing ??= (async () => {
          draining = true;
          await drain(listening, config.shutdownTimeoutMs, log);
          clearInterval(retention);
          // Every entry of a response already sent is committed; close() adds the chain's final checkpoint.
          await accessLog?.close().catch((error: unknown) => log.error({ err: error }, 'access log did not close cleanly'));
          expiry?.close();
          await registry?.close();
          await closeAll(connectors, store);
          log.info({ instanceId }, 'gateway stopped');
          log.flush();
        })();
        return closing;
      },
    };
  } catch (error) {
    server?.close();
    clearInterval(retention);
    await accessLog?.close().catch(() => {});
    expiry?.close();
    await registry?.close();
    await closeAll(connectors, store);
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

async function closeAll(connectors: ReadonlyMap<string, Connector>, store: Store): Promise<void> {
  await Promise.allSettled([...connectors.values()].map((connector) => connector.close()));
  await store.close();
}
