import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  printType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { BureauImportError } from './bureau-import-error.ts';
import type { ImportedBureau, ImportedField, ImportedRootField, ImportedType, Unmapped } from './imported-bureau.ts';
import { singular } from './graphql-name.ts';
import { suggestShare } from './suggest-share.ts';
import { describeUrl, fetchJson } from './fetch-json.ts';

/** Options of {@link importGraphql}. */
export interface ImportGraphqlOptions {
  /** The service's GraphQL endpoint. */
  readonly url: string;
  /** Headers for the introspection request (a bureau's own service may want a key). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

/** Whether a root field is a batch read: one list argument of keys, a list of one object type, and that type has the key as a field. */
function batchKey(field: GraphQLField<unknown, unknown>): { type: GraphQLObjectType; key: string } | undefined {
  if (field.args.length !== 1 || !isListType(getNullableType(field.args[0]!.type)) || !isListType(getNullableType(field.type))) return undefined;
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return undefined;
  const key = singular(field.args[0]!.name);
  return type.getFields()[key] && getNamedType(type.getFields()[key]!.type).name !== 'Boolean' ? { type, key } : undefined;
}

/**
 * Reads a bureau's GraphQL service by introspection: its query fields with
 * their arguments, the object types they reach (fields, lists, non-null),
 * the enums and input types the arguments take. A root field taking a list
 * of keys and returning a list of one type (`persons(idNumbers: [ID!]!)`)
 * becomes that type's `@merge` entry point and its `@key`.
 *
 * Mutations, subscriptions, unions and interfaces are listed as unmapped.
 * Non-null fields become nullable except keys: a CONDITIONAL field may be
 * withheld, and a withheld field is null.
 */
export async function importGraphql(options: ImportGraphqlOptions): Promise<ImportedBureau> {
  const answer = (await fetchJson(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
    body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true }) }),
    signal: options.signal,
  })) as { data?: IntrospectionQuery; errors?: unknown };
  if (!answer || typeof answer !== 'object' || !answer.data?.__schema) {
    throw new BureauImportError('IMPORT_BAD_DOCUMENT', describeUrl(options.url), 'did not answer the introspection query with a schema (is introspection turned off?)');
  }
  let schema: GraphQLSchema;
  try {
    schema = buildClientSchema(answer.data);
  } catch (error) {
    throw new BureauImportError('IMPORT_BAD_DOCUMENT', describeUrl(options.url), 'answered an introspection result that does not build a schema', { cause: error });
  }
  return fromSchema(schema, options.url);
}

function fromSchema(schema: GraphQLSchema, url: string): ImportedBureau {
  const unmapped: Unmapped[] = [];
  const notes: string[] = [];
  for (const root of [schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      unmapped.push({ at: `${root!.name}.${field.name}`, reason: 'not a read: the gateway shares data, it does not change it' });
    }
  }
  const query = schema.getQueryType();
  if (!query) throw new BureauImportError('IMPORT_NOTHING_TO_IMPORT', describeUrl(url), 'the service has no Query type');

  const keys = new Map<string, string>();
  const merges = new Set<string>();
  for (const field of Object.values(query.getFields())) {
    const batch = batchKey(field);
    if (batch && !keys.has(batch.type.name)) {
      keys.set(batch.type.name, batch.key);
      merges.add(field.name);
    }
  }

  const reached = new Map<string, GraphQLNamedType>();
  /** Whether a type can be part of the bureau schema; records the types it needs. */
  function reach(type: GraphQLNamedType, at: string): boolean {
    if (isUnionType(type) || isInterfaceType(type)) {
      unmapped.push({ at, reason: `returns the ${isUnionType(type) ? 'union' : 'interface'} ${type.name}: bureau schemas hold object types only (a field has one owner and one sharing rule)` });
      return false;
    }
    if (reached.has(type.name) || isSpecifiedScalarType(type)) return true;
    reached.set(type.name, type);
    if (isInputObjectType(type)) for (const input of Object.values(type.getFields())) reach(getNamedType(input.type), `${type.name}.${input.name}`);
    return true;
  }
  const rootFields: ImportedRootField[] = [];
  for (const field of Object.values(query.getFields())) {
    const at = `Query.${field.name}`;
    if (!reach(getNamedType(field.type), at)) continue;
    if (!field.args.every((arg) => reach(getNamedType(arg.type), `${at}(${arg.name})`))) continue;
    rootFields.push({
      name: field.name,
      args: field.args.map((arg) => `${arg.name}: ${String(arg.type)}`).join(', '),
      type: String(field.type),
      ...(field.description ? { description: field.description } : {}),
      ...(merges.has(field.name) ? { directives: ['@merge'] } : {}),
    });
  }

  // Object types are walked after the roots, so a type only some field reaches is still included.
  const types: ImportedType[] = [];
  const extraDefinitions: string[] = [];
  const done = new Set<string>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const type of [...reached.values()]) {
      if (done.has(type.name)) continue;
      done.add(type.name);
      progress = true;
      if (isObjectType(type)) types.push(objectType(type));
      else if (isEnumType(type) || isInputObjectType(type) || (isScalarType(type) && !isSpecifiedScalarType(type))) extraDefinitions.push(printType(type));
    }
  }

  function objectType(type: GraphQLObjectType): ImportedType {
    const key = keys.get(type.name);
    const fields: ImportedField[] = [];
    for (const field of Object.values(type.getFields())) {
      const at = `${type.name}.${field.name}`;
      if (field.args.length > 0) {
        unmapped.push({ at, reason: 'a field with arguments inside a type is not shared field by field; ask for it through a root field' });
        continue;
      }
      if (!reach(getNamedType(field.type), at)) continue;
      const isKey = key === field.name;
      const suggestion = suggestShare({ names: [field.name], typeName: type.name, ...(field.description ? { description: field.description } : {}) });
      fields.push({
        name: field.name,
        type: String(isKey ? field.type : nullable(field.type)),
        ...(field.description ? { description: field.description } : {}),
        share: suggestion.share,
      });
    }
    return { name: type.name, ...(type.description ? { description: type.description } : {}), ...(key ? { key } : {}), fields };
  }

  for (const type of types) {
    if (!type.key) notes.push(`${type.name} has no batch read by key (a root field taking a list of keys and returning a list of ${type.name}): other bureaus cannot merge it`);
  }
  return { kind: 'graphql', url, source: `the GraphQL service at ${describeUrl(url)} (introspection)`, rootFields, types, extraDefinitions, unmapped, notes };
}

function nullable(type: GraphQLOutputType): GraphQLOutputType {
  return isNonNullType(type) ? type.ofType : type;
}
