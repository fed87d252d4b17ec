import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  GraphQLError,
  GraphQLList,
  GraphQLNonNull,
  getNamedType,
  isObjectType,
  parse,
  type DocumentNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import type {
  Catalogue,
  CatalogueBureau,
  CatalogueConnector,
  CatalogueEntity,
  CatalogueField,
  ListSize,
  MaskKind,
  Sensitivity,
  SharingCategory,
} from '../../policies/catalogue.ts';
import { buildBureauSchema, validateBureauSdl } from './bureau-schema.ts';
import { CatalogueError, type CatalogueProblem } from './catalogue-error.ts';
import { readListSizes } from './list-sizes.ts';

/** What the gateway reads from `schemas/`: the catalogue, and each bureau's schema with its directives for the connectors. */
export interface LoadedCatalogue {
  readonly catalogue: Catalogue;
  readonly schemas: ReadonlyMap<string, GraphQLSchema>;
}

/** Options of {@link loadCatalogue}. */
export interface LoadCatalogueOptions {
  /** The schemas folder: one sub-folder per bureau with `schema.graphql` and `manifest.json`. */
  readonly dir: string;
  /** Values for `${NAME}` and `${NAME:-default}` in manifests. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

const CONNECTOR_KINDS: readonly CatalogueConnector['kind'][] = ['graphql', 'rest', 'sql'];
const BUREAU_ID = /^[a-z][a-z0-9-]*$/;
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

interface BureauSource {
  readonly id: string;
  readonly schemaFile: string;
  readonly manifestFile: string;
  readonly bureau: Omit<CatalogueBureau, 'rootFields'>;
  readonly schema: GraphQLSchema;
}

/**
 * Reads and validates every bureau under `dir`. Throws a {@link CatalogueError}
 * naming the file and the field of every problem: a field without a sharing
 * category, an unknown directive or argument, a merge key no bureau resolves,
 * a field two bureaus both claim, a manifest setting missing or wrong.
 */
export function loadCatalogue(options: LoadCatalogueOptions): LoadedCatalogue {
  const problems: CatalogueProblem[] = [];
  const sources: BureauSource[] = [];
  const folders = readdirSync(options.dir, { withFileTypes: true })
    // A dot-folder is no bureau: `isthmus bureau import` writes a bureau aside there before renaming it into place.
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  for (const id of folders) {
    const source = readBureau(options, id, problems);
    if (source) sources.push(source);
  }
  if (folders.length === 0) problems.push({ file: '.', message: 'no bureau folders found' });

  // The bureaus that read cleanly are checked further even when others did not, so one run reports every problem;
  // only the checks across all bureaus wait for a complete set, lest a broken bureau's absence be reported as well.
  const catalogue = buildCatalogue(sources, problems, { complete: problems.length === 0 });
  if (problems.length > 0) throw new CatalogueError(problems);
  return { catalogue, schemas: new Map(sources.map((source) => [source.id, source.schema])) };
}

function readBureau(options: LoadCatalogueOptions, id: string, problems: CatalogueProblem[]): BureauSource | undefined {
  const schemaFile = `${id}/schema.graphql`;
  const manifestFile = `${id}/manifest.json`;
  const before = problems.length;
  if (!BUREAU_ID.test(id)) problems.push({ file: id, message: 'a bureau folder is named by its id: lower-case letters, digits and dashes' });
  for (const file of [schemaFile, manifestFile]) {
    if (!existsSync(join(options.dir, file))) problems.push({ file, message: 'missing' });
  }
  if (problems.length > before) return undefined;

  const bureau = readManifest(join(options.dir, manifestFile), manifestFile, id, options.env, problems);
  const sdl = readFileSync(join(options.dir, schemaFile), 'utf8');
  const schema = buildSchemaReportingFields(sdl, schemaFile, problems);
  if (!bureau || !schema || problems.length > before) return undefined;
  return { id, schemaFile, manifestFile, bureau, schema };
}

/** Builds the SDL; graphql's own validation (unknown directives and arguments, bad enum values) is reported with the field it falls in. */
function buildSchemaReportingFields(sdl: string, file: string, problems: CatalogueProblem[]): GraphQLSchema | undefined {
  let document: DocumentNode;
  try {
    document = parse(sdl);
  } catch (error) {
    problems.push({ file, message: error instanceof GraphQLError ? error.message : 'does not parse' });
    return undefined;
  }
  const errors = validateBureauSdl(document);
  // The directive definitions come first in the validated document, so only
  // errors located in the bureau's own source belong to it.
  for (const error of errors) {
    const line = error.source?.body === sdl ? error.locations?.[0]?.line : undefined;
    problems.push({ file, ...(line === undefined ? {} : { at: fieldAtLine(document, line) }), message: error.message });
  }
  if (errors.length > 0) return undefined;
  try {
    return buildBureauSchema(sdl);
  } catch (error) {
    problems.push({ file, message: error instanceof Error ? error.message.split('\n')[0]! : 'does not build' });
    return undefined;
  }
}

function fieldAtLine(document: DocumentNode, line: number): string | undefined {
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !definition.loc) continue;
    const { startToken, endToken } = definition.loc;
    if (line < startToken.line || line > endToken.line) continue;
    const fields = 'fields' in definition ? (definition.fields ?? []) : [];
    for (const field of fields) {
      if (field.loc && line >= field.loc.startToken.line && line <= field.loc.endToken.line) {
        return `${definition.name.value}.${field.name.value}`;
      }
    }
    return definition.name.value;
  }
  return undefined;
}

