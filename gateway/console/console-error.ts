import type { MessageParams } from './i18n/translator.ts';

/** Every code a console page can refuse with, and its HTTP status. */
export const CONSOLE_HTTP_STATUS = {
  /** A form the console cannot read: wrong encoding, a field sent twice, an unknown choice. */
  BAD_USER_INPUT: 400,
  /** Not signed in. */
  UNAUTHENTICATED: 401,
  /** The session ended (idle too long, past its lifetime, or the gateway restarted). */
  SESSION_EXPIRED: 401,
  /** The signed-in person's role or bureau does not allow the page or the step. */
  FORBIDDEN: 403,
  /** A form without the token this console handed out for it. */
  CSRF_INVALID: 403,
  /** No such page, or an agreement the person may not see (the two look the same). */
  NOT_FOUND: 404,
  /** The agreement changed since the page was shown, or its state does not allow the step. */
  CONFLICT: 409,
  /** A form larger than the console reads. */
  LIMIT_EXCEEDED: 413,
  /** Something the console needs (the token issuer's keys) cannot be reached now. */
  UPSTREAM_UNAVAILABLE: 503,
  /** The access log could not record a read of itself, so nothing is shown (no log, no data). */
  LOG_UNAVAILABLE: 503,
  /** Anything unexpected: the page shows a request id and nothing else. */
  INTERNAL: 500,
} as const;

/** A code of {@link CONSOLE_HTTP_STATUS}. */
export type ConsoleErrorCode = keyof typeof CONSOLE_HTTP_STATUS;

/** Every console error code, for exhaustive tests of the message catalogues. */
export const CONSOLE_ERROR_CODES = Object.keys(CONSOLE_HTTP_STATUS) as readonly ConsoleErrorCode[];

/** What goes with a console refusal besides its code. */
export interface ConsoleErrorDetails {
  /** Values for the placeholders of the code's message (`error.<code>` in the catalogues). */
  readonly params?: MessageParams;
  readonly cause?: unknown;
}

/**
 * A refusal of a console page, thrown by a route and shown by the console's
 * error page in the user's language, with its code. `message` is English
 * for the logs; the page never shows it, nor a cause, a token or SQL.
 */
export class ConsoleError extends Error {
  readonly code: ConsoleErrorCode;
  readonly params: MessageParams;
  constructor(code: ConsoleErrorCode, message: string, details: ConsoleErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConsoleError';
    this.code = code;
    this.params = details.params ?? {};
  }

  /** The HTTP status of the code. */
  get status(): (typeof CONSOLE_HTTP_STATUS)[ConsoleErrorCode] {
    return CONSOLE_HTTP_STATUS[this.code];
  }
}
