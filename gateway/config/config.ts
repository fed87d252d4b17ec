import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIssuers, type IssuerConfig } from '../auth/issuer-config.ts';
import { DEV_ISSUER } from '../auth/dev-issuer.ts';
import { parseWitnessList, WitnessListInvalid, type WitnessConfig } from '../access-log/witness-config.ts';
import { DEFAULT_LOG_NAME } from '../access-log/log-tree-note-key.ts';
import { DEFAULT_WITNESS_GRACE_SECONDS } from '../access-log/evidence-gate.ts';
import { readTracingConfig, type TracingConfig } from '../observability/tracing-config.ts';
import { NO_TRUSTED_PROXIES, parseTrustedProxies, TrustedProxiesInvalid, type TrustedProxies } from '../http/trusted-proxies.ts';
import { readOperationsSettings, type OperationsSettings } from '../operations/operations-settings.ts';
import { DatabaseUrlInvalid, parseDatabaseUrl } from '../store/database-url.ts';

/** Port of the gateway when `PORT` is not set. */
export const DEFAULT_PORT = 4_000;
/** Interface the gateway listens on: loopback unless told otherwise. */
export const DEFAULT_HOST = '127.0.0.1';
/** Largest request body accepted on `/graphql`. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;
/**
 * Most bytes of `/graphql` request bodies held at once: 32 bodies of the
 * default largest size. A body costs about 1.7 times its size in memory while
 * it is read and parsed (measured: 50 concurrent 1 MB bodies took 85 MB), so
 * this keeps bodies to ~55 MB, and still admits thousands of ordinary
 * queries (a few KB each) at once. Never less than the body limit itself.
 */
export const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = 32 * 1_048_576;
/** Deepest selection nesting an operation may have. */
export const DEFAULT_MAX_DEPTH = 12;
/** Most aliased fields one operation may request. */
export const DEFAULT_MAX_ALIASES = 30;
/**
 * Highest cost (list sizes × selected fields, see `gateway/graphql/operation-cost.ts`) an operation may have.
 * The demo's GraphiQL query costs 46; its widest (a batch of 50 persons, every field of the three bureaus, their
 * enterprises with every field) costs 4 600 at the demo's list sizes (50 × (1 + 6 + 5 + 10 × 8)). Three times that
 * leaves room for real clients, while nesting unbounded lists (20 × 20 × …) past a few levels is refused.
 */
export const DEFAULT_MAX_COST = 15_000;
/** The size of a list that neither its bureau's `@listSize` nor its arguments bound: a page, as most APIs serve one. */
export const DEFAULT_LIST_SIZE = 20;
/** Failed authentications from one address within the window that start its penalty: far above a person mistyping, far below a guessing script. */
export const DEFAULT_AUTH_THROTTLE_FAILURES = 20;
/** The window failures are counted in. */
export const DEFAULT_AUTH_THROTTLE_WINDOW_SECONDS = 60;
/** How long a failing address is refused: long enough that guessing does not pay, short enough that a misconfigured client recovers on its own. */
export const DEFAULT_AUTH_THROTTLE_PENALTY_SECONDS = 300;
/** Addresses the throttle holds in each of its two tables: about 100 bytes each, so 2 MB at most. */
export const DEFAULT_AUTH_THROTTLE_CAPACITY = 10_000;

/** Working days a providing bureau has to answer an agreement request (a common statutory reply period). */
export const DEFAULT_AGREEMENT_REPLY_WORKING_DAYS = 10;
/** How long a SIGTERM waits for in-flight requests before it closes what is left. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/**
 * Most units of a quota a replica leases from the store at once
 * (`gateway/quotas/quota-meter.ts`): 10 makes a busy agreement cost one
 * round trip per ten requests, while units lost at a minute's end stay at
 * most replicas × 10 (a block is also at most a tenth of the limit).
 */