function readManifest(
  path: string,
  file: string,
  id: string,
  env: LoadCatalogueOptions['env'],
  problems: CatalogueProblem[],
): Omit<CatalogueBureau, 'rootFields'> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    problems.push({ file, message: 'is not valid JSON' });
    return undefined;
  }
  const before = problems.length;
  const problem = (at: string, message: string): void => {
      problems.push({ file, at, message });
    };
  const manifest = asRecord(raw);
  const name = asRecord(manifest.name);
  const connector = asRecord(manifest.connector);
  const breaker = asRecord(connector.breaker);
  if (manifest.id !== id) problem('id', `must equal the folder name "${id}"`);
  for (const key of ['zh', 'en'] as const) {
    if (typeof name[key] !== 'string' || name[key] === '') problem(`name.${key}`, 'is required');
  }
  const kind = connector.kind as CatalogueConnector['kind'];
  if (!CONNECTOR_KINDS.includes(kind)) problem('connector.kind', `must be one of ${CONNECTOR_KINDS.join(', ')}`);
  let unset = false;
  const url =
    typeof connector.url === 'string'
      ? substitute(connector.url, env, (variable) => {
          unset = true;
          problem('connector.url', `needs the setting ${variable}`);
        })
      : undefined;
  if (!url && !unset) problem('connector.url', 'is required');
  const positive = (value: unknown, at: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) problem(at, 'must be a positive whole number');
    return value as number;
  };
  const limits = {
    timeoutMs: positive(connector.timeoutMs, 'connector.timeoutMs'),
    maxConcurrency: positive(connector.maxConcurrency, 'connector.maxConcurrency'),
    breaker: {
      failureThreshold: positive(breaker.failureThreshold, 'connector.breaker.failureThreshold'),
      resetAfterMs: positive(breaker.resetAfterMs, 'connector.breaker.resetAfterMs'),
    },
  };
  // Level 3 audits every user: on unless the manifest turns it off, and only by a real boolean (a typo must not turn it off).
  if (manifest.logOwnReads !== undefined && typeof manifest.logOwnReads !== 'boolean') problem('logOwnReads', 'must be true or false');
  if (problems.length > before || url === undefined) return undefined;
  return {
    id,
    name: { zh: name.zh as string, en: name.en as string },
    connector: { kind, url, ...limits },
    ...(manifest.logOwnReads === false ? { logOwnReads: false } : {}),
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `${NAME}` must be set; `${NAME:-default}` falls back. */
function substitute(template: string, env: LoadCatalogueOptions['env'], missing: (variable: string) => void): string {
  return template.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, variable: string, fallback: string | undefined) => {
    const value = env[variable];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing(variable);
    return '';
  });
}

