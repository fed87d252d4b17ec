import type { Agreement } from '../../policies/agreement.ts';
import { badInput, conflict, type LifecycleRefusal } from '../../policies/lifecycle-refusal.ts';
import type { LifecycleResult } from '../../policies/agreement-lifecycle.ts';
import { operationNamesOf, type OperationHash } from './operation-manifest.ts';
import type { OperationRegistry } from './operation-registry.ts';

/**
 * An agreement's pinned operations (`policies/agreement-operations.ts`)
 * against the registered operations of its consumer app: a request may pin
 * only documents the app registered, so the data officer approves text the
 * gateway knows ({@link checkPinnedRegistered}); and what the officer is
 * shown of each — its hash, its operation names, its document
 * ({@link describePinnedOperations}), and what a requester may pick from
 * ({@link registeredOperationsOf}).
 */

/** One pinned operation as the officer sees it; `document` is absent when no app registers the hash any more. */
export interface PinnedOperation {
  readonly hash: OperationHash;
  /** The names of the document's operations, in order; empty for an anonymous one. */
  readonly names: readonly string[];
  readonly document?: string;
}

/** One registered document of an app, as a requester picks it. */
export interface RegisteredOperation {
  readonly app: string;
  readonly hash: OperationHash;
  readonly names: readonly string[];
  /** The document's first non-blank line, trimmed: enough to recognize it beside its name. */
  readonly firstLine: string;
}

/**
 * `undefined` when every hash the agreement pins is registered for its
 * consumer bureau and app; otherwise the refusal naming the first that is
 * not (`operations[i]`, with the hash: a hash is not personal data). No
 * registry: every pin is refused.
 *
 * @example
 * checkPinnedRegistered(result.agreement, registry);
 * // { ok: false, code: 'BAD_USER_INPUT', field: 'operations[1]', message: 'operations[1] (sha256:…) is not registered for civil-affairs/allowance-review; …' }
 */
export function checkPinnedRegistered(agreement: Agreement, registry: Pick<OperationRegistry, 'forApp'> | undefined): LifecycleRefusal | undefined {
  const pinned = agreement.operations;
  if (pinned === undefined) return undefined;
  // Without a registry nothing is registered: a pin is refused rather than approved unseen.
  const documents = registry?.forApp(agreement.consumerBureau, agreement.consumerApp).documents ?? new Map<OperationHash, string>();
  for (const [index, hash] of pinned.entries()) {
    if (!documents.has(hash)) {
      return badInput(
        `operations[${index}]`,
        `operations[${index}] (${hash}) is not registered for ${agreement.consumerBureau}/${agreement.consumerApp}: pin only documents the app registered, so that the data officer approves text the gateway knows`,
      );
    }
  }
  return undefined;
}

/**
 * An approval, refused (`CONFLICT`) when a document the agreement pins is no
 * longer registered for its app: the officer would approve text the gateway
 * cannot show. Any other result is returned as it is.
 */
export function approvalOfRegistered(result: LifecycleResult, registry: Pick<OperationRegistry, 'forApp'> | undefined): LifecycleResult {
  if (!result.ok) return result;
  const unregistered = checkPinnedRegistered(result.agreement, registry);
  return unregistered ? conflict(`the request can no longer be approved as it stands (${unregistered.message}); reject it with your reasons`) : result;
}

/** Each pinned operation with its names and document: the consumer app's registration first, else any app's, else none (no registry: none). */
export function describePinnedOperations(agreement: Agreement, registry: Pick<OperationRegistry, 'forApp' | 'documentOf'> | undefined): readonly PinnedOperation[] {
  const pinned = agreement.operations;
  if (pinned === undefined) return [];
  const documents = registry?.forApp(agreement.consumerBureau, agreement.consumerApp).documents;
  return pinned.map((hash) => {
    const document = documents?.get(hash) ?? registry?.documentOf(hash);
    return document === undefined ? { hash, names: [] } : { hash, names: operationNamesOf(document), document };
  });
}

/** Every registered document of the bureau's apps, by app then hash: the choices of the requester's form. */
export function registeredOperationsOf(bureau: string, registry: Pick<OperationRegistry, 'forApp' | 'appsOf'>): readonly RegisteredOperation[] {
  return registry.appsOf(bureau).flatMap((app) =>
    [...registry.forApp(bureau, app).documents]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([hash, document]) => ({ app, hash, names: operationNamesOf(document), firstLine: document.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? '' })),
  );
}
