import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { DestinationStream } from 'pino';
import { createConnector } from '../connectors/create-connector.ts';
import type { Catalogue } from '../policies/catalogue.ts';
import { ConfigError, type GatewayConfig } from './config/config.ts';
import type { LifecycleSettings } from '../policies/agreement-lifecycle.ts';
import { CalendarError, loadWorkingCalendar } from './calendar/load-working-calendar.ts';
import { openCatalogueGenerations, type CatalogueGenerations } from './catalogue/catalogue-generations.ts';
import { liveCatalogue } from './catalogue/live-catalogue.ts';
import { consumerHeadersFor, consumerSettingsFor } from './graphql/use-consumer-identity.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { createSecurityEventRecorder, type SecurityEventRecorder } from './observability/security-events.ts';
import { createSecurityEventStore, type SecurityEventStore } from './observability/security-event-store.ts';
import { createAccessDecisionCounter, type CountAccessDecision } from './observability/access-decision-metrics.ts';
import { createAuthThrottle, type AuthThrottle } from './auth/auth-throttle.ts';
import { openStore, type Store } from './store/store.ts';
import { StoreError, StoreRoleUnsafeError } from './store/store-error.ts';
import { checkStoreRole, describeStoreRole } from './store/check-store-role.ts';
import { createGatewayAuth, type GatewayAuth } from './auth/create-gateway-auth.ts';
import { CONSUMER_ASSERTION_HEADER } from './auth/consumer-assertion.ts';
import { openSigningKey } from './auth/signing-key.ts';
import { recordPublicKeyHistory } from './auth/public-key-history.ts';
import { createAgreementStore, type AgreementStore } from './agreements/agreement-store.ts';
import { createAgreementRegistry, type AgreementRegistry } from './agreements/agreement-registry.ts';
import { createOperationRegistry, type OperationRegistry } from './operations/operation-registry.ts';
import { createOperationManifestStore, type OperationManifestStore } from './operations/operation-manifest-store.ts';
import { startAgreementExpiry } from './agreements/agreement-expiry.ts';
import { createAccessLogWriter, type AccessLogWriter } from './access-log/access-log-writer.ts';
import { detachExpiredPartitions } from './access-log/retention.ts';
import { createSecurityEventRetention } from './observability/security-event-retention.ts';
import { openArchiveTarget } from './access-log/archive-target.ts';
import { createEvidenceGate, type EvidenceGate } from './access-log/evidence-gate.ts';
import type { LogKeysDocument } from './access-log/log-tree-keys.ts';
import { createGatewayKeys, type GatewayKeys } from './gateway-keys.ts';
import { openLogNoteKey } from './access-log/log-tree-note-key.ts';
import { createWitnessPublisher, type WitnessPublisher } from './access-log/witness-publisher.ts';
import { readTimestampSettings } from './access-log/timestamp-settings.ts';
import { createCheckpointStamper } from './access-log/timestamp-stamper.ts';
import { GATEWAY_VERSION } from './version.ts';
import { createQuotaStore, type QuotaStore } from './quotas/quota-store.ts';
import { createQuotaMeter, type QuotaMeter } from './quotas/quota-meter.ts';
import { registerQuotaMetrics } from './quotas/quota-metrics.ts';
import { createTracing, type Tracing } from './observability/tracing.ts';
import { upstreamTracerFor } from './observability/upstream-tracer.ts';

/** File of the key that signs access log checkpoints, under the keys folder. */
export const ACCESS_LOG_KEY_FILE = 'access-log-signing.json';
/** Beside it, the public half of every checkpoint key it has held: the published `/.well-known/isthmus-log-jwks.json`. */
export const ACCESS_LOG_KEY_HISTORY_FILE = 'access-log-jwks.json';
/** How long the start waits for the witnesses to cosign the chain's checkpoint #0 before it serves anyway (the grace clock runs). */
export const DEFAULT_WITNESS_STARTUP_WAIT_MS = 10_000;
/** How often a checkpoint is signed, if anything was added, when witnesses are configured: what they see is at most this old. */
export const WITNESSED_CHECKPOINT_INTERVAL_MS = 10_000;
/** How often old access log months are checked for detaching. */
const RETENTION_SWEEP_MS = 6 * 60 * 60 * 1_000;

/**
 * Everything a gateway holds open: the store, this process's access log
 * chain, the agreements in force, a connector per bureau, the stitched
 * schema and its enforcer. Disposing it closes them in the reverse order of
 * opening (the log's final checkpoint is written before the store closes).
 */
