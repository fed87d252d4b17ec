import { ConnectorError } from '../../connectors/connector-error.ts';
import { AccessLogBadQueryError, AccessLogError } from '../access-log/access-log-error.ts';
import { EvidenceUnwitnessedError } from '../access-log/evidence-gate.ts';
import { AgreementStoreError } from '../agreements/agreement-store-error.ts';
import { AuthError } from '../auth/auth-error.ts';
import { CatalogueError } from '../catalogue/catalogue-error.ts';
import { StoreError } from '../store/store-error.ts';
import { ApiError } from './api-error.ts';
import { answerOf } from './error-table.ts';

/** What a 500 says: nothing but that the request id leads to the detail in the server's log. */
export const INTERNAL_MESSAGE = 'Internal error. Quote the request id when you report it.';

/**
 * Any error a route let through, as the refusal the client sees. The
 * gateway's own module errors keep their code (the table decides the
 * status) and their message, which each module writes to be shown;
 * anything else is `INTERNAL`, with the original kept as `cause` for the log.
 */
export function toApiError(error: unknown): ApiError {
  return moduleErrorOf(error) ?? new ApiError('INTERNAL', INTERNAL_MESSAGE, { cause: error });
}

/** The refusal for an error of one of the gateway's modules (an `ApiError`, `AuthError`, `AccessLogError`, …); undefined for anything else. */
export function moduleErrorOf(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof AccessLogBadQueryError) return new ApiError(error.code, error.message, { field: error.parameter, cause: error });
  if (error instanceof EvidenceUnwitnessedError) return new ApiError(error.code, error.message, { cause: error });
  if (error instanceof AgreementStoreError) return new ApiError(error.code, error.message, { ...(error.code === 'BAD_CURSOR' ? { field: 'cursor' } : {}), cause: error });
  if (error instanceof AuthError || error instanceof AccessLogError || error instanceof StoreError || error instanceof ConnectorError || error instanceof CatalogueError) {
    // A 500 of a module is still a fault of ours: its message (a catalogue's file names, say) is for the log.
    return new ApiError(error.code, answerOf(error.code).status === 500 ? INTERNAL_MESSAGE : error.message, { cause: error });
  }
  return undefined;
}
