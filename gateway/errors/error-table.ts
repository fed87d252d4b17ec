import type { ConnectorErrorCode } from '../../connectors/connector-error.ts';
import type { LifecycleErrorCode } from '../../policies/agreement-lifecycle.ts';
import type { AccessLogErrorCode } from '../access-log/access-log-error.ts';
import type { EvidenceGateErrorCode } from '../access-log/evidence-gate.ts';
import type { AgreementStoreErrorCode } from '../agreements/agreement-store-error.ts';
import type { AuthErrorCode } from '../auth/auth-error.ts';
import type { CatalogueError } from '../catalogue/catalogue-error.ts';
import type { StoreErrorCode } from '../store/store-error.ts';
import type { OperationCostErrorCode } from '../graphql/operation-cost.ts';
import type { TrustedOperationsErrorCode } from '../operations/operation-manifest.ts';

/** The codes a GraphQL client sees in `extensions.code`: the contract of DESIGN.md. */
export type GatewayErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'LIMIT_EXCEEDED' | 'UPSTREAM_UNAVAILABLE' | 'INTERNAL';

/** Every `extensions.code` any client sees: GraphQL's, and the JSON APIs' `NOT_FOUND` and `CONFLICT`. */
export type ClientErrorCode = GatewayErrorCode | 'NOT_FOUND' | 'CONFLICT';

/** Refusals of the HTTP edge, before a route's own logic runs. */
export type HttpErrorCode = 'ROUTE_NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'LENGTH_REQUIRED' | 'BODY_TOO_LARGE' | 'BODIES_IN_FLIGHT' | 'QUOTA_EXCEEDED' | 'AUTH_THROTTLED';

/** What graphql-js and graphql-yoga put on a client's own mistakes. */
export type GraphQLRequestErrorCode = 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED' | 'BAD_REQUEST' | 'PERSISTED_QUERY_NOT_FOUND';

/** Every code any module of the gateway raises, so the table below is checked for each of them. */
export type ErrorCode =
  | ClientErrorCode
  | HttpErrorCode
  | GraphQLRequestErrorCode
  | OperationCostErrorCode
  | AuthErrorCode
  | ConnectorErrorCode
  | AccessLogErrorCode
  | EvidenceGateErrorCode
  | StoreErrorCode
  | AgreementStoreErrorCode
  | LifecycleErrorCode
  | CatalogueError['code']
  | TrustedOperationsErrorCode;

/** How a client is told about a failure with a given code. */
export interface ErrorAnswer {
  /** The `extensions.code` the client sees. */
  readonly code: ClientErrorCode;
  /** The HTTP status when the failure ends the whole request (a field-level GraphQL error rides along a 200). */
  readonly status: number;
  /** Sent as `retry-after`: the failure is ours, and passes. */
  readonly retryAfterSeconds?: number;
  /** Sent `www-authenticate: Bearer`. */
  readonly challenge?: true;
}

/** How long a client waits before retrying when the access log or the store cannot take a write: a group commit or a reconnect. */
const STORE_RETRY_SECONDS = 2;
/** How long before retrying when an issuer's keys cannot be fetched: the key fetch's own timeout and back-off. */
const KEYS_RETRY_SECONDS = 5;
/** How long before retrying when no witness has cosigned the log for too long: a checkpoint interval and a witness round trip. */
const EVIDENCE_RETRY_SECONDS = 30;
/** A throttled address's wait when the refusal does not say (it always does: the time left of its penalty). */
const AUTH_THROTTLE_RETRY_SECONDS = 60;
/** How long before retrying when bodies in flight fill their bound: requests take milliseconds to finish. */
const BODIES_RETRY_SECONDS = 1;

const UNAUTHENTICATED = { code: 'UNAUTHENTICATED', status: 401, challenge: true } as const;
const BAD_USER_INPUT = { code: 'BAD_USER_INPUT', status: 400 } as const;
const INTERNAL = { code: 'INTERNAL', status: 500 } as const;
const STORE_UNAVAILABLE = { code: 'INTERNAL', status: 503, retryAfterSeconds: STORE_RETRY_SECONDS } as const;

