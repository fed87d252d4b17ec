import { answerOf, type ErrorAnswer, type ErrorCode } from './error-table.ts';

/** What goes with a refusal besides its code and message. */
export interface ApiErrorDetails {
  /** For `BAD_USER_INPUT`: the query parameter, path parameter or body property at fault (`fields[2]`, `cursor`, `id`). */
  readonly field?: string;
  /** For `FORBIDDEN`: the rule broken (`SEPARATION_OF_DUTIES`, `STAFF_ONLY`, …). */
  readonly rule?: string;
  /** For `METHOD_NOT_ALLOWED`: the methods the path takes, sent as `Allow`. */
  readonly allow?: readonly string[];
  /** What went wrong underneath, for the server's log; never sent. */
  readonly cause?: unknown;
  /** For a failure that passes: `retry-after` when the failure knows it (a JWKS cooldown), instead of the table's. */
  readonly retryAfterSeconds?: number;
}

/**
 * A refusal of one of the gateway's JSON APIs, thrown by a route's steps
 * and answered in one place (`apiErrorHandler`) with the status and
 * headers the error table gives its code. The message is written for the
 * caller and never carries SQL, tokens, personal data or the input itself.
 *
 * @example
 * throw new ApiError('BAD_USER_INPUT', 'limit must be a whole number from 1 to 200', { field: 'limit' });
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly rule: string | undefined;
  readonly allow: readonly string[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, details: ApiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ApiError';
    this.code = code;
    this.field = details.field;
    this.rule = details.rule;
    this.allow = details.allow;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** What the client sees for the code. */
  get answer(): ErrorAnswer {
    return answerOf(this.code);
  }

  /** The HTTP status of the code. */
  get status(): number {
    return this.answer.status;
  }
}
