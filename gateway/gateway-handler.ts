import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hono } from 'hono';
import type { BreakerState } from '../connectors/connector.ts';
import type { GatewayResources } from './gateway-resources.ts';
import type { AuditorRoutesDeps } from './console/auditor-routes.ts';
import { parseVerifierKey } from '../packages/isthmus-log-proofs/src/index.ts';
import type { CatalogueGeneration, CatalogueReload } from './catalogue/catalogue-generations.ts';
import { createGatewayPlugins, inLifeOrder, type GatewayPlugin, type GatewayPlugins } from './graphql/gateway-plugins.ts';
import { createGatewayYoga, type GatewayYoga } from './graphql/yoga.ts';
import { createApp } from './http/app.ts';
import { createRequestListener } from './http/request-listener.ts';
import { authThrottleGuard } from './http/auth-throttle-guard.ts';
import { DEFAULT_LIST_SIZE } from './config/config.ts';
import { authenticateRequest } from './auth/authenticate-request.ts';
import { createAdminApi } from './admin/admin-api.ts';
import { readQuotaUse } from './quotas/quota-use.ts';
import { createOperationsApi } from './operations/operations-api.ts';
import { createAccessLogApi } from './access-log/access-log-api.ts';
import { createReceiptSource, DEFAULT_RECEIPT_CHECK_AFTER_MS } from './access-log/receipt-source.ts';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './access-log/access-log-writer.ts';
import { createConsole } from './console/console-app.ts';
import { readAgreementUse } from './access-log/agreement-use.ts';
import type { ConsolePersona, LocalName } from './console/console-persona.ts';
import { recordApiEvents } from './http/record-api-events.ts';
import { createSecurityEventsApi } from './observability/security-events-api.ts';

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** The query GraphiQL opens with (the demo fills in one of its residents). */
  readonly graphiqlQuery?: string;
  /**
   * Which of the gateway's plugins run, in which order: {@link inLifeOrder}
   * of all of them unless given. Only a benchmark that measures what a stage
   * costs passes fewer.
   */
  readonly plugins?: (all: GatewayPlugins) => readonly GatewayPlugin[];
  /** The console's demo wiring: personas for its picker (offered only while the dev issuer is on) and names of consumer bureaus. */
  readonly console?: {
    readonly personas?: readonly ConsolePersona[];
    readonly bureauNames?: ReadonlyMap<string, LocalName>;
    /** What the purposes agreements name mean, in both languages. */
    readonly purposeNames?: ReadonlyMap<string, LocalName>;
    /** What the city calls its log's witnesses (by key name), for the receipts' words. */
    readonly witnessNames?: ReadonlyMap<string, LocalName>;
    /**
     * The console's clock (pages, decisions, which delayed reads citizens see); a test that must see a disclosure delay end passes its own.
     * Sessions keep the real clock: the tokens they hold expire by it.
     */
    readonly now?: () => Date;
  };
}

/** What serves a gateway's requests, built from its resources. */
export interface GatewayHandler {
  /** The node:http listener: `/graphql` to yoga, everything else to hono. */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
  /** Everything but `/graphql`, for tests that call `app.request()` in-process. */
  readonly app: Hono;
  /** From now on `/readyz` answers not ready, so load balancers stop sending traffic. */
  startDraining(): void;
  /**
   * Reads the schemas folder again and, if it is valid, serves new requests
   * from it (a new stitched schema, enforcer and yoga, built before the
   * swap); requests in flight finish on the generation they started on. An
   * invalid folder changes nothing; every problem is in the answer and the log.
   */
  reloadCatalogue(): Promise<CatalogueReload>;
}

/**
 * The gateway's HTTP surface over resources already open: the yoga
 * instance (built once), the operational routes, the admin and access-log
 * APIs. Opens nothing itself, so a test or the bench composes it over the
 * same resources a gateway would use.
 *
 * @example
 * const handler = createGatewayHandler(resources);
 * createServer(handler.listener).listen(4000);
 */
