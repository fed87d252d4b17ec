import { listSizeOfBatch } from './list-size-of-batch.ts';
import { dereference, MissingPointerError } from '@readme/openapi-parser';
import { BureauImportError } from './bureau-import-error.ts';
import type { ImportedBureau, ImportedField, ImportedRootField, ImportedType, Unmapped } from './imported-bureau.ts';
import { GRAPHQL_NAME, fieldName, plural, singular, typeName } from './graphql-name.ts';
import { suggestShare } from './suggest-share.ts';

/** Options of {@link importOpenapi}. */
export interface ImportOpenapiOptions {
  /** The OpenAPI 3.0 or 3.1 document, JSON or YAML. */
  readonly file: string;
  /** The API's base URL for the manifest; default the document's first absolute `servers` URL. */
  readonly url?: string;
}

type Schema = Record<string, any>;

/** Property names that identify an item (a status or a tag does not): only these make a batch endpoint's key. */
const KEY_LIKE = /^(id|key|code|uuid)$|(Id|ID|Key|Code|Number|No)$/;

const JSON_MEDIA = /^application\/([a-z.+-]*\+)?json|^\*\/\*$/;

/**
 * Reads an OpenAPI 3.0 or 3.1 document (JSON or YAML, every `$ref` resolved
 * by `@readme/openapi-parser`) as a REST bureau:
 *
 * - each GET with a JSON response becomes a root field; its path and query
 *   parameters become arguments, mapped by `@http(get:)`;
 * - response schemas become object types (named after their component where
 *   they have one), `allOf` merged;
 * - a GET without path parameters whose one query parameter takes many keys
 *   and whose response is a list of a type carrying that key is a batch
 *   endpoint: it becomes the type's `@merge` field, `@key` and
 *   `@http(batchParam:, batchBy:)`; a type without one is named as missing it.
 *
 * Other operations, non-JSON bodies, unions (`oneOf`/`anyOf`), free-form maps
 * and header or cookie parameters are listed as unmapped with the reason.
 */
