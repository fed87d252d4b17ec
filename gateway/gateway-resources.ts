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
import { openStore, type Store } from './store/store.ts';
import { StoreError, StoreRoleUnsafeError } from './store/store-error.ts';
import { checkStoreRole, describeStoreRole } from './store/check-store-role.ts';
import { createGatewayAuth, type GatewayAuth } from './auth/create-gateway-auth.ts';
import { CONSUMER_ASSERTION_HEADER } from './auth/consumer-assertion.ts';
import { openSigningKey } from './auth/signing-key.ts';
import { recordPublicKeyHistory } from './auth/public-key-history.ts';
import { createAgreementStore, type AgreementStore } from './agreements/agreement-store.ts';
import { createAgreementRegistry, type AgreementRegistry } from './agreements/agreement-registry.ts';
import { startAgreementExpiry } from './agreements/agreement-expiry.ts';
import { createAccessLogWriter, type AccessLogWriter } from './access-log/access-log-writer.ts';
import { detachExpiredPartitions } from './access-log/retention.ts';
import { GATEWAY_VERSION } from './version.ts';

/** File of the key that signs access log checkpoints, under the keys folder. */
export const ACCESS_LOG_KEY_FILE = 'access-log-signing.json';
/** Beside it, the public half of every checkpoint key it has held: the published `/.well-known/isthmus-log-jwks.json`. */
export const ACCESS_LOG_KEY_HISTORY_FILE = 'access-log-jwks.json';
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
  /** This process's chain of the access log. */
  readonly accessLog: AccessLogWriter;
  /** Every key that has signed checkpoints, for `/.well-known/isthmus-log-jwks.json`. */
  readonly accessLogJwks: JSONWebKeySet;
  readonly agreements: AgreementStore;
  /** The reply period and the national working calendar: one set of lifecycle settings for the admin API and the console. */
  readonly lifecycle: LifecycleSettings;
  /** The in-memory view of the agreements in force that every request reads. */
  readonly agreementRegistry: AgreementRegistry;
}

/** Options of {@link openGatewayResources}. */
export interface OpenGatewayResourcesOptions {
  /** Where JSON logs go; stdout by default. */
  readonly logDestination?: DestinationStream;
  /** The access log writer's clock; only a test whose console clock runs ahead (`console.now`) passes one, the same. */
  readonly accessLogNow?: () => Date;
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
      });
    },
    onCloseError: (error, bureau) => log.warn({ err: error, bureau }, 'a replaced connector did not close cleanly'),
  });
  // Each resource's teardown is registered as it opens: written once, run in reverse, on failure as on close.
  const opened = new AsyncDisposableStack();
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
    const accessLog = createAccessLogWriter({ db: store.db, chainId: instanceId, signer: checkpointKey, onBatch: (batch) => metrics.observeAccessLogBatch(batch), ...(options.accessLogNow && { now: options.accessLogNow }) });
    // By the time this runs every response already sent has its entry committed; closing adds the chain's final checkpoint.
    opened.defer(() => accessLog.close().catch((error: unknown) => log.error({ err: error }, 'access log did not close cleanly')));
    await accessLog.ready();
    const retention = setInterval(() => {
      detachExpiredPartitions(store.db, new Date(), { retentionDays: config.logRetentionDays }).catch((error: unknown) =>
        log.warn({ err: error }, 'access log retention failed; will try again'),
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

    metrics.trackBreakers(() => new Map([...catalogues.current().connectors].map(([id, connector]) => [id, connector.breakerState()])));

    const owned = opened.move();
    return {
      config,
      log,
      metrics,
      catalogue: liveCatalogue(() => catalogues.current().catalogue),
      catalogues,
      store,
      instanceId,
      auth,
      accessLog,
      accessLogJwks,
      agreements,
      lifecycle,
      agreementRegistry,
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
