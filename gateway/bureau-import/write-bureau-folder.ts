import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { BureauImportError } from './bureau-import-error.ts';

/** What changed in a bureau's schema since the last import: `Type.field` coordinates. */
export interface SchemaDifference {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** `Type.field: Old → New` */
  readonly changed: readonly string[];
}

/** Field types by `Type.field`, root fields included. */
function fieldTypes(document: DocumentNode): Map<string, string> {
  const types = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) types.set(`${definition.name.value}.${field.name.value}`, print(field.type));
  }
  return types;
}

function parseOrUndefined(sdl: string): DocumentNode | undefined {
  try {
    return parse(sdl);
  } catch {
    return undefined;
  }
}

/**
 * The `@share` of every field in an existing `schema.graphql`, by
 * `Type.field`, printed as SDL: the classification the data officer made,
 * which a re-import keeps. A file that does not parse keeps nothing (and the
 * import says so by showing every field as added).
 */
export function readKeptShares(sdl: string | undefined): Map<string, string> {
  const kept = new Map<string, string>();
  const document = sdl === undefined ? undefined : parseOrUndefined(sdl);
  for (const definition of document?.definitions ?? []) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      const share = field.directives?.find((directive) => directive.name.value === 'share');
      if (share) kept.set(`${definition.name.value}.${field.name.value}`, print(share));
    }
  }
  return kept;
}

/** The difference between the previous and the new SDL of a bureau. */
export function diffSchemas(previous: string | undefined, next: string): SchemaDifference {
  const before = fieldTypes((previous === undefined ? undefined : parseOrUndefined(previous)) ?? parse('scalar _None'));
  const after = fieldTypes(parse(next));
  const added = [...after.keys()].filter((key) => !before.has(key));
  const removed = [...before.keys()].filter((key) => !after.has(key));
  const changed = [...after]
    .filter(([key, type]) => before.has(key) && before.get(key) !== type)
    .map(([key, type]) => `${key}: ${before.get(key)} → ${type}`);
  return { added, removed, changed };
}

/** The previous `schema.graphql` of a bureau under `dir`, if there is one. */
export function readPreviousSchema(dir: string, bureau: string): string | undefined {
  const file = join(dir, bureau, 'schema.graphql');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/**
 * Writes `<dir>/<bureau>/` with `files` all at once: into a temporary folder
 * next to it, then renamed into place (the previous folder is moved aside
 * first and removed after). A failure part-way leaves the previous folder as
 * it was, or none, never a half-written one. The temporary names start with
 * a dot and are removed on failure, so a catalogue read in between never sees
 * them as a bureau for long, and never sees a half-written bureau.
 */
export function writeBureauFolder(dir: string, bureau: string, files: Readonly<Record<string, string>>): void {
  const target = join(dir, bureau);
  let staging: string | undefined;
  let aside: string | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    staging = mkdtempSync(join(dir, `.${bureau}.import-`));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(staging, name), text, { flag: 'wx' });
    if (existsSync(target)) {
      aside = `${staging}.previous`;
      renameSync(target, aside);
    }
    try {
      renameSync(staging, target);
    } catch (error) {
      if (aside) renameSync(aside, target);
      aside = undefined;
      throw error;
    }
    staging = undefined;
  } catch (error) {
    throw new BureauImportError('IMPORT_WRITE_FAILED', target, `could not write the bureau folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
    if (aside) rmSync(aside, { recursive: true, force: true });
  }
}
