import { existsSync } from 'node:fs';
import { loadCatalogue } from '../catalogue/load-catalogue.ts';
import type { ImportedBureau } from './imported-bureau.ts';
import { renderBureauSchema, renderManifest } from './render-bureau-files.ts';
import { diffSchemas, readKeptShares, readPreviousSchema, writeBureauFolder, type SchemaDifference } from './write-bureau-folder.ts';

/** The entities bureaus already merge on, and the key names that point to them (English, camelCase, pinyin). */
const KNOWN_KEYS: readonly { readonly entity: string; readonly key: string; readonly names: RegExp }[] = [
  { entity: 'Person', key: 'idNumber', names: /^(idNumber|idCard|idCardNo|sfzh|sfzhm|gmsfhm|residentId|citizenId)$/i },
  { entity: 'Enterprise', key: 'creditCode', names: /^(creditCode|unifiedSocialCreditCode|uscc|tyshxydm|shxydm)$/i },
];

/** Options of {@link importBureau}. */
export interface ImportBureauOptions {
  readonly bureau: string;
  /** The schemas folder the bureau folder is written into. */
  readonly dir: string;
  readonly names?: { readonly zh: string; readonly en: string };
}

/** What an import did. */
export interface ImportResult {
  readonly schema: string;
  readonly manifest: string;
  /** The report: what was not mapped and why, suggestions, and the difference from the previous import. */
  readonly report: string;
  readonly difference: SchemaDifference;
  /** Fields whose `@share` came from the previous file. */
  readonly kept: number;
}

/**
 * Writes an imported bureau as `<dir>/<bureau>/` (`schema.graphql`,
 * `manifest.json`, `import-report.md`), atomically. A field the previous
 * import already had keeps its `@share` (the officer's classification); the
 * report lists what changed, what could not be mapped and why, and where a
 * key looks like one the catalogue merges on (`Person.idNumber`,
 * `Enterprise.creditCode`).
 */
export function importBureau(imported: ImportedBureau, options: ImportBureauOptions): ImportResult {
  const previous = readPreviousSchema(options.dir, options.bureau);
  const keptShares = readKeptShares(previous);
  const suggestions = mergeSuggestions(imported, options.dir, options.bureau);
  const withSuggestions = { ...imported, notes: [...imported.notes, ...suggestions] };
  const schema = renderBureauSchema(options.bureau, withSuggestions, keptShares);
  const manifest = renderManifest(options.bureau, imported, options.names ?? { zh: options.bureau, en: options.bureau });
  const difference = diffSchemas(previous, schema);
  const kept = imported.types.reduce((sum, type) => sum + type.fields.filter((field) => keptShares.has(`${type.name}.${field.name}`)).length, 0);
  const report = renderReport(options.bureau, withSuggestions, difference, previous !== undefined, kept);
  writeBureauFolder(options.dir, options.bureau, { 'schema.graphql': schema, 'manifest.json': manifest, 'import-report.md': report });
  return { schema, manifest, report, difference, kept };
}

function mergeSuggestions(imported: ImportedBureau, dir: string, bureau: string): string[] {
  let entities = new Set(KNOWN_KEYS.map((known) => known.entity));
  try {
    // The catalogue as configured says which entities really exist; one that does not load still gets the well-known ones.
    if (existsSync(dir)) entities = new Set([...loadCatalogue({ dir, env: {} }).catalogue.entities.keys()].filter((name) => entities.has(name)));
  } catch {
    // An invalid catalogue is `isthmus catalogue check`'s business, not the import's.
  }
  const notes: string[] = [];
  for (const type of imported.types) {
    for (const field of type.fields) {
      const known = KNOWN_KEYS.find((candidate) => candidate.names.test(field.name) || field.directives?.some((directive) => candidate.names.test(/name: "([^"]*)"/.exec(directive)?.[1]?.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) ?? '')));
      if (!known || !entities.has(known.entity)) continue;
      if (type.name === known.entity && field.name === known.key) {
        notes.push(
          `@merge: ${known.entity}.${known.key} is the key the catalogue already merges ${known.entity} on, so this bureau's ${known.entity} fields join the same records. ` +
            `Share ${known.key} as the other bureaus do (the catalogue refuses a merge key shared differently), and leave out any ${known.entity} field another bureau already provides`,
        );
        continue;
      }
      notes.push(
        `@merge suggestion: ${type.name}.${field.name} looks like ${known.entity}.${known.key}, which the catalogue merges on. ` +
          `To add ${type.name}'s fields to ${known.entity} records, rename the type to ${known.entity} and the field to ${known.key}` +
          `${type.key === field.name ? '' : ` (and make it the @key, with a @merge entry point taking ${known.key}s)`}, and share it as the other bureaus do; the officer decides`,
      );
    }
  }
  return notes;
}

function renderReport(bureau: string, imported: ImportedBureau, difference: SchemaDifference, reimport: boolean, kept: number): string {
  const lines = [`# Import of ${bureau}`, '', `From ${imported.source}.`, ''];
  const fields = imported.types.reduce((sum, type) => sum + type.fields.length, 0);
  lines.push(`${imported.types.length} types, ${fields} fields, ${imported.rootFields.length} query fields. Every new field is CONDITIONAL until the data officer decides.`, '');
  if (reimport) {
    lines.push(`## Changes since the last import (${kept} classifications kept)`, '');
    for (const [label, list] of [['added', difference.added], ['removed', difference.removed], ['changed', difference.changed]] as const) {
      lines.push(`- ${label}: ${list.length === 0 ? 'none' : list.join(', ')}`);
    }
    lines.push('');
  }
  lines.push('## Not mapped', '');
  if (imported.unmapped.length === 0) lines.push('Nothing: every part of the source was mapped.');
  for (const item of imported.unmapped) lines.push(`- ${item.at}: ${item.reason}`);
  lines.push('', '## Notes', '');
  if (imported.notes.length === 0) lines.push('None.');
  for (const note of imported.notes) lines.push(`- ${note}`);
  return `${lines.join('\n')}\n`;
}