export interface GatewayResources extends AsyncDisposable {
  readonly config: GatewayConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The gateway's tracing, when `ISTHMUS_OTLP_TRACES_ENDPOINT` is set; shut down (its spans flushed) last. */
  readonly tracing: Tracing | undefined;
  /** The current generation's catalogue, read afresh on every access (it changes on a reload). */
  readonly catalogue: Catalogue;
  /**
   * The catalogue and what is built over it (connectors, stitched schema,
   * enforcer) generation by generation: `current()` for a new request,
   * `reload()` when the schemas folder changed.
   */
  readonly catalogues: CatalogueGenerations;
  readonly store: Store;
  /** This process's id: its row in `gateway_instances` and the id of its access log chain. */
  readonly instanceId: string;
  readonly auth: GatewayAuth;
  /** Failed authentications per client address, for `/graphql` and the hono routes alike (per process). */
  readonly authThrottle: AuthThrottle;
  /** This process's chain of the access log. */
  readonly accessLog: AccessLogWriter;
  /** Every key that has signed checkpoints, for `/.well-known/isthmus-log-jwks.json`. */
  readonly accessLogJwks: JSONWebKeySet;
  /** The log's note keys (current and past) and its witnesses, for `/.well-known/isthmus-log-keys`; read afresh, it changes on a keys reload. */
  readonly logKeys: LogKeysDocument;
  /** The rotated keys (consumer assertions, log note key): `keys.reload()` on SIGHUP, with the catalogue. */
  readonly keys: GatewayKeys;
  /** Closes (no data released) when witnesses have been silent past the grace period; always open without witnesses. */
  readonly evidenceGate: EvidenceGate;
  /** Sends this chain's checkpoints to the witnesses; undefined when none are configured. */
  readonly witnessPublisher: WitnessPublisher | undefined;
  readonly agreements: AgreementStore;
  /** The reply period and the national working calendar: one set of lifecycle settings for the admin API and the console. */
  readonly lifecycle: LifecycleSettings;
  /** The in-memory view of the agreements in force that every request reads. */
  readonly agreementRegistry: AgreementRegistry;
  /** Security events: the table (read by the API and console), and the recorder that writes it in batches off the request's path. */
  readonly securityEventStore: SecurityEventStore;
  readonly securityEvents: SecurityEventRecorder;
  /** Counts each committed access record's decisions (`isthmus_access_decisions_total`). */
  readonly countAccessDecision: CountAccessDecision;
  /** Agreement quotas: the shared counters, and this replica's meter that leases from them. */
  readonly quotaStore: QuotaStore;
  readonly quotas: QuotaMeter;
  /** Registered operations per app (admin API changes) and the in-memory view `/graphql` reads. */
  readonly operations: { readonly store: OperationManifestStore; readonly registry: OperationRegistry };
}

/** Options of {@link openGatewayResources}. */
export interface OpenGatewayResourcesOptions {
  /** Where JSON logs go; stdout by default. */
  readonly logDestination?: DestinationStream;
  /** The access log writer's clock; only a test whose console clock runs ahead (`console.now`) passes one, the same. */
  readonly accessLogNow?: () => Date;
  /** Timings of the witness round (tests shorten them); each defaults to the named constant. */
  readonly witnessTiming?: {
    readonly startupWaitMs?: number;
    readonly checkpointIntervalMs?: number;
    readonly requestTimeoutMs?: number;
    readonly retryMinMs?: number;
    readonly retryMaxMs?: number;
    readonly closeWaitMs?: number;
  };
}

/**
 * Opens what a gateway serves from, in dependency order: loads the
 * catalogue (an invalid one stops here, naming file and field), opens and
 * migrates the store (an embedded one only if no other process holds it),
 * registers the instance, opens its access log chain, loads the agreements
 * in force and connects every bureau. If any step fails, what was opened
 * is closed again before the error is thrown.
 *
 * @example
 * await using resources = await openGatewayResources(loadConfig(process.env));
 * const handler = createGatewayHandler(resources);
 */