/**
 * The one table from error code to what the client sees. `satisfies` makes
 * it exhaustive: a module that adds a code does not type-check until the
 * code has its row here.
 */
const ANSWERS = {
  // The client codes themselves, as routes and plugins raise them directly.
  UNAUTHENTICATED,
  FORBIDDEN: { code: 'FORBIDDEN', status: 403 },
  BAD_USER_INPUT,
  NOT_FOUND: { code: 'NOT_FOUND', status: 404 },
  CONFLICT: { code: 'CONFLICT', status: 409 },
  // Depth, cost and alias limits of an operation: a malformed request, not a quota.
  LIMIT_EXCEEDED: { code: 'LIMIT_EXCEEDED', status: 400 },
  // GraphQL over HTTP: execution went ahead and the bureau's fields are null, so the request itself succeeded.
  UPSTREAM_UNAVAILABLE: { code: 'UPSTREAM_UNAVAILABLE', status: 200 },
  INTERNAL,

  // The HTTP edge.
  ROUTE_NOT_FOUND: { code: 'NOT_FOUND', status: 404 },
  METHOD_NOT_ALLOWED: { code: 'BAD_USER_INPUT', status: 405 },
  LENGTH_REQUIRED: { code: 'BAD_USER_INPUT', status: 411 },
  BODY_TOO_LARGE: { code: 'LIMIT_EXCEEDED', status: 413 },
  // The bytes of bodies already admitted fill the bound: the gateway is busy, not the request wrong.
  BODIES_IN_FLIGHT: { code: 'LIMIT_EXCEEDED', status: 503, retryAfterSeconds: BODIES_RETRY_SECONDS },
  QUOTA_EXCEEDED: { code: 'LIMIT_EXCEEDED', status: 429 },
  // The client's address kept failing to authenticate: refused before its token is read; the refusal says how long is left.
  AUTH_THROTTLED: { code: 'LIMIT_EXCEEDED', status: 429, retryAfterSeconds: AUTH_THROTTLE_RETRY_SECONDS },

  // graphql-js and yoga.
  GRAPHQL_PARSE_FAILED: BAD_USER_INPUT,
  GRAPHQL_VALIDATION_FAILED: BAD_USER_INPUT,
  BAD_REQUEST: BAD_USER_INPUT,
  PERSISTED_QUERY_NOT_FOUND: BAD_USER_INPUT,
  // gateway/graphql/operation-cost.ts: list sizes × selected fields over ISTHMUS_MAX_COST, refused while validating.
  COST_LIMIT: { code: 'LIMIT_EXCEEDED', status: 400 },

  // gateway/auth: the token's holder can act on each of these; the token may be fine when the keys are away.
  TOKEN_MISSING: UNAUTHENTICATED,
  TOKEN_MALFORMED: UNAUTHENTICATED,
  ISSUER_UNKNOWN: UNAUTHENTICATED,
  SIGNATURE_INVALID: UNAUTHENTICATED,
  ALGORITHM_NOT_ALLOWED: UNAUTHENTICATED,
  TOKEN_EXPIRED: UNAUTHENTICATED,
  TOKEN_NOT_YET_VALID: UNAUTHENTICATED,
  AUDIENCE_MISMATCH: UNAUTHENTICATED,
  CLAIM_INVALID: UNAUTHENTICATED,
  KEYS_UNAVAILABLE: { code: 'UNAUTHENTICATED', status: 503, retryAfterSeconds: KEYS_RETRY_SECONDS },
  // A kid seen during the JWKS cooldown (a rotation, most likely): retry once the cooldown allows a refetch (the error says when).
  KEY_NOT_YET_KNOWN: { code: 'UNAUTHENTICATED', status: 503, retryAfterSeconds: KEYS_RETRY_SECONDS },
  // An issuer whose discovery or key set can never work: the operator's fault, shown at /readyz, not a passing outage.
  ISSUER_MISCONFIGURED: INTERNAL,

  // connectors/: a bureau that refused is still a bureau the client cannot reach; a bad manifest stops start-up.
  UPSTREAM_REJECTED: { code: 'UPSTREAM_UNAVAILABLE', status: 200 },
  INVALID_CONFIG: INTERNAL,

  // gateway/access-log: no log, no data — and the client may retry.
  ACCESS_LOG_UNAVAILABLE: STORE_UNAVAILABLE,
  ACCESS_LOG_CLOSED: STORE_UNAVAILABLE,
  ACCESS_LOG_INVALID_ENTRY: INTERNAL,
  ACCESS_LOG_FORBIDDEN: { code: 'FORBIDDEN', status: 403 },
  ACCESS_LOG_BAD_QUERY: BAD_USER_INPUT,
  ACCESS_LOG_RETENTION_TOO_SHORT: INTERNAL,
  ACCESS_LOG_ARCHIVE_DIR: INTERNAL,
  ACCESS_LOG_ARCHIVE_CONFLICT: INTERNAL,
  // gateway/access-log/evidence-gate: no witnessed checkpoint for longer than the grace period — no data, and it passes.
  EVIDENCE_UNWITNESSED: { code: 'INTERNAL', status: 503, retryAfterSeconds: EVIDENCE_RETRY_SECONDS },

  // gateway/store: no primary yet is passing; a migration problem stops start-up.
  STORE_UNAVAILABLE,
  MIGRATION_FAILED: INTERNAL,
  MIGRATIONS_PENDING: INTERNAL,
  // Another process holds the embedded store: the second gateway stops before it opens anything.
  STORE_LOCKED: INTERNAL,
  // ISTHMUS_PRODUCTION and a database login that could alter the log: refused at start-up.
  STORE_ROLE_UNSAFE: INTERNAL,

  // gateway/agreements (CONFLICT above).
  BAD_CURSOR: BAD_USER_INPUT,

  // gateway/catalogue: raised at start-up only.
  CATALOGUE_INVALID: INTERNAL,

  // gateway/operations: in mode `require` an app runs only what it registered; a bad manifest folder stops start-up.
  OPERATION_NOT_REGISTERED: { code: 'FORBIDDEN', status: 403 },
  OPERATIONS_MANIFEST_INVALID: INTERNAL,
} as const satisfies Readonly<Record<ErrorCode, ErrorAnswer>>;

