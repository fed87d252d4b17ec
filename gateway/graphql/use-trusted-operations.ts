import type { Plugin } from 'graphql-yoga';
import type { GatewayContext, GatewayServerContext } from './gateway-context.ts';
import { requestError } from './error-codes.ts';
import type { Principal } from '../../policies/principal.ts';
import { normalizeOperationHash } from '../operations/operation-manifest.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import type { OperationHashes } from '../operations/operation-hashes.ts';

/** The request parameters this stage reads: the document, or its hash the Apollo way or the GraphQL-over-HTTP way. */
interface OperationParams {
  readonly query?: unknown;
  readonly documentId?: unknown;
  readonly extensions?: { readonly persistedQuery?: { readonly sha256Hash?: unknown } };
  readonly [key: string]: unknown;
}

/**
 * Trusted operations, per client app (`operations/operation-registry.ts`):
 * - a request that sends only a hash (`extensions.persistedQuery.sha256Hash`,
 *   Apollo; `documentId`, GraphQL over HTTP) runs the document its app
 *   registered under that hash, or is refused `PERSISTED_QUERY_NOT_FOUND`;
 * - in mode `require` a document the app has not registered is refused
 *   `OPERATION_NOT_REGISTERED` (403) before it is parsed: before planning,
 *   before any bureau call; in `log-unknown` it runs and a warning says so.
 * Runs in `onParams`, after authentication (the app is the token's, from the `principals` authentication fills), from
 * memory: one sha256 of the document text per request when the mode is on, remembered in `hashes` for the
 * access log and enforcement.
 */
export function useTrustedOperations(registry: OperationRegistry, principals: WeakMap<Request, Principal>, hashes: OperationHashes): Plugin<GatewayContext, GatewayServerContext> {
  return {
    onParams({ params, request, setParams, context }) {
      const principal = principals.get(request);
      if (!principal) return;
      const { documentId, ...rest } = params as OperationParams;
      const sent = documentId ?? rest.extensions?.persistedQuery?.sha256Hash;
      const operations = registry.forApp(principal.bureau, principal.app);
      let query = rest.query;
      if (sent !== undefined && (query === undefined || query === null)) {
        const hash = normalizeOperationHash(sent);
        const document = hash === undefined ? undefined : operations.documents.get(hash);
        if (document === undefined) {
          throw requestError('PERSISTED_QUERY_NOT_FOUND', `The app ${principal.bureau}/${principal.app} has registered no document with this hash.`, { field: documentId !== undefined ? 'documentId' : 'extensions.persistedQuery.sha256Hash' });
        }
        query = document;
      }
      // Yoga refuses parameters it does not know; `documentId` is answered here.
      if (query !== rest.query || documentId !== undefined) setParams({ ...rest, query } as typeof params);
      if (operations.mode === 'off' || typeof query !== 'string') return;
      const hash = hashes.ofText(request, query);
      if (operations.documents.has(hash)) return;
      if (operations.mode === 'require') {
        throw requestError('OPERATION_NOT_REGISTERED', `The app ${principal.bureau}/${principal.app} may run only its registered operations; this document (${hash}) is not one of them.`, { operationHash: hash });
      }
      (context as Partial<GatewayServerContext>).log?.warn({ requestId: context.requestId, bureau: principal.bureau, app: principal.app, operationHash: hash }, 'operation not registered for this app');
    },
  };
}