export async function openGatewayResources(config: GatewayConfig, options: OpenGatewayResourcesOptions = {}): Promise<GatewayResources> {
  const log = createLogger(config.logLevel, options.logDestination);
  const lifecycle = openLifecycleSettings(config, log);
  const metrics = createMetrics();
  const tracing = config.tracing && createTracing(config.tracing, GATEWAY_VERSION);
  // Read first, so an invalid catalogue stops the start before anything is opened; connectors open here too, and are closed last.
  const catalogues = openCatalogueGenerations({
    dir: config.schemasDir,
    env: config.env,
    denyWholeOperation: config.denyWholeOperation,
    connect: (bureau, schema) => {
      const { kind, url, timeoutMs, maxConcurrency, breaker } = bureau.connector;
      return createConnector(kind, {
        bureau: bureau.id,
        url,
        schema,
        limits: { timeoutMs, maxConcurrency, breaker },
        observe: metrics.observeUpstream,
        upstreamHeaders: consumerHeadersFor(bureau.id, CONSUMER_ASSERTION_HEADER),
        sessionSettings: consumerSettingsFor(bureau.id),
        ...(tracing && { traceCall: upstreamTracerFor(bureau.id, kind) }),
      });
    },
    onCloseError: (error, bureau) => log.warn({ err: error, bureau }, 'a replaced connector did not close cleanly'),
  });
  // Each resource's teardown is registered as it opens: written once, run in reverse, on failure as on close.
  const opened = new AsyncDisposableStack();
  // Disposed last: the spans of the final requests (and of the log's closing) are flushed after everything else has closed.
  if (tracing) opened.defer(() => tracing.shutdown().catch((error: unknown) => log.warn({ err: error }, 'traces could not be flushed')));
  opened.use(catalogues);
  try {
    if (config.databaseUrl && config.migrationDatabaseUrl) await migrateAsOwner(config.migrationDatabaseUrl, log);
    const store = await openStore(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir });
    opened.defer(() => store.close());
    if (config.migrationDatabaseUrl) {
      // The owner migrated; the gateway's own login only checks, as it may not create or alter anything.
      const pending = await store.pending();
      if (pending.length > 0) throw new StoreError('MIGRATIONS_PENDING', `migrations ${pending.join(', ')} are not applied`);
    } else {
      const applied = await store.migrate();
      if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations');
    }
    await checkLoginRole(store, config, log);
    const instanceId = `${hostname()}-${randomUUID().slice(0, 8)}`;
    const now = new Date();
    await store.db.insertInto('gateway_instances').values({ id: instanceId, hostname: hostname(), version: GATEWAY_VERSION, started_at: now, last_seen_at: now }).execute();

    const auth = await createGatewayAuth(config, { verifier: { onKeySetFailure: (issuer) => log[issuer.state === 'misconfigured' ? 'error' : 'warn']({ issuer }, `issuer keys: ${issuer.reason}`) } });
    opened.defer(() => auth.close());
    // The checkpoint key is its own: a leaked upstream-assertion key must not let anyone forge the log's checkpoints.
    const checkpointKey = await openSigningKey({ dir: config.keysDir, fileName: ACCESS_LOG_KEY_FILE, purpose: 'Isthmus gateway: signs access log checkpoints' });
    const accessLogJwks = await recordPublicKeyHistory({ dir: config.keysDir, fileName: ACCESS_LOG_KEY_HISTORY_FILE, current: checkpointKey });
    const witnesses = openWitnesses(config, log);
    const noteKey = await openLogNoteKey({ dir: config.keysDir, logName: config.logName });
    const timing = options.witnessTiming ?? {};
    const evidenceGate = createEvidenceGate({ graceMs: config.witnessGraceSeconds * 1_000, enabled: witnesses });
    const witnessPublisher = witnesses
      ? createWitnessPublisher({
          db: store.db,
          chainId: instanceId,
          witnesses: config.witnesses,
          quorum: config.witnessQuorum,
          ...(timing.requestTimeoutMs !== undefined && { requestTimeoutMs: timing.requestTimeoutMs }),
          ...(timing.retryMinMs !== undefined && { retryMinMs: timing.retryMinMs }),
          ...(timing.retryMaxMs !== undefined && { retryMaxMs: timing.retryMaxMs }),
          ...(timing.closeWaitMs !== undefined && { closeWaitMs: timing.closeWaitMs }),
          onCoverage: (coverage) => evidenceGate.covered(coverage.size),
          onWitnessError: (witness, error) => log.warn({ witness, code: error.code }, `witness ${witness} has not cosigned: ${error.message}`),
        })
      : undefined;
    // Closed after the writer (deferred first, run last): the final checkpoint gets its chance to reach the witnesses.
    if (witnessPublisher) opened.defer(() => witnessPublisher.close());
    // Optional RFC 3161 stamps of the chain's latest checkpoint; closed after the writer, so the final checkpoint is stamped too.
    const timestamps = readTimestampSettings(config.env);
    const stamper = timestamps && createCheckpointStamper({ db: store.db, settings: timestamps, onError: (error, chainId) => log.warn({ chainId, code: (error as { code?: string }).code }, 'checkpoint not timestamped') });
    if (stamper) opened.defer(() => stamper.close());
    const accessLog = createAccessLogWriter({
      db: store.db,
      chainId: instanceId,
      noteSigner: noteKey.signer,
      logName: config.logName,
      ...(witnesses && { checkpointIntervalMs: timing.checkpointIntervalMs ?? WITNESSED_CHECKPOINT_INTERVAL_MS }),
      onBatch: (batch) => {
        metrics.observeAccessLogBatch(batch);
        if (batch.ok && batch.lastSeq !== undefined) evidenceGate.committed(batch.lastSeq);
      },
      onCheckpoint: (checkpoint) => {
        witnessPublisher?.notify(checkpoint);
        stamper?.request(checkpoint.chainId);
      },
      ...(options.accessLogNow && { now: options.accessLogNow }),
    });
    const keys = createGatewayKeys({ config, consumerAssertions: auth.consumerAssertions, accessLog, noteKey });
    // By the time this runs every response already sent has its entry committed; closing adds the chain's final checkpoint.
    opened.defer(() => accessLog.close().catch((error: unknown) => log.error({ err: error }, 'access log did not close cleanly')));
    evidenceGate.started();
    await accessLog.ready();
    if (witnessPublisher && !(await witnessPublisher.waitForCoverage(0, timing.startupWaitMs ?? DEFAULT_WITNESS_STARTUP_WAIT_MS))) {
      log.warn({ witnesses: witnessPublisher.status() }, `no quorum of witnesses cosigned the access log's first checkpoint; serving anyway, and no data is released after ${config.witnessGraceSeconds} s without one`);
    }
    const securityEventRetention = createSecurityEventRetention(store.db, metrics.registry, config.securityEventRetentionDays);
    const archive = await openArchiveTarget(config, noteKey);
    const retention = setInterval(() => {
      detachExpiredPartitions(store.db, new Date(), { retentionDays: config.logRetentionDays, ...(archive && { archive }) }).then(
        (detached) => {
          const months = detached.flatMap((partition) => (partition.archived ? [`${partition.archived.month}${partition.archived.reused ? ' (archive reused)' : ''}`] : []));
          if (months.length > 0) log.info({ months, dir: archive?.dir }, 'access log months archived and detached');
        },
        (error: unknown) => log.warn({ err: error, code: (error as { code?: string }).code }, 'access log retention failed; the months stay attached, will try again'),
      );
      securityEventRetention(new Date()).then(
        (removed) => removed > 0 && log.info({ removed }, 'security events past retention removed'),
        (error: unknown) => log.warn({ err: error }, 'security event retention failed; will try again'),
      );
    }, RETENTION_SWEEP_MS).unref();
    opened.defer(() => clearInterval(retention));

    const agreements = createAgreementStore(store.db);
    const agreementRegistry = await createAgreementRegistry({
      agreements,
      listen: store.listen,
      onError: (error) => log.warn({ err: error }, 'agreement refresh failed; keeping the last snapshot'),
    });
    opened.defer(() => agreementRegistry.close());
    const expiry = startAgreementExpiry({
      agreements,
      onExpired: (expired) => log.info({ agreements: expired.map((agreement) => agreement.id) }, 'agreements expired'),
      onError: (error) => log.warn({ err: error }, 'agreement expiry sweep failed'),
    });
    opened.defer(() => expiry.close());

    const securityEventStore = createSecurityEventStore(store.db);
    const securityEvents = createSecurityEventRecorder({ store: securityEventStore, metrics, log });
    // Deferred after the store: closed before it, so the last batch is written.
    opened.defer(() => securityEvents.close());
    const countAccessDecision = createAccessDecisionCounter(metrics);
    const quotaStore = createQuotaStore(store.db);
    const quotaMetrics = registerQuotaMetrics(metrics.registry, () => agreementRegistry.current().agreements, quotaStore);
    const quotas = createQuotaMeter({
      store: quotaStore,
      leaseBlock: config.quotaLeaseBlock,
      onError: (error) => log.warn({ err: error }, 'quota lease failed; records of a request not counted'),
      onRefused: (refusal) => quotaMetrics.refused(refusal.kind),
    });
    const operationStore = createOperationManifestStore(store.db);
    const operationRegistry = await createOperationRegistry({
      settings: config.operations,
      store: operationStore,
      listen: store.listen,
      onError: (error) => log.warn({ err: error }, 'registered operations refresh failed; keeping the last view'),
    });
    opened.defer(() => operationRegistry.close());

    metrics.trackBreakers(() => new Map([...catalogues.current().connectors].map(([id, connector]) => [id, connector.breakerState()])));

    const owned = opened.move();
    return {
      config,
      log,
      metrics,
      tracing,
      catalogue: liveCatalogue(() => catalogues.current().catalogue),
      catalogues,
      store,
      instanceId,
      auth,
      authThrottle: createAuthThrottle({
        threshold: config.authThrottle.failures,
        windowMs: config.authThrottle.windowSeconds * 1_000,
        penaltyMs: config.authThrottle.penaltySeconds * 1_000,
        capacity: config.authThrottle.capacity,
        registry: metrics.registry,
      }),
      accessLog,
      accessLogJwks,
      get logKeys() {
        return keys.logKeys();
      },
      keys,
      evidenceGate,
      witnessPublisher,
      agreements,
      lifecycle,
      agreementRegistry,
      securityEventStore,
      securityEvents,
      countAccessDecision,
      quotaStore,
      quotas,
      operations: { store: operationStore, registry: operationRegistry },
      [Symbol.asyncDispose]: () => owned.disposeAsync(),
    };
  } catch (error) {
    await opened.disposeAsync().catch((closing: unknown) => log.warn({ err: closing }, 'closing after a failed start failed too'));
    throw error;
  }
}

