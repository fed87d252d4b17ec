import type { ErrorCode } from '../errors/error-table.ts';

/**
 * The admin API's refusals are the JSON APIs' {@link ApiError}: thrown by a
 * route's steps, answered in one place in the shape of GraphQL errors with
 * the status of the gateway's error table (`gateway/errors/error-table.ts`).
 * The name stays for the modules that throw it.
 */
export { ApiError as AdminApiError, type ApiErrorDetails as AdminErrorDetails } from '../errors/api-error.ts';

/** A code the admin API answers with: any of the error table's. */
export type AdminErrorCode = ErrorCode;