export function createGatewayHandler(resources: GatewayResources, options: GatewayHandlerOptions = {}): GatewayHandler {
  const { config, log, metrics, catalogue, catalogues, store, auth, agreementRegistry } = resources;
  // One yoga per catalogue generation, built once: a request takes the current one and keeps it to its end.
  const yogas = new WeakMap<CatalogueGeneration, GatewayYoga>();
  const yogaOf = (generation: CatalogueGeneration): GatewayYoga => {
    let yoga = yogas.get(generation);
    if (!yoga) {
      const plugins = createGatewayPlugins({
        verifier: auth.verifier,
        limits: { maxDepth: config.maxDepth, maxAliases: config.maxAliases },
        cost: { maxCost: config.maxCost, defaultListSize: DEFAULT_LIST_SIZE, listSizes: generation.catalogue.listSizes ?? new Map() },
        authThrottle: resources.authThrottle,
        accessLog: { writer: resources.accessLog, countDecision: resources.countAccessDecision, ...(resources.witnessPublisher && { evidence: resources.evidenceGate }) },
        enforcement: { enforcer: generation.enforcer, agreements: () => agreementRegistry.current(), quotas: resources.quotas },
        consumerAssertions: auth.consumerAssertions,
        operations: resources.operations.registry,
        httpBureaus: new Set([...generation.connectors.values()].filter((connector) => connector.carriesHeaders).map((connector) => connector.bureau)),
        securityEvents: resources.securityEvents,
      });
      yoga = createGatewayYoga({
        schema: generation.schema,
        log,
        plugins: (options.plugins ?? inLifeOrder)(plugins),
        graphiql: config.graphiql,
        ...(options.graphiqlQuery ? { graphiqlQuery: options.graphiqlQuery } : {}),
      });
      yogas.set(generation, yoga);
    }
    return yoga;
  };
  yogaOf(catalogues.current());
  const reloadCatalogue = async (): Promise<CatalogueReload> => {
    const result = await catalogues.reload((candidate) => void yogaOf(candidate));
    if (result.ok) log.info({ ...result }, 'catalogue reloaded');
    else log.warn({ generation: result.generation, problems: result.problems }, 'catalogue reload refused; the running catalogue stays');
    // The manifest folder (ISTHMUS_OPERATIONS_DIR) is read again with the schemas: one SIGHUP for the operator's files.
    await resources.operations.registry.reload().catch((error: unknown) => log.warn({ problems: (error as { problems?: unknown }).problems ?? String(error) }, 'registered operations reload refused; the running manifests stay'));
    // And the keys folder: a key an operator added (the next number of its rotation) signs from now on.
    await resources.keys.reload().then(
      (keys) => log.info({ ...keys }, keys.changed.length > 0 ? `keys reloaded: ${keys.changed.join(', ')} rotated` : 'keys reloaded: no new key'),
      (error: unknown) => log.warn({ code: (error as { code?: string }).code, reason: error instanceof Error ? error.message : String(error) }, 'keys reload refused; the running keys stay'),
    );
    return result;
  };

  let draining = false;
  const breakers = (): ReadonlyMap<string, BreakerState> => new Map([...catalogues.current().connectors].map(([id, connector]) => [id, connector.breakerState()]));
  const { evidenceGate, witnessPublisher } = resources;
  const evidence = witnessPublisher ? () => ({ gate: evidenceGate.state(), witnesses: witnessPublisher.status() }) : undefined;
  const app = createApp({
    metrics,
    log,
    pingStore: () => store.ping(),
    breakers,
    draining: () => draining,
    authReadiness: () => auth.readiness(),
    accessLogJwks: resources.accessLogJwks,
    logKeys: () => resources.logKeys,
    ...(evidence && { evidence }),
    ...auth.wellKnown,
  });
  // Before every route: refusals and changes on the APIs and the console are security events, recorded at this one edge —
  // outside the throttle guard, so that a throttled address's 429 is recorded too.
  const apiEvents = recordApiEvents({ recorder: resources.securityEvents, trustedProxies: config.trustedProxies });
  app.use('/admin/api/*', apiEvents);
  app.use('/console/*', apiEvents);
  // Before the routes, so a throttled address is refused before any of them reads its credentials.
  const throttleGuard = authThrottleGuard(resources.authThrottle, config.trustedProxies);
  app.use('/admin/api/*', throttleGuard);
  app.use('/console/sign-in/*', throttleGuard);
  // Each API owns only its own paths under the prefix, so their order does not matter.
  const authenticate = (request: Request) => authenticateRequest(request.headers, auth.verifier, request.signal);
  app.route('/admin/api', createSecurityEventsApi({ authenticate, store: resources.securityEventStore, log }));
  app.route(
    '/admin/api',
    createAdminApi({
      authenticate,
      agreements: resources.agreements,
      catalogue,
      workingDaysToReply: config.agreementReplyWorkingDays,
      ...(resources.lifecycle.calendar ? { calendar: resources.lifecycle.calendar } : {}),
      log,
      explain: { enforcer: () => catalogues.current().enforcer, inForce: () => agreementRegistry.current() },
      onChange: () => agreementRegistry.refresh(),
      reloadCatalogue,
      quotaUse: (agreement, at) => readQuotaUse(resources.quotaStore, agreement, at),
      operations: resources.operations.registry,
    }),
  );
  app.route('/admin/api', createOperationsApi({ authenticate, store: resources.operations.store, registry: resources.operations.registry, log }));
  // Receipts count a checkpoint once the configured quorum cosigned it (none configured: the log's signature alone, and the receipt says so).
  // Without witnesses the writer checkpoints only every minute: a pending receipt is worth looking for again after that.
  const receipts = createReceiptSource({
    db: store.db,
    quorum: config.witnessQuorum,
    checkAfterMs: config.witnesses.length > 0 ? DEFAULT_RECEIPT_CHECK_AFTER_MS : DEFAULT_CHECKPOINT_INTERVAL_MS + DEFAULT_RECEIPT_CHECK_AFTER_MS,
  });
  app.route('/admin/api', createAccessLogApi({ db: store.db, writer: resources.accessLog, receipts, authenticate, log }));
  // The persona picker signs with the dev issuer, so it exists only while the dev issuer is on.
  const personas = auth.devIssuer && options.console?.personas ? { issuer: auth.devIssuer, list: options.console.personas } : undefined;
  const bureauNames = options.console?.bureauNames;
  const purposeNames = options.console?.purposeNames;
  const witnessNames = options.console?.witnessNames;
  app.route('/console', createConsole({ agreements: resources.agreements, catalogue, verifier: auth.verifier, onChange: () => agreementRegistry.refresh(), log, personas, bureauNames, purposeNames, witnessNames, ...(options.console?.now && { now: options.console.now, sessions: { now: Date.now } }), accessLog: { db: resources.store.db, writer: resources.accessLog, verifyOptions: consoleVerifyOptions(resources), receipts }, securityEvents: resources.securityEventStore, lifecycle: resources.lifecycle, agreementUse: (id, range, signal) => readAgreementUse(store.db, id, range, signal), quotaUse: (agreement, at) => readQuotaUse(resources.quotaStore, agreement, at), oidc: config.consoleOidc, operations: resources.operations.registry }));

  const listener = createRequestListener({
    yoga: {
      acquire() {
        const generation = catalogues.current();
        return { yoga: yogaOf(generation), release: generation.enter() };
      },
    },
    app,
    metrics,
    log,
    maxBodyBytes: config.maxBodyBytes,
    maxBodyBytesInFlight: config.maxBodyBytesInFlight,
    graphiql: config.graphiql,
    tracing: resources.tracing,
    trustedProxies: config.trustedProxies,
  });
  return {
    listener,
    app,
    startDraining() {
      draining = true;
    },
    reloadCatalogue,
  };
}

/** What the console's verification run proves against: the configured witnesses and the log keys of the keys folder (never the database's). */
function consoleVerifyOptions(resources: GatewayResources): NonNullable<AuditorRoutesDeps['verifyOptions']> {
  const { config } = resources;
  return {
    witnesses: config.witnesses,
    quorum: config.witnessQuorum,
    logName: config.logName,
    // A getter: each run spreads these options, and so checks with the keys as of the last reload.
    get logKeys() {
      return resources.logKeys.keys.map((key) => parseVerifierKey(key.vkey));
    },
  };
}