/** Migrates on a connection of the owner's of its own, closed before the gateway opens its store as its own login. */
async function migrateAsOwner(url: string, log: Logger): Promise<void> {
  const owner = await openStore({ kind: 'postgres', url, poolSize: 1 });
  try {
    const applied = await owner.migrate();
    if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations as the owner (ISTHMUS_MIGRATION_DATABASE_URL)');
  } finally {
    await owner.close();
  }
}

/**
 * The gateway's login must be able to append to the log and read it, never
 * alter it: anything more is one loud warning at start-up (once, not per
 * request), and stops the start in production mode.
 */
async function checkLoginRole(store: Store, config: GatewayConfig, log: Logger): Promise<void> {
  const report = await checkStoreRole(store);
  if (report.problems.length === 0) return;
  const message = describeStoreRole(report);
  const codes = report.problems.map((problem) => problem.code);
  if (config.production) throw new StoreRoleUnsafeError(codes, `refusing to start with ISTHMUS_PRODUCTION=true: ${message}`);
  log.warn({ login: report.login, problems: codes }, `the access log is not protected from the gateway's own database login: ${message}`);
}

/**
 * Whether witnesses are configured. Without one, nothing outside the
 * database vouches for the log: a loud warning, and a refusal to start in
 * production mode.
 */
