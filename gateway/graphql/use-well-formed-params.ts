import type { Plugin } from 'graphql-yoga';
import { requestError } from './error-codes.ts';

/**
 * Refuses an `operationName` that is neither a string nor null with 400
 * `BAD_USER_INPUT` (reason `BAD_REQUEST`), for every media type: GraphQL
 * over HTTP calls such a request not well-formed. Yoga checks the types of
 * `query`, `variables` and `extensions` but not this one; without the check
 * the name would reach `getOperationAST`, fail to pick an operation, and be
 * answered as an operation that cannot be determined, which an
 * `application/json` client gets with 200 (see `isDocumentFailure` in
 * `error-codes.ts`). One `typeof` per request.
 */
export function useWellFormedParams(): Plugin {
  return {
    onParams({ params }) {
      const name: unknown = params.operationName;
      if (name !== undefined && name !== null && typeof name !== 'string') {
        throw requestError('BAD_REQUEST', 'The operationName parameter must be a string or null.', { field: 'operationName' });
      }
    },
  };
}
