import type { Agreement } from './agreement.ts';
import { badInput, type LifecycleRefusal } from './lifecycle-refusal.ts';

/**
 * The `operations` term of an agreement: the exact documents (by their
 * sha256 hash) that reads under it may run. The data officer then approves
 * the queries themselves, not only the fields; any other document is denied
 * `OPERATION_NOT_PINNED`, naming the agreement. Normalizing and checking
 * the term (`normalizePinnedOperations`, `checkOperationsTerm`) and testing
 * a request's hash against it (`pinsOperation`) live here. Pure.
 *
 * The hash is the trusted operations' own (`gateway/operations/operation-manifest.ts`,
 * which policies may not import): `sha256:` and the hex digest of the document text.
 */

/** A document's hash, `sha256:<64 lowercase hex>`: the same template as the gateway's `OperationHash`. */
export type OperationHash = `sha256:${string}`;

/** Most documents one agreement may pin: an officer reads each one, and a client app runs a handful per purpose. */
export const MAX_PINNED_OPERATIONS = 50;

const PREFIXED = /^sha256:[0-9a-f]{64}$/;
const HEX_64 = /^(?:sha256:)?[0-9a-fA-F]{64}$/;

/**
 * The hashes as the gateway writes them: `sha256:` and lowercase hex, with
 * or without the prefix and in either case as typed. Anything else is kept
 * as it came, so that {@link checkOperationsTerm} refuses it naming its place.
 *
 * @example
 * normalizePinnedOperations(['ABC…64 hex']); // ['sha256:abc…']
 */
export function normalizePinnedOperations(values: readonly unknown[]): readonly OperationHash[] {
  return values.map((value) =>
    typeof value === 'string' && HEX_64.test(value) ? (`sha256:${(value.startsWith('sha256:') ? value.slice(7) : value).toLowerCase()}` as OperationHash) : (value as OperationHash),
  );
}

/**
 * Checks an agreement's `operations` term, if it has one: a list of 1 to
 * {@link MAX_PINNED_OPERATIONS} distinct `sha256:<64 lowercase hex>` hashes.
 * A refusal names the field `operations` or `operations[i]`, never the value
 * (it may be anything the caller sent).
 *
 * @example
 * checkOperationsTerm(['sha256:1234…']); // undefined
 * checkOperationsTerm([]); // { ok: false, code: 'BAD_USER_INPUT', field: 'operations', … }
 */
export function checkOperationsTerm(operations: Agreement['operations'] | unknown): LifecycleRefusal | undefined {
  if (operations === undefined) return undefined;
  if (!Array.isArray(operations)) return badInput('operations', 'operations must be a list of document hashes (sha256:<64 hex digits>), or left out');
  if (operations.length === 0) return badInput('operations', 'operations must pin at least one document: leave it out when the agreement covers any document');
  if (operations.length > MAX_PINNED_OPERATIONS) return badInput('operations', `an agreement pins at most ${MAX_PINNED_OPERATIONS} operations`);
  const seen = new Map<string, number>();
  for (const [index, hash] of operations.entries()) {
    const at = `operations[${index}]`;
    if (typeof hash !== 'string' || !PREFIXED.test(hash)) return badInput(at, `${at} must be a document hash: sha256: and 64 hex digits`);
    const first = seen.get(hash);
    if (first !== undefined) return badInput(at, `${at} repeats operations[${first}] (${hash})`);
    seen.set(hash, index);
  }
  return undefined;
}

/**
 * Whether an agreement lets the document with `hash` read under it: always
 * when it pins no operations; otherwise only when `hash` is one of them (a
 * request whose hash is unknown runs no pinned document).
 */
export function pinsOperation(agreement: Pick<Agreement, 'operations'>, hash: string | undefined): boolean {
  const pinned = agreement.operations;
  if (pinned === undefined) return true;
  return hash !== undefined && pinned.includes(hash as OperationHash);
}

/** Per frozen agreement list (one per registry snapshot): whether any agreement pins operations. */
const pinning = new WeakMap<readonly Agreement[], boolean>();

/**
 * True when one of `agreements` pins operations: only then does a request
 * need its document's hash, so the gateway computes none otherwise. Cached
 * for frozen lists (the registry's snapshots), as the decision's index is.
 */
export function anyPinsOperations(agreements: readonly Agreement[]): boolean {
  const known = pinning.get(agreements);
  if (known !== undefined) return known;
  const pins = agreements.some((agreement) => agreement.operations !== undefined);
  if (Object.isFrozen(agreements)) pinning.set(agreements, pins);
  return pins;
}
