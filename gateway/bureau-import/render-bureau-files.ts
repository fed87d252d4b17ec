import type { ImportedBureau, ImportedField, SuggestedShare } from './imported-bureau.ts';

/** Connector limits a generated manifest starts with: the demo bureaus' values, for the operator to tune. */
export const DEFAULT_IMPORT_LIMITS = {
  timeoutMs: 3_000,
  maxConcurrency: 8,
  breaker: { failureThreshold: 5, resetAfterMs: 10_000 },
} as const;

/** The `@share` a field has in an existing `schema.graphql`, by `Type.field`: the officer's classification. */
export type KeptShares = ReadonlyMap<string, string>;

function description(text: string | undefined, indent: string): string {
  if (!text) return '';
  // A block string keeps line breaks; `"""` inside it is the one thing that must be escaped.
  return `${indent}"""\n${text
    .replaceAll('"""', '\\"""')
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n')}\n${indent}"""\n`;
}

/** `@share(...)` as SDL. */
export function renderShare(share: SuggestedShare): string {
  return `@share(category: ${share.category}, sensitivity: ${share.sensitivity}${share.mask ? `, mask: ${share.mask}` : ''})`;
}

function renderField(typeName: string, field: ImportedField, kept: KeptShares): string {
  const share = kept.get(`${typeName}.${field.name}`) ?? renderShare(field.share);
  const directives = [share, ...(field.directives ?? [])].join(' ');
  return `${description(field.description, '  ')}  ${field.name}: ${field.type} ${directives}\n`;
}

/**
 * The bureau's `schema.graphql`: a header saying where it came from and
 * that every field waits for the officer, the root fields, then one block
 * per type. A field already classified in `kept` keeps that `@share`.
 */
export function renderBureauSchema(bureau: string, imported: ImportedBureau, kept: KeptShares): string {
  const out: string[] = [];
  out.push(
    `# ${bureau}: imported by \`isthmus bureau import\` from ${imported.source}.\n` +
      '# Every field starts CONDITIONAL with a suggested sensitivity and mask: nothing leaves\n' +
      '# without an agreement. The data officer confirms each @share; a re-import keeps them.\n',
  );
  for (const note of imported.notes) out.push(`# note: ${note.replaceAll('\n', '\n#   ')}\n`);
  out.push('\ntype Query {\n');
  for (const field of imported.rootFields) {
    const args = field.args ? `(${field.args})` : '';
    const directives = field.directives?.length ? ` ${field.directives.join(' ')}` : '';
    out.push(`${description(field.description, '  ')}  ${field.name}${args}: ${field.type}${directives}\n`);
  }
  out.push('}\n');
  for (const type of imported.types) {
    out.push(`\n${description(type.description, '')}type ${type.name}${type.key ? ` @key(field: "${type.key}")` : ''} {\n`);
    for (const field of type.fields) out.push(renderField(type.name, field, kept));
    out.push('}\n');
  }
  for (const definition of imported.extraDefinitions ?? []) out.push(`\n${definition}\n`);
  return out.join('');
}

/** The bureau's `manifest.json`: its id, names to fill in, and the connector with {@link DEFAULT_IMPORT_LIMITS}. */
export function renderManifest(bureau: string, imported: ImportedBureau, names: { readonly zh: string; readonly en: string }): string {
  // The URL is a setting, as in the demo manifests, so each deployment points it at its own system.
  const variable = `${bureau.toUpperCase().replaceAll('-', '_')}_${imported.kind === 'sql' ? 'DATABASE_URL' : 'URL'}`;
  const manifest = {
    id: bureau,
    name: names,
    connector: { kind: imported.kind, url: `\${${variable}:-${imported.url}}`, ...DEFAULT_IMPORT_LIMITS },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