function openWitnesses(config: GatewayConfig, log: Logger): boolean {
  if (config.witnesses.length > 0) return true;
  const message = 'no witnesses are configured (ISTHMUS_WITNESSES): the access log\'s checkpoints are signed but nobody outside the database cosigns them, so whoever controls the database can rewrite the log unnoticed';
  if (config.production) throw new ConfigError([`ISTHMUS_WITNESSES: ISTHMUS_PRODUCTION=true needs at least one witness; ${message}`]);
  log.warn({ witnesses: 0 }, message);
  return false;
}

/** The lifecycle's settings from the config; a bad calendar folder stops the start as a bad setting does. */
function openLifecycleSettings(config: GatewayConfig, log: Logger): LifecycleSettings {
  try {
    const { calendar, provisionalYears } = loadWorkingCalendar(config.calendarDir);
    const thisYear = new Date().getUTCFullYear();
    if (!calendar.years.includes(thisYear)) log.warn({ years: calendar.years }, `no working calendar for ${thisYear}: its reply-by dates count Monday to Friday`);
    if (provisionalYears.length > 0) log.info({ years: provisionalYears }, 'working calendar years derived from the statutory holidays (provisional)');
    return { workingDaysToReply: config.agreementReplyWorkingDays, calendar };
  } catch (error) {
    if (error instanceof CalendarError) throw new ConfigError(error.problems.map((problem) => `ISTHMUS_CALENDAR_DIR: ${problem}`));
    throw error;
  }
}