function buildCatalogue(sources: readonly BureauSource[], problems: CatalogueProblem[], { complete }: { readonly complete: boolean }): Catalogue {
  const fields = new Map<string, CatalogueField>();
  const fieldFiles = new Map<string, string>();
  const entities = new Map<string, { keyField: string; file: string; resolvers: CatalogueEntity['resolvers'][number][]; owners: string[] }>();
  const rootFields = new Map<string, string>();
  const bureaus = new Map<string, CatalogueBureau>();
  const listSizes = new Map<string, ListSize>();

  for (const source of sources) {
    const { schema, schemaFile: file, id: bureau } = source;
    const problem = (at: string, message: string): void => {
      problems.push({ file, at, message });
    };
    readListSizes(schema, listSizes, problem);
    const objectTypes = Object.values(schema.getTypeMap()).filter(
      (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__') && !ROOT_TYPES.has(type.name),
    );

    const keyOf = new Map<string, string>();
    for (const type of objectTypes) {
      const key = getDirective(schema, type, 'key')?.[0]?.field as string | undefined;
      if (key === undefined) continue;
      if (!type.getFields()[key]) {
        problem(type.name, `@key names "${key}", which is not a field of ${type.name}`);
        continue;
      }
      keyOf.set(type.name, key);
      const known = entities.get(type.name);
      if (known && known.keyField !== key) problem(type.name, `@key is "${key}" here but "${known.keyField}" in ${known.file}`);
      if (!known) entities.set(type.name, { keyField: key, file, resolvers: [], owners: [] });
    }

    const visible: string[] = [];
    for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
      const merges = getDirective(schema, field, 'merge') !== undefined;
      const mapped = source.bureau.connector.kind === 'graphql' || getDirective(schema, field, 'http') !== undefined || getDirective(schema, field, 'sql') !== undefined;
      if (merges) registerMerge(field, mapped);
      if (mapped) {
        visible.push(field.name);
        const other = rootFields.get(field.name);
        if (other && other !== bureau) problem(`Query.${field.name}`, `is also served by ${other}; root fields must have one bureau`);
        rootFields.set(field.name, bureau);
      }
    }
    bureaus.set(bureau, { ...source.bureau, rootFields: visible });

    function registerMerge(field: GraphQLField<unknown, unknown>, mapped: boolean): void {
      const at = `Query.${field.name}`;
      const typeName = getNamedType(field.type).name;
      const returnsList = unwrapNonNull(field.type) instanceof GraphQLList;
      const key = keyOf.get(typeName);
      if (!key) return problem(at, `@merge returns ${typeName}, which has no @key here`);
      if (field.args.length !== 1 || !(unwrapNonNull(field.args[0]!.type) instanceof GraphQLList) || !returnsList) {
        return problem(at, '@merge needs exactly one list argument (the keys) and a list result');
      }
      const entity = entities.get(typeName)!;
      if (entity.resolvers.some((resolver) => resolver.bureau === bureau)) return problem(at, `a second @merge for ${typeName}`);
      entity.resolvers.push({ bureau, fieldName: field.name, argumentName: field.args[0]!.name });
      if (mapped) entity.owners.push(bureau);
    }

    for (const typeName of keyOf.keys()) {
      if (!entities.get(typeName)!.resolvers.some((resolver) => resolver.bureau === bureau)) {
        problem(typeName, `has @key but no @merge root field resolves it in this bureau`);
      }
    }

    for (const type of objectTypes) {
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        let share: Record<string, unknown> | undefined;
        try {
          share = getDirective(schema, field, 'share')?.[0];
        } catch (error) {
          problem(coordinate, error instanceof GraphQLError ? error.message : 'has an invalid @share');
          continue;
        }
        if (!share) {
          problem(coordinate, 'has no @share(category:, sensitivity:): every field must say how it may be shared');
          continue;
        }
        const isKey = keyOf.get(type.name) === field.name;
        const entry: CatalogueField = {
          coordinate,
          typeName: type.name,
          fieldName: field.name,
          bureau,
          category: share.category as SharingCategory,
          sensitivity: share.sensitivity as Sensitivity,
          ...(share.mask ? { mask: share.mask as MaskKind } : {}),
          isKey,
          ...(field.description ? { description: field.description } : {}),
        };
        const known = fields.get(coordinate);
        if (known && !isKey) {
          problem(coordinate, `is also provided by ${known.bureau} (${fieldFiles.get(coordinate)}); a field has one providing bureau`);
        } else if (known && (known.category !== entry.category || known.mask !== entry.mask)) {
          problem(coordinate, `merge key is shared differently here than in ${fieldFiles.get(coordinate)}`);
        } else if (!known) {
          fields.set(coordinate, entry);
          fieldFiles.set(coordinate, file);
        }
        if (!isKey && field.type instanceof GraphQLNonNull && share.category !== 'OPEN') {
          // Gated fields must be nullable: a denial or an unavailable bureau
          // turns them into null, and null must not wipe out their parent.
          problem(coordinate, `is ${share.category} and so may be withheld: it must be nullable`);
        }
      }
    }
  }

  for (const [typeName, entity] of entities) {
    if (entity.owners.length === 0) {
      if (!complete) continue;
      problems.push({ file: entity.file, at: typeName, message: `merge key ${typeName}.${entity.keyField} is resolved by no bureau: no @merge field of any bureau fetches ${typeName} records` });
      continue;
    }
    // The key is reported as provided by the bureau that owns the records.
    const key = fields.get(`${typeName}.${entity.keyField}`);
    if (key && key.bureau !== entity.owners[0]) fields.set(key.coordinate, { ...key, bureau: entity.owners[0]! });
  }

  return {
    bureaus,
    fields,
    rootFields,
    listSizes,
    entities: new Map(
      [...entities].map(([typeName, entity]) => [typeName, { typeName, keyField: entity.keyField, resolvers: entity.resolvers }]),
    ),
  };
}

function unwrapNonNull(type: unknown): unknown {
  return type instanceof GraphQLNonNull ? type.ofType : type;
}
