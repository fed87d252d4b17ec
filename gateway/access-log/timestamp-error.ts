/**
 * Why an RFC 3161 timestamp could not be had or does not hold. Every failure
 * of the timestamp modules is one subclass of {@link TimestampError} with a
 * stable `code`, so a caller can `switch` over {@link TimestampErrorCode}.
 *
 * Messages name the part that failed ("the token's signature does not
 * verify with the TSA certificate's key") and never quote a stack, a key or
 * the stamped text; the underlying error, if any, is in `cause`.
 */

/** Stable codes of {@link TimestampError}. */
export type TimestampErrorCode =
  | 'TIMESTAMP_SETTINGS_INVALID'
  | 'TIMESTAMP_UNAVAILABLE'
  | 'TIMESTAMP_TIMEOUT'
  | 'TIMESTAMP_MALFORMED'
  | 'TIMESTAMP_REFUSED'
  | 'TIMESTAMP_INVALID';

/** Base of every timestamp failure. */
export abstract class TimestampError extends Error {
  abstract readonly code: TimestampErrorCode;
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** `ISTHMUS_TSA_*` settings that cannot be used; the message lists every problem. */
export class TimestampSettingsInvalid extends TimestampError {
  override readonly code = 'TIMESTAMP_SETTINGS_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`timestamp authority settings: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The TSA could not be reached, answered an HTTP error, or sent more than the bound. */
export class TimestampUnavailable extends TimestampError {
  override readonly code = 'TIMESTAMP_UNAVAILABLE';
}

/** The TSA did not answer within the configured time. */
export class TimestampTimeout extends TimestampError {
  override readonly code = 'TIMESTAMP_TIMEOUT';
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: { readonly cause?: unknown }) {
    super(`the timestamp authority did not answer within ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The bytes are not a well-formed TimeStampResp / TimeStampToken; `part` names what could not be read. */
export class TimestampMalformed extends TimestampError {
  override readonly code = 'TIMESTAMP_MALFORMED';
  readonly part: string;
  constructor(part: string, problem: string) {
    super(`timestamp ${part}: ${problem}`);
    this.part = part;
  }
}

/** RFC 3161 PKIStatus values (§2.4.2). */
export const PKI_STATUS_NAMES: readonly string[] = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
/** RFC 3161 PKIFailureInfo bits, by bit number. */
export const PKI_FAILURE_NAMES: Readonly<Record<number, string>> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

/** The TSA answered, but did not grant a timestamp (status rejection, waiting, …). */
export class TimestampRefused extends TimestampError {
  override readonly code = 'TIMESTAMP_REFUSED';
  /** The PKIStatus number (2 = rejection). */
  readonly status: number;
  /** The TSA's own words (PKIFreeText), printable characters only, bounded. */
  readonly statusText: string | undefined;
  /** Names of the PKIFailureInfo bits set, e.g. `badAlg`. */
  readonly failInfo: readonly string[];
  constructor(status: number, statusText: string | undefined, failInfo: readonly string[]) {
    const name = PKI_STATUS_NAMES[status] ?? `status ${status}`;
    const detail = [failInfo.length > 0 ? `failInfo ${failInfo.join(', ')}` : '', statusText ? `"${statusText}"` : ''].filter(Boolean).join(', ');
    super(`the timestamp authority refused: ${name}${detail ? ` (${detail})` : ''}`);
    this.status = status;
    this.statusText = statusText;
    this.failInfo = failInfo;
  }
}

/** Why a well-formed token does not prove what it must. */
export type TimestampInvalidReason =
  | 'IMPRINT_MISMATCH'
  | 'NONCE_MISMATCH'
  | 'CONTENT_TYPE'
  | 'DIGEST_MISMATCH'
  | 'SIGNER_NOT_FOUND'
  | 'SIGNING_CERTIFICATE'
  | 'SIGNATURE'
  | 'UNSUPPORTED_ALGORITHM'
  | 'KEY_USAGE'
  | 'UNTRUSTED'
  | 'NOT_VALID_AT_GEN_TIME';

/** The token is well formed but does not verify; `reason` says which check failed. */
export class TimestampInvalid extends TimestampError {
  override readonly code = 'TIMESTAMP_INVALID';
  readonly reason: TimestampInvalidReason;
  constructor(reason: TimestampInvalidReason, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** True for any error of the timestamp modules. */
export function isTimestampError(error: unknown): error is TimestampError {
  return error instanceof TimestampError;
}