/**
 * The codes that refuse a request as a client sees it (`UNAUTHENTICATED`,
 * `FORBIDDEN`, `LIMIT_EXCEEDED`, or a code answered as one of them): the
 * reasons a refusal's security event can carry. Derived from the table, so a
 * new refusing code joins it (and the console's words for it are then due).
 */
export type RefusalErrorCode = { [K in ErrorCode]: (typeof ANSWERS)[K]['code'] extends 'UNAUTHENTICATED' | 'FORBIDDEN' | 'LIMIT_EXCEEDED' ? K : never }[ErrorCode];

/** True for a code of {@link ErrorCode}; anything else (a driver's `23505`, a Node `ECONNRESET`) is unexpected. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ANSWERS, value);
}

/**
 * What the client sees for a code.
 *
 * @example
 * answerOf('ACCESS_LOG_UNAVAILABLE'); // { code: 'INTERNAL', status: 503, retryAfterSeconds: 2 }
 */
export function answerOf(code: ErrorCode): ErrorAnswer {
  return ANSWERS[code];
}

/** The HTTP status of a code, when it ends the whole request. */
export function httpStatusOf(code: ErrorCode): number {
  return ANSWERS[code].status;
}

/** The headers that go with a code's answer: the bearer challenge of a 401, `retry-after` of a passing failure. */
export function answerHeaders(answer: ErrorAnswer): Readonly<Record<string, string>> {
  return {
    ...(answer.challenge ? { 'www-authenticate': 'Bearer' } : {}),
    ...(answer.retryAfterSeconds !== undefined ? { 'retry-after': String(answer.retryAfterSeconds) } : {}),
  };
}

/**
 * The module's own code, shown as `extensions.reason` beside the client
 * code (`UNAUTHENTICATED` because `TOKEN_EXPIRED`), except for a 500, which
 * says nothing but its request id.
 */
export function reasonOf(code: ErrorCode): ErrorCode | undefined {
  const answer = ANSWERS[code];
  return answer.code === code || answer.status === 500 ? undefined : code;
}