export async function importOpenapi(options: ImportOpenapiOptions): Promise<ImportedBureau> {
  let document: Schema;
  try {
    document = (await dereference(options.file, { dereference: { circular: 'ignore' } } as never)) as Schema;
  } catch (error) {
    if (error instanceof MissingPointerError || (error as { code?: string }).code === 'EMISSINGPOINTER') {
      throw new BureauImportError('IMPORT_BAD_REF', options.file, `a $ref points nowhere: ${(error as Error).message}`, { cause: error });
    }
    const detail = (error as Error).message?.split('\n')[0]?.replace(/^Error parsing [^:]*: /, '') ?? 'unreadable';
    throw new BureauImportError('IMPORT_BAD_DOCUMENT', options.file, `is not an OpenAPI document that parses: ${detail}`, { cause: error });
  }
  if (typeof document.openapi !== 'string' || !/^3\.[01]\./.test(document.openapi)) {
    throw new BureauImportError('IMPORT_BAD_DOCUMENT', options.file, `is not OpenAPI 3.0 or 3.1 (openapi: ${JSON.stringify(document.openapi ?? document.swagger ?? null)})`);
  }
  const url = options.url ?? (document.servers ?? []).map((server: Schema) => server.url).find((candidate: unknown) => typeof candidate === 'string' && /^https?:\/\//.test(candidate));
  if (!url) throw new BureauImportError('IMPORT_BAD_DOCUMENT', `${options.file} servers`, 'names no absolute server URL: give the API base URL with --url');
  return fromDocument(document, options.file, url.replace(/\/$/, ''));
}

function fromDocument(document: Schema, file: string, url: string): ImportedBureau {
  const unmapped: Unmapped[] = [];
  const notes: string[] = [];
  // After dereferencing, a component's schema is the very object every $ref to it became: that identity names the type.
  const componentNames = new Map<object, string>();
  for (const [name, schema] of Object.entries<Schema>(document.components?.schemas ?? {})) {
    const graphqlName = typeName(name);
    if (graphqlName) componentNames.set(schema, graphqlName);
  }
  const types = new Map<string, { schema: Schema; fields: ImportedField[]; description?: string; key?: string }>();
  const typeOf = new Map<object, string>();

  /** Properties of an object schema, with `allOf` merged. */
  function properties(schema: Schema): { props: Record<string, Schema>; required: Set<string> } {
    const props: Record<string, Schema> = { ...(schema.properties ?? {}) };
    const required = new Set<string>(schema.required ?? []);
    for (const part of schema.allOf ?? []) {
      const inner = properties(part);
      Object.assign(props, inner.props);
      for (const name of inner.required) required.add(name);
    }
    return { props, required };
  }

  /** The GraphQL type of a schema, or a reason it has none. */
  function graphqlType(schema: Schema | undefined, at: string, suggestedName: string): string | { reason: string } {
    if (!schema || typeof schema !== 'object') return { reason: 'has no schema' };
    if (schema.$ref) return { reason: `refers to itself (${schema.$ref}) in a way a type cannot express` };
    if (schema.oneOf || schema.anyOf) return { reason: 'is a union (oneOf/anyOf): a field has one type and one sharing rule' };
    const kind = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
    if (kind === 'array') {
      const item = graphqlType(schema.items, `${at}[]`, singular(suggestedName));
      return typeof item === 'string' ? `[${item}]` : item;
    }
    if (kind === 'string') return schema.format === 'binary' || schema.format === 'byte' ? { reason: 'is a binary value' } : 'String';
    if (kind === 'integer') return schema.format === 'int64' ? 'Float' : 'Int';
    if (kind === 'number') return 'Float';
    if (kind === 'boolean') return 'Boolean';
    if (kind === 'object' || schema.properties || schema.allOf) {
      const { props } = properties(schema);
      if (Object.keys(props).length === 0) return { reason: 'is a free-form map (no named properties): it has no GraphQL type' };
      return objectType(schema, at, suggestedName);
    }
    return { reason: `has the type ${JSON.stringify(schema.type ?? null)}, which has no GraphQL equivalent` };
  }

  function objectType(schema: Schema, at: string, suggestedName: string): string {
    const known = typeOf.get(schema);
    if (known) return known;
    let name = componentNames.get(schema) ?? typeName(suggestedName) ?? 'Item';
    while (types.has(name)) name = `${name}_`;
    typeOf.set(schema, name);
    const entry = { schema, fields: [] as ImportedField[], ...(schema.description ? { description: String(schema.description) } : {}) };
    types.set(name, entry);
    const { props } = properties(schema);
    for (const [property, propertySchema] of Object.entries(props)) {
      const where = `${name}.${property}`;
      // The REST connector reads a JSON property by the field's own name, so a property GraphQL cannot name cannot be read.
      if (!GRAPHQL_NAME.test(property)) {
        throw new BureauImportError('IMPORT_BAD_NAME', `${file} ${at} property "${property}"`, 'is not a valid GraphQL name, and the REST connector reads a property by its field name: rename it in the API, or serve it under a valid name');
      }
      const type = graphqlType(propertySchema, where, `${name}${property.charAt(0).toUpperCase()}${property.slice(1)}`);
      if (typeof type !== 'string') {
        unmapped.push({ at: where, reason: `the property ${type.reason}` });
        continue;
      }
      const description = [propertySchema.description, propertySchema.enum ? `one of: ${propertySchema.enum.join(', ')}` : undefined].filter(Boolean).join('\n');
      entry.fields.push({
        name: property,
        type,
        ...(description ? { description } : {}),
        share: suggestShare({ names: [property], typeName: name, description }).share,
      });
    }
    return name;
  }

  const rootFields: ImportedRootField[] = [];
  const usedNames = new Set<string>();
  const batched = new Set<string>();
  for (const [path, item] of Object.entries<Schema>(document.paths ?? {})) {
    for (const method of ['put', 'post', 'delete', 'patch', 'options', 'head', 'trace']) {
      if (item[method]) unmapped.push({ at: `${method.toUpperCase()} ${path}`, reason: 'not a read: only GET operations become query fields' });
    }
    const operation = item.get as Schema | undefined;
    if (!operation) continue;
    const at = `GET ${path}`;
    const response = Object.entries<Schema>(operation.responses ?? {}).find(([status]) => /^2\d\d$/.test(status))?.[1];
    const media = Object.entries<Schema>(response?.content ?? {}).find(([type]) => JSON_MEDIA.test(type));
    if (!media) {
      const kinds = Object.keys(response?.content ?? {});
      unmapped.push({ at, reason: kinds.length ? `answers ${kinds.join(', ')}, not JSON (a binary or text body has no fields to share)` : 'answers no body to read' });
      continue;
    }
    const base = (operation.operationId && fieldName(operation.operationId)) || fieldName(path.replace(/\{[^}]*\}/g, 'by').replace(/\//g, ' ')) || 'get';
    const resultType = graphqlType(media[1].schema, at, singular(base.replace(/^(get|find|list)/, '')) || 'Item');
    if (typeof resultType !== 'string') {
      unmapped.push({ at, reason: `its response ${resultType.reason}` });
      continue;
    }
    const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])] as Schema[];
    const args: string[] = [];
    let skip = false;
    for (const parameter of parameters) {
      if (parameter.in !== 'path' && parameter.in !== 'query') {
        unmapped.push({ at: `${at} ${parameter.in} parameter ${parameter.name}`, reason: 'only path and query parameters can be sent by the REST connector' });
        continue;
      }
      const argType = graphqlType(parameter.schema, at, parameter.name);
      if (!GRAPHQL_NAME.test(parameter.name) || typeof argType !== 'string' || /^[A-Z]/.test(argType.replace(/^\[/, '')) && !/^\[?(String|Int|Float|Boolean|ID)/.test(argType)) {
        unmapped.push({ at: `${at} ${parameter.in} parameter ${parameter.name}`, reason: 'is not a scalar or list of scalars with a GraphQL name' });
        if (parameter.in === 'path' || parameter.required) skip = true;
        continue;
      }
      args.push(`${parameter.name}: ${argType}${parameter.in === 'path' || parameter.required ? '!' : ''}`);
    }
    if (skip) {
      unmapped.push({ at, reason: 'a required parameter cannot be mapped (above)' });
      continue;
    }
    // A batch endpoint: no path parameters, a query parameter whose name is a property of the listed items.
    const itemType = /^\[(\w+)\]$/.exec(resultType)?.[1];
    const batchParameter = !path.includes('{') && itemType && types.has(itemType)
      ? parameters.find((parameter) => parameter.in === 'query' && types.get(itemType)!.fields.some((field) => KEY_LIKE.test(field.name) && (field.name === parameter.name || field.name === singular(parameter.name))))
      : undefined;
    if (itemType && batchParameter && !types.get(itemType)!.key) {
      const entry = types.get(itemType)!;
      const key = entry.fields.find((field) => field.name === batchParameter.name || field.name === singular(batchParameter.name))!;
      entry.key = key.name;
      const keyIndex = entry.fields.indexOf(key);
      entry.fields[keyIndex] = { ...key, type: 'ID!' };
      rootFields.push({
        name: uniqueName(plural(itemType.charAt(0).toLowerCase() + itemType.slice(1))),
        args: `${plural(key.name)}: [ID!]!`,
        type: `[${itemType}]!`,
        description: `${operation.summary ?? `${itemType} by ${key.name}`} (batch: ${at}?${batchParameter.name}=a,b,…)`,
        directives: ['@merge', `@http(get: ${JSON.stringify(path)}, batchParam: ${JSON.stringify(batchParameter.name)}, batchBy: ${JSON.stringify(key.name)})`, listSizeOfBatch(plural(key.name))],
      });
      batched.add(itemType);
      for (const other of parameters.filter((parameter) => parameter !== batchParameter && parameter.in === 'query')) {
        unmapped.push({ at: `${at} query parameter ${other.name}`, reason: `the batch field sends only ${batchParameter.name}; ask for ${other.name} through another GET` });
      }
      continue;
    }
    rootFields.push({
      name: uniqueName(base),
      args: args.join(', '),
      type: resultType,
      ...(operation.summary || operation.description ? { description: String(operation.summary ?? operation.description) } : {}),
      directives: [`@http(get: ${JSON.stringify(path)})`],
    });
  }

  function uniqueName(name: string): string {
    let unique = name;
    for (let n = 2; usedNames.has(unique); n++) unique = `${name}${n}`;
    usedNames.add(unique);
    return unique;
  }

  const out: ImportedType[] = [];
  for (const [name, entry] of types) {
    if (!entry.key && entry.fields.some((field) => KEY_LIKE.test(field.name))) {
      notes.push(`no batch endpoint for ${name}: a GET that takes many keys at once (e.g. GET /${plural(name.toLowerCase())}?id=1,2,3) would let other bureaus merge ${name} by its key`);
    }
    if (entry.fields.length === 0) {
      unmapped.push({ at: name, reason: 'has no property that can be mapped' });
      continue;
    }
    const fields = entry.fields.map((field) => (field.name === entry.key ? field : { ...field, type: field.type.replace(/!$/, '') }));
    out.push({ name, ...(entry.description ? { description: entry.description } : {}), ...(entry.key ? { key: entry.key } : {}), fields });
  }
  if (rootFields.length === 0) throw new BureauImportError('IMPORT_NOTHING_TO_IMPORT', file, 'has no GET operation with a JSON response');
  return { kind: 'rest', url, source: `the OpenAPI ${document.openapi} document ${file.split('/').pop()} (${document.info?.title ?? 'untitled'})`, rootFields, types: out, unmapped, notes };
}
