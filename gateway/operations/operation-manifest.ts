import { createHash } from 'node:crypto';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';

/** The codes of trusted operations: a document refused in mode `require`, a manifest that does not check out. */
export type TrustedOperationsErrorCode = 'OPERATION_NOT_REGISTERED' | 'OPERATIONS_MANIFEST_INVALID';

/**
 * How strictly an app's documents are held to its manifest:
 * - `off` — no check (the default: an app without a manifest keeps working);
 * - `log-unknown` — an unregistered document runs, and the gateway logs that it is not registered;
 * - `require` — an unregistered document is refused `OPERATION_NOT_REGISTERED` before any work.
 */
export type OperationsMode = 'off' | 'log-unknown' | 'require';

/** Every mode, for validation and messages. */
export const OPERATIONS_MODES: readonly OperationsMode[] = ['off', 'log-unknown', 'require'];

/** True for one of {@link OPERATIONS_MODES}. */
export function isOperationsMode(value: unknown): value is OperationsMode {
  return typeof value === 'string' && (OPERATIONS_MODES as readonly string[]).includes(value);
}

/** An operation hash as the gateway writes it: `sha256:` and 64 lowercase hex digits. */
export type OperationHash = `sha256:${string}`;

/** Registered documents of one app: hash → document text, exactly as registered. */
export type OperationManifest = ReadonlyMap<OperationHash, string>;

/** Largest manifest one app may register: thousands of documents are plenty for one client app. */
export const MAX_MANIFEST_DOCUMENTS = 5_000;
/** Largest document in a manifest, in characters: the gateway's request body bound is of the same order. */
export const MAX_DOCUMENT_CHARS = 100_000;

const HEX_64 = /^[0-9a-f]{64}$/;

/** `sha256:<hex>` of the document text as registered (the ecosystem's hash: Apollo, Hive, Relay). */
export function operationHashOf(document: string): OperationHash {
  return `sha256:${createHash('sha256').update(document).digest('hex')}`;
}

/**
 * A hash as a client or a manifest writes it, with or without the `sha256:`
 * prefix, hex in either case, in the gateway's form; `undefined` when it is
 * not a sha256 hash at all.
 *
 * @example
 * normalizeOperationHash('ABC…'); // 'sha256:abc…'
 */
export function normalizeOperationHash(value: unknown): OperationHash | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = (value.startsWith('sha256:') ? value.slice('sha256:'.length) : value).toLowerCase();
  return HEX_64.test(hex) ? `sha256:${hex}` : undefined;
}

/** Parsing a manifest: the documents, or every problem found (each naming the hash it is about). */
export type ManifestParse = { readonly ok: true; readonly manifest: OperationManifest } | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads a manifest in the ecosystem's format, a JSON object
 * `{ "<hash>": "<document>" }` (Apollo's persisted-query manifest, Hive's
 * trusted documents, Relay's `persisted-queries.json`). Each key must be the
 * sha256 of its document, each document must parse as GraphQL: a manifest
 * that lies about a hash would let a different document pass as registered.
 * Every problem is reported together; `source` (a file, an app) starts each.
 */
export function parseOperationManifest(value: unknown, source: string): ManifestParse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: [`${source}: a manifest is a JSON object of "<sha256 hash>": "<document>"`] };
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_MANIFEST_DOCUMENTS) return { ok: false, problems: [`${source}: ${entries.length} documents, more than ${MAX_MANIFEST_DOCUMENTS}`] };
  const problems: string[] = [];
  const manifest = new Map<OperationHash, string>();
  for (const [key, document] of entries) {
    const hash = normalizeOperationHash(key);
    // The key is the client's own text; shown only when it is short, so a manifest cannot fill the log.
    const shown = JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
    if (!hash) {
      problems.push(`${source}: key ${shown} is not a sha256 hash (64 hex digits, with or without "sha256:")`);
      continue;
    }
    if (typeof document !== 'string' || document.length === 0) {
      problems.push(`${source}: ${hash}: the document must be a non-empty string`);
      continue;
    }
    if (document.length > MAX_DOCUMENT_CHARS) {
      problems.push(`${source}: ${hash}: the document is longer than ${MAX_DOCUMENT_CHARS} characters`);
      continue;
    }
    const actual = operationHashOf(document);
    if (actual !== hash) {
      problems.push(`${source}: ${hash} does not match its document, whose sha256 is ${actual}`);
      continue;
    }
    try {
      parse(document);
    } catch (error) {
      problems.push(`${source}: ${hash}: the document does not parse: ${(error as Error).message}`);
      continue;
    }
    manifest.set(hash, document);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, manifest };
}

/** The manifest as JSON again, in the ecosystem's format (prefixed hashes): what `GET` returns and the store keeps. */
export function manifestToJson(manifest: OperationManifest): Record<string, string> {
  return Object.fromEntries(manifest);
}

/** The name a document gives its first operation, for the data officer; `undefined` for an anonymous one. */
export function operationNameOf(document: string): string | undefined {
  const [first] = operationDefinitionsOf(document);
  return first?.name?.value;
}

/** The names a document gives its operations, in order (an anonymous one has none): what a pinned operation is shown as. */
export function operationNamesOf(document: string): readonly string[] {
  return operationDefinitionsOf(document).flatMap((definition) => (definition.name ? [definition.name.value] : []));
}

function operationDefinitionsOf(document: string): readonly OperationDefinitionNode[] {
  try {
    return parse(document, { noLocation: true }).definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  } catch {
    // A stored manifest was parsed when registered; a document that no longer parses has no name to show.
    return [];
  }
}