export const DEFAULT_QUOTA_LEASE_BLOCK = 10;
/** How many days of access log months are kept attached before retention detaches them. */
export const DEFAULT_LOG_RETENTION_DAYS = 180;
/** Level-3 protection (等保三级) requires six months of access records: shorter retention is a config error. */
export const MIN_LOG_RETENTION_DAYS = 180;
/** How many days security events are kept before retention removes them. */
export const DEFAULT_SECURITY_EVENT_RETENTION_DAYS = 180;
/** Level-3 protection keeps security logs at least six months; `security_events_prune` (migration 0015) refuses younger cutoffs too. */
export const MIN_SECURITY_EVENT_RETENTION_DAYS = 180;
/** The dev issuer mints tokens for anyone who can run the CLI: off unless the demo or a developer turns it on. */
export const DEFAULT_DEV_ISSUER = false;
/** Off, so that `npm start` is the zero-setup demo; a deployment turns it on (see `GatewayConfig.production`). */
export const DEFAULT_PRODUCTION = false;
/** What the console asks the identity provider for: an ID token; a provider that puts roles and bureau behind a scope names it in `ISTHMUS_CONSOLE_OIDC_SCOPE`. */
export const DEFAULT_CONSOLE_OIDC_SCOPE = 'openid';

/** The console's sign-in through the city's identity provider (OpenID Connect code flow with PKCE). */
export interface ConsoleOidcConfig {
  /** `ISTHMUS_CONSOLE_OIDC_ISSUER`: the provider's issuer identifier; must be one of `ISTHMUS_ISSUERS`, whose claim mapping then reads the ID token. */
  readonly issuer: string;
  /** `ISTHMUS_CONSOLE_OIDC_CLIENT_ID`: the console's client id at the provider; must be one of that issuer's `audience` values (an ID token's `aud` is the client id). */
  readonly clientId: string;
  /** `ISTHMUS_CONSOLE_OIDC_CLIENT_SECRET`: the console's client secret (`client_secret_basic`); unset → a public client (PKCE only). */
  readonly clientSecret: string | undefined;
  /** `ISTHMUS_CONSOLE_OIDC_REDIRECT_URI`: the console's callback as registered at the provider, `https://…/console/sign-in/oidc/callback` (http only on loopback). */
  readonly redirectUri: string;
  /** `ISTHMUS_CONSOLE_OIDC_SCOPE`: space-separated scopes to ask for, `openid` among them. */
  readonly scope: string;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The gateway's settings, checked once at start-up. */
export interface GatewayConfig {
  /** `PORT`: where the gateway listens. */
  readonly port: number;
  /** `HOST`: the interface it binds. */
  readonly host: string;
  /**
   * `DATABASE_URL`: the PostgreSQL server of the gateway's own tables; unset → embedded PGlite under `dataDir`.
   * Several hosts with `target_session_attrs=read-write` (`postgres://db1:5432,db2:5432/isthmus?…`): the one that
   * accepts writes, found again after a failover (see `gateway/store/database-url.ts`).
   */
  readonly databaseUrl: string | undefined;
  /**
   * `ISTHMUS_MIGRATION_DATABASE_URL`: the login that owns the gateway's tables, used only to migrate them before the
   * gateway opens `databaseUrl`; unset → `databaseUrl` migrates too. Only with `DATABASE_URL` (PGlite has one user).
   */
  readonly migrationDatabaseUrl: string | undefined;
  /**
   * `ISTHMUS_PRODUCTION`: refuse to start where a demo only warns — today, when the gateway's database login is a
   * superuser, owns the log's tables or can disable their triggers (and so on the embedded store, whose one user is all three).
   */
  readonly production: boolean;
  /** `ISTHMUS_DATA_DIR`: where embedded PGlite keeps its files (git ignores `.isthmus/`); `:memory:` keeps nothing. */
  readonly dataDir: string | undefined;
  /** `ISTHMUS_SCHEMAS_DIR`: the bureau schemas and manifests. */
  readonly schemasDir: string;
  /** `ISTHMUS_MAX_BODY_BYTES`: larger requests get 413. */
  readonly maxBodyBytes: number;
  /** `ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT`: most bytes of request bodies (by their Content-Length) admitted at once; past it, 503 with `retry-after`. */
  readonly maxBodyBytesInFlight: number;
  /** `ISTHMUS_MAX_DEPTH`: deeper operations are refused with `LIMIT_EXCEEDED`. */
  readonly maxDepth: number;
  /** `ISTHMUS_MAX_ALIASES`: operations with more aliases are refused with `LIMIT_EXCEEDED`. */
  readonly maxAliases: number;
  /** `ISTHMUS_SHUTDOWN_TIMEOUT_MS`: bound on a graceful shutdown. */
  readonly shutdownTimeoutMs: number;
  /** `ISTHMUS_MAX_COST`: operations that cost more (list sizes × selected fields) are refused with `LIMIT_EXCEEDED`, reason `COST_LIMIT`. */
  readonly maxCost: number;
  /**
   * Failed authentications per client address (`ISTHMUS_AUTH_THROTTLE_FAILURES` within `ISTHMUS_AUTH_THROTTLE_WINDOW_SECONDS`)
   * start a penalty of `ISTHMUS_AUTH_THROTTLE_PENALTY_SECONDS` (429 `AUTH_THROTTLED`, good tokens too); at most
   * `ISTHMUS_AUTH_THROTTLE_CAPACITY` addresses counted and as many penalized, per process.
   */
  readonly authThrottle: { readonly failures: number; readonly windowSeconds: number; readonly penaltySeconds: number; readonly capacity: number };
  /** `ISTHMUS_TRUSTED_PROXIES`: comma-separated addresses of the proxies whose `x-forwarded-for` names the client; none by default. */
  readonly trustedProxies: TrustedProxies;
  /** `ISTHMUS_AGREEMENT_REPLY_DAYS`: working days (of the national calendar, see `calendarDir`) a providing bureau has to answer a submitted agreement request. */
  readonly agreementReplyWorkingDays: number;
  /** `ISTHMUS_CALENDAR_DIR`: the national holiday calendar, one `cn-<year>.json` per year; read and checked when the gateway opens. */
  readonly calendarDir: string;
  /** `ISTHMUS_DENY_WHOLE_OPERATION`: refuse a whole operation (403) when any field is denied, instead of a partial result. */
  readonly denyWholeOperation: boolean;
  /** `ISTHMUS_GRAPHIQL`: serve GraphiQL to browsers on `/graphql` (`true`/`false`). */
  readonly graphiql: boolean;
  /** `ISTHMUS_LOG_RETENTION_DAYS`: access log months entirely older than this are detached (never deleted); at least 180. */
  readonly logRetentionDays: number;
  /** `ISTHMUS_SECURITY_EVENT_RETENTION_DAYS`: security events older than this are removed (by the owner's `security_events_prune`); at least 180. */
  readonly securityEventRetentionDays: number;
  /**
   * `ISTHMUS_LOG_ARCHIVE_DIR`: before retention detaches a month, it writes it here as a signed, hash-linked archive
   * (`<dir>/<yyyy-mm>/`, see `access-log/archive-format.ts`); checked writable at start-up. Unset → months are detached unarchived.
   */
  readonly logArchiveDir: string | undefined;
  /** `ISTHMUS_ISSUERS` (a JSON array) or `ISTHMUS_ISSUERS_FILE` (a path to one): the trusted token issuers (see `gateway/auth/issuer-config.ts`); none by default. */
  readonly issuers: readonly IssuerConfig[];
  /** `ISTHMUS_DEV_ISSUER`: trust the built-in dev issuer (`isthmus token`) and serve its keys at `/.well-known/jwks.json`. */
  readonly devIssuer: boolean;
  /**
   * `ISTHMUS_KEYS_DIR`: where the dev issuer's and the gateway's own signing keys live (created 0600 on first use).
   * Default: the folder holding the data dir (`.isthmus/`); in memory only when `ISTHMUS_DATA_DIR=:memory:` and this is unset.
   */
  readonly keysDir: string | undefined;
  /** `ISTHMUS_LOG_NAME`: the access log's name, and its note key's; a chain's checkpoints carry the origin `<name>/<chain id>`. */
  readonly logName: string;
  /** `ISTHMUS_WITNESSES`: comma-separated `<witness vkey>@<base URL>`; the gateway sends every checkpoint to each. None by default (a loud warning; refused with `ISTHMUS_PRODUCTION`). */
  readonly witnesses: readonly WitnessConfig[];
  /** `ISTHMUS_WITNESS_QUORUM`: how many of them must cosign a checkpoint for it to count; default all. */
  readonly witnessQuorum: number;
  /** `ISTHMUS_WITNESS_GRACE_SECONDS`: once evidence has waited this long for a quorum's cosignature, no data is released (`EVIDENCE_UNWITNESSED`) and `/readyz` says not ready. */
  readonly witnessGraceSeconds: number;
  /** The console's OpenID Connect sign-in (`ISTHMUS_CONSOLE_OIDC_*`); undefined when `ISTHMUS_CONSOLE_OIDC_ISSUER` is unset. */
  readonly consoleOidc: ConsoleOidcConfig | undefined;
  /** Trusted operations (`ISTHMUS_OPERATIONS_DIR`, `ISTHMUS_OPERATIONS_MODE`, `ISTHMUS_OPERATIONS_APP_MODES`; see `operations/operations-settings.ts`). */
  readonly operations: OperationsSettings;
  /** `LOG_LEVEL`: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. */
  readonly logLevel: LogLevel;
  /** `ISTHMUS_QUOTA_LEASE_BLOCK`: most units of an agreement's quota one replica leases from the store at once (1: exact counting, a round trip per request). */
  readonly quotaLeaseBlock: number;
  /** `ISTHMUS_OTLP_*` (`observability/tracing-config.ts`): where OpenTelemetry traces go; unset `ISTHMUS_OTLP_TRACES_ENDPOINT` → tracing off. */
  readonly tracing: TracingConfig | undefined;
  /** Everything else in the environment, for `${NAME}` in bureau manifests. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Log levels, from pino. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A setting is missing or wrong; the message names each one. The process should stop. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the gateway's settings from the environment, checks all of them and
 * throws one {@link ConfigError} listing every problem.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false`);
    return fallback;
  };
  const retentionDays = (): number => {
    const days = integer('ISTHMUS_LOG_RETENTION_DAYS', DEFAULT_LOG_RETENTION_DAYS, 1, 36_500);
    if (days >= MIN_LOG_RETENTION_DAYS) return days;
    problems.push(`ISTHMUS_LOG_RETENTION_DAYS must be at least ${MIN_LOG_RETENTION_DAYS}: level-3 protection requires six months of access records`);
    return DEFAULT_LOG_RETENTION_DAYS;
  };
  const securityEventRetentionDays = (): number => {
    const days = integer('ISTHMUS_SECURITY_EVENT_RETENTION_DAYS', DEFAULT_SECURITY_EVENT_RETENTION_DAYS, 1, 36_500);
    if (days >= MIN_SECURITY_EVENT_RETENTION_DAYS) return days;
    problems.push(`ISTHMUS_SECURITY_EVENT_RETENTION_DAYS must be at least ${MIN_SECURITY_EVENT_RETENTION_DAYS}: level-3 protection keeps security logs six months`);
    return DEFAULT_SECURITY_EVENT_RETENTION_DAYS;
  };

  const databaseUrl = env.DATABASE_URL || undefined;
  const databaseUrlProblem = databaseUrl === undefined ? undefined : checkDatabaseUrl(databaseUrl);
  if (databaseUrlProblem) problems.push(`DATABASE_URL: ${databaseUrlProblem}`);
  const migrationDatabaseUrl = env.ISTHMUS_MIGRATION_DATABASE_URL || undefined;
  const migrationUrlProblem = migrationDatabaseUrl === undefined ? undefined : checkDatabaseUrl(migrationDatabaseUrl);
  if (migrationUrlProblem) {
    problems.push(`ISTHMUS_MIGRATION_DATABASE_URL: ${migrationUrlProblem}`);
  } else if (migrationDatabaseUrl !== undefined && databaseUrl === undefined) {
    problems.push('ISTHMUS_MIGRATION_DATABASE_URL needs DATABASE_URL: the embedded store has one user, who migrates and serves');
  }
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const dataDir = env.ISTHMUS_DATA_DIR === ':memory:' ? undefined : resolve(env.ISTHMUS_DATA_DIR || resolve(PROJECT_ROOT, '.isthmus/data'));
  // Keys sit beside the data dir rather than in it: PGlite owns that folder.
  const keysDir = env.ISTHMUS_KEYS_DIR ? resolve(env.ISTHMUS_KEYS_DIR) : dataDir === undefined ? undefined : dirname(dataDir);
  const issuers = readIssuers(env);
  problems.push(...issuers.problems);
  const devIssuer = boolean('ISTHMUS_DEV_ISSUER', DEFAULT_DEV_ISSUER);
  if (devIssuer && issuers.issuers.some((issuer) => issuer.issuer === DEV_ISSUER)) {
    problems.push(`ISTHMUS_ISSUERS must not list "${DEV_ISSUER}" while ISTHMUS_DEV_ISSUER is on: the built-in dev issuer has that id`);
  }

  const consoleOidc = readConsoleOidc(env, issuers.issuers, problems);

  const logName = env.ISTHMUS_LOG_NAME || DEFAULT_LOG_NAME;
  if (!/^[^\s+]{1,256}$/u.test(logName)) problems.push('ISTHMUS_LOG_NAME must be a note key name: no white space or "+", at most 256 characters');
  let witnesses: readonly WitnessConfig[] = [];
  try {
    witnesses = parseWitnessList(env.ISTHMUS_WITNESSES ?? '');
  } catch (error) {
    if (!(error instanceof WitnessListInvalid)) throw error;
    problems.push(`ISTHMUS_WITNESSES: ${error.message}`);
  }
  const witnessQuorum = integer('ISTHMUS_WITNESS_QUORUM', witnesses.length, witnesses.length === 0 ? 0 : 1, Math.max(witnesses.length, 1));
  if (env.ISTHMUS_WITNESS_QUORUM && witnesses.length === 0) problems.push('ISTHMUS_WITNESS_QUORUM needs ISTHMUS_WITNESSES');

  const maxBodyBytes = integer('ISTHMUS_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1_024, 100 * 1_048_576);
  const bodyBytesInFlight = (): number => {
    const bytes = integer('ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT', Math.max(DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, maxBodyBytes), 1_024, 16_384 * 1_048_576);
    if (bytes >= maxBodyBytes) return bytes;
    // A bound below the body limit would refuse, forever, every body between the two.
    problems.push(`ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT must be at least ISTHMUS_MAX_BODY_BYTES (${maxBodyBytes})`);
    return maxBodyBytes;
  };

  const maxCost = integer('ISTHMUS_MAX_COST', DEFAULT_MAX_COST, 1, 1_000_000_000);
  const authThrottle = {
    failures: integer('ISTHMUS_AUTH_THROTTLE_FAILURES', DEFAULT_AUTH_THROTTLE_FAILURES, 1, 100_000),
    windowSeconds: integer('ISTHMUS_AUTH_THROTTLE_WINDOW_SECONDS', DEFAULT_AUTH_THROTTLE_WINDOW_SECONDS, 1, 86_400),
    penaltySeconds: integer('ISTHMUS_AUTH_THROTTLE_PENALTY_SECONDS', DEFAULT_AUTH_THROTTLE_PENALTY_SECONDS, 1, 86_400),
    capacity: integer('ISTHMUS_AUTH_THROTTLE_CAPACITY', DEFAULT_AUTH_THROTTLE_CAPACITY, 1, 10_000_000),
  };
  let trustedProxies: TrustedProxies = NO_TRUSTED_PROXIES;
  try {
    trustedProxies = parseTrustedProxies(env.ISTHMUS_TRUSTED_PROXIES ?? '');
  } catch (error) {
    if (!(error instanceof TrustedProxiesInvalid)) throw error;
    problems.push(`ISTHMUS_TRUSTED_PROXIES: ${error.message}`);
  }

  const config: GatewayConfig = {
    port: integer('PORT', DEFAULT_PORT, 0, 65_535),
    host: env.HOST || DEFAULT_HOST,
    databaseUrl,
    migrationDatabaseUrl,
    production: boolean('ISTHMUS_PRODUCTION', DEFAULT_PRODUCTION),
    dataDir,
    schemasDir: resolve(env.ISTHMUS_SCHEMAS_DIR || resolve(PROJECT_ROOT, 'schemas')),
    maxBodyBytes,
    maxBodyBytesInFlight: bodyBytesInFlight(),
    maxDepth: integer('ISTHMUS_MAX_DEPTH', DEFAULT_MAX_DEPTH, 2, 100),
    maxAliases: integer('ISTHMUS_MAX_ALIASES', DEFAULT_MAX_ALIASES, 0, 10_000),
    shutdownTimeoutMs: integer('ISTHMUS_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, 600_000),
    maxCost,
    authThrottle,
    trustedProxies,
    graphiql: boolean('ISTHMUS_GRAPHIQL', true),
    denyWholeOperation: boolean('ISTHMUS_DENY_WHOLE_OPERATION', false),
    agreementReplyWorkingDays: integer('ISTHMUS_AGREEMENT_REPLY_DAYS', DEFAULT_AGREEMENT_REPLY_WORKING_DAYS, 1, 60),
    calendarDir: resolve(env.ISTHMUS_CALENDAR_DIR || resolve(PROJECT_ROOT, 'gateway/calendar')),
    logRetentionDays: retentionDays(),
    securityEventRetentionDays: securityEventRetentionDays(),
    logArchiveDir: env.ISTHMUS_LOG_ARCHIVE_DIR ? resolve(env.ISTHMUS_LOG_ARCHIVE_DIR) : undefined,
    issuers: issuers.issuers,
    devIssuer,
    keysDir,
    consoleOidc,
    logName,
    witnesses,
    witnessQuorum,
    witnessGraceSeconds: integer('ISTHMUS_WITNESS_GRACE_SECONDS', DEFAULT_WITNESS_GRACE_SECONDS, 1, 30 * 86_400),
    operations: readOperationsSettings(env, problems),
    logLevel,
    quotaLeaseBlock: integer('ISTHMUS_QUOTA_LEASE_BLOCK', DEFAULT_QUOTA_LEASE_BLOCK, 1, 1_000),
    tracing: readTracingConfig(env, problems),
    env,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const CONSOLE_OIDC_CALLBACK = '/sign-in/oidc/callback';

/** The console's OIDC settings: all or nothing, the issuer trusted, the client id one of its audiences, the callback where the console listens. */
function readConsoleOidc(env: Readonly<Record<string, string | undefined>>, issuers: readonly IssuerConfig[], problems: string[]): ConsoleOidcConfig | undefined {
  const issuer = env.ISTHMUS_CONSOLE_OIDC_ISSUER || undefined;
  const clientId = env.ISTHMUS_CONSOLE_OIDC_CLIENT_ID || undefined;
  const redirectUri = env.ISTHMUS_CONSOLE_OIDC_REDIRECT_URI || undefined;
  const clientSecret = env.ISTHMUS_CONSOLE_OIDC_CLIENT_SECRET || undefined;
  const scope = (env.ISTHMUS_CONSOLE_OIDC_SCOPE || DEFAULT_CONSOLE_OIDC_SCOPE).trim();
  if (issuer === undefined) {
    if (clientId !== undefined || redirectUri !== undefined || clientSecret !== undefined) problems.push('ISTHMUS_CONSOLE_OIDC_ISSUER must be set when any other ISTHMUS_CONSOLE_OIDC_* setting is');
    return undefined;
  }
  const trusted = issuers.find((candidate) => candidate.issuer === issuer);
  if (!trusted) problems.push('ISTHMUS_CONSOLE_OIDC_ISSUER must be one of the issuers in ISTHMUS_ISSUERS: the gateway verifies the ID token with that issuer\'s keys and claim mapping');
  if (clientId === undefined) problems.push('ISTHMUS_CONSOLE_OIDC_CLIENT_ID must be set with ISTHMUS_CONSOLE_OIDC_ISSUER');
  else if (trusted && !trusted.audience.includes(clientId)) problems.push(`ISTHMUS_CONSOLE_OIDC_CLIENT_ID must be one of the audience values of issuer ${issuer} in ISTHMUS_ISSUERS: an ID token's audience is the client id`);
  if (redirectUri === undefined) problems.push('ISTHMUS_CONSOLE_OIDC_REDIRECT_URI must be set with ISTHMUS_CONSOLE_OIDC_ISSUER');
  else if (!isCallback(redirectUri)) problems.push(`ISTHMUS_CONSOLE_OIDC_REDIRECT_URI must be an https:// URL (http:// only on a loopback host) ending in <console path>${CONSOLE_OIDC_CALLBACK}, without query or fragment`);
  if (!scope.split(/\s+/).includes('openid')) problems.push('ISTHMUS_CONSOLE_OIDC_SCOPE must include openid');
  if (!trusted || clientId === undefined || redirectUri === undefined) return undefined;
  return { issuer, clientId, clientSecret, redirectUri, scope };
}

function isCallback(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(url.hostname);
  return (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) && url.search === '' && url.hash === '' && url.pathname.endsWith(CONSOLE_OIDC_CALLBACK);
}

/** What is wrong with a connection URL (never the URL itself: it may hold a password), or undefined. */
function checkDatabaseUrl(url: string): string | undefined {
  try {
    parseDatabaseUrl(url);
    return undefined;
  } catch (error) {
    if (!(error instanceof DatabaseUrlInvalid)) throw error;
    return error.message;
  }
}
