import type { DocumentNode } from 'graphql';
import { print } from 'graphql';
import { operationHashOf, type OperationHash } from './operation-manifest.ts';

/**
 * The hash of each request's document, computed at most once: the trusted
 * operations stage hashes the text it checks, the access log records the
 * hash of every logged operation, and enforcement gives it to agreements
 * that pin operations. One sha256 serves them all:
 * - per request, the text trusted operations hashed is remembered (weakly, by
 *   the request), and a document parsed from that very text reuses it;
 * - per document, the hash is kept (weakly, by the parsed document, which
 *   yoga's parse cache hands out again for the same text), so a document
 *   seen before costs a map lookup, not a hash.
 */
export interface OperationHashes {
  /** `sha256:<hex>` of `text`, remembered for `request`. */
  ofText(request: Request, text: string): OperationHash;
  /** `sha256:<hex>` of the document's source text (its printed form when it has none). */
  ofDocument(document: DocumentNode, request?: Request): OperationHash;
}

/** One per gateway, shared by its plugins (`gateway-plugins.ts`). */
export function createOperationHashes(): OperationHashes {
  const byRequest = new WeakMap<Request, { readonly text: string; readonly hash: OperationHash }>();
  const byDocument = new WeakMap<DocumentNode, OperationHash>();
  return {
    ofText(request, text) {
      const known = byRequest.get(request);
      if (known && known.text === text) return known.hash;
      const hash = operationHashOf(text);
      byRequest.set(request, { text, hash });
      return hash;
    },
    ofDocument(document, request) {
      let hash = byDocument.get(document);
      if (hash === undefined) {
        const text = document.loc?.source.body ?? print(document);
        const known = request === undefined ? undefined : byRequest.get(request);
        hash = known && known.text === text ? known.hash : operationHashOf(text);
        byDocument.set(document, hash);
      }
      return hash;
    },
  };
}
