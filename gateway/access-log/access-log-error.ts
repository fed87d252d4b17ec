/** Every code an access log error can carry, so a `switch` over them is exhaustive. */
export type AccessLogErrorCode =
  | 'ACCESS_LOG_UNAVAILABLE'
  | 'ACCESS_LOG_INVALID_ENTRY'
  | 'ACCESS_LOG_CLOSED'
  | 'ACCESS_LOG_FORBIDDEN'
  | 'ACCESS_LOG_BAD_QUERY'
  | 'ACCESS_LOG_RETENTION_TOO_SHORT'
  | 'ACCESS_LOG_ARCHIVE_DIR'
  | 'ACCESS_LOG_ARCHIVE_CONFLICT';

/**
 * Base of the access log's errors. The message is safe to show (no SQL, no
 * personal data); the database's own error, if any, is in `cause`.
 */
export class AccessLogError extends Error {
  readonly code: AccessLogErrorCode;
  constructor(code: AccessLogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccessLogError';
    this.code = code;
  }
}

/**
 * The entry could not be committed: the database failed, timed out, or the
 * caller gave up. No log, no data: the caller must not release the response.
 */
export class AccessLogUnavailableError extends AccessLogError {
  constructor(message = 'the access log could not be written', options?: { cause?: unknown }) {
    super('ACCESS_LOG_UNAVAILABLE', message, options);
    this.name = 'AccessLogUnavailableError';
  }
}

/**
 * The entry itself cannot be stored faithfully (a string with NUL or a lone
 * surrogate, a non-finite number, a timestamp far from the writer's clock).
 * Refused on its own, so it cannot fail the batch it would have joined.
 */
export class AccessLogInvalidEntryError extends AccessLogError {
  /** Which field, e.g. `operationName`. */
  readonly field: string;
  constructor(field: string, problem: string) {
    super('ACCESS_LOG_INVALID_ENTRY', `access log entry field ${field} ${problem}`);
    this.name = 'AccessLogInvalidEntryError';
    this.field = field;
  }
}

/** `append` after `close()`. */
export class AccessLogClosedError extends AccessLogError {
  constructor() {
    super('ACCESS_LOG_CLOSED', 'the access log writer is closed');
    this.name = 'AccessLogClosedError';
  }
}

/** The viewer may not read the access log, or not the part they asked for. */
export class AccessLogForbiddenError extends AccessLogError {
  constructor(message: string) {
    super('ACCESS_LOG_FORBIDDEN', message);
    this.name = 'AccessLogForbiddenError';
  }
}

/** A filter, cursor or page size of a log query is malformed; the message names it. */
export class AccessLogBadQueryError extends AccessLogError {
  readonly parameter: string;
  constructor(parameter: string, problem: string) {
    super('ACCESS_LOG_BAD_QUERY', `${parameter} ${problem}`);
    this.name = 'AccessLogBadQueryError';
    this.parameter = parameter;
  }
}

/** Retention shorter than the six months that level-3 protection (等保三级) requires. */
export class AccessLogRetentionTooShortError extends AccessLogError {
  constructor(days: number, minimum: number) {
    super('ACCESS_LOG_RETENTION_TOO_SHORT', `access log retention of ${days} days is below the required ${minimum} days`);
    this.name = 'AccessLogRetentionTooShortError';
  }
}

/** The archive folder (`ISTHMUS_LOG_ARCHIVE_DIR`, `log verify --archive`) cannot be used; the message names it and why. */
export class AccessLogArchiveDirError extends AccessLogError {
  readonly dir: string;
  constructor(dir: string, problem: string, options?: { cause?: unknown }) {
    super('ACCESS_LOG_ARCHIVE_DIR', `the access log archive folder ${dir} ${problem}`, options);
    this.name = 'AccessLogArchiveDirError';
    this.dir = dir;
  }
}

/**
 * A month's archive cannot be trusted to hold the month: one already there
 * differs from the database, or the one just written did not read back
 * intact. The month is not detached; nothing is overwritten.
 */
export class AccessLogArchiveConflictError extends AccessLogError {
  readonly month: string;
  constructor(month: string, problem: string) {
    super('ACCESS_LOG_ARCHIVE_CONFLICT', `the access log archive of ${month} ${problem}; the month stays in the database`);
    this.name = 'AccessLogArchiveConflictError';
    this.month = month;
  }
}
