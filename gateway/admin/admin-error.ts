/** Every code the admin API answers with, and its HTTP status. */
export const ADMIN_HTTP_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 413,
  INTERNAL: 500,
  UPSTREAM_UNAVAILABLE: 503,
} as const;

/** A code of {@link ADMIN_HTTP_STATUS}. */
export type AdminErrorCode = keyof typeof ADMIN_HTTP_STATUS;

/** What goes with a refusal besides its code and message. */
export interface AdminErrorDetails {
  /** For `BAD_USER_INPUT`: the body property or query parameter at fault (`fields[2]`, `validUntil`). */
  readonly field?: string;
  /** For `FORBIDDEN`: the rule broken (`SEPARATION_OF_DUTIES`, `PROVIDER_DATA_OFFICER`, …). */
  readonly rule?: string;
  readonly cause?: unknown;
}

/**
 * A refusal of the admin API, thrown by a route's steps and turned into
 * `{ error: { code, message, field?, rule? } }` with the code's status in
 * one place. Messages are written for the caller and carry no SQL, tokens
 * or personal data.
 */
export class AdminApiError extends Error {
  readonly code: AdminErrorCode;
  readonly field: string | undefined;
  readonly rule: string | undefined;
  constructor(code: AdminErrorCode, message: string, details: AdminErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AdminApiError';
    this.code = code;
    this.field = details.field;
    this.rule = details.rule;
  }

  /** The HTTP status of the code. */
  get status(): (typeof ADMIN_HTTP_STATUS)[AdminErrorCode] {
    return ADMIN_HTTP_STATUS[this.code];
  }
}
