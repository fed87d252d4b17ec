import DataLoader from 'dataloader';
import {
  getNullableType,
  isListType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { ConnectorConfigError } from '../connector-error.ts';
import { executionSignal } from '../shared/execution-signal.ts';
import { unexpectedShape } from '../shared/http-answer.ts';
import { mapMappedFields } from '../shared/map-mapped-fields.ts';
import { createPerExecution } from '../shared/per-execution.ts';
import {
  entityKeyField,
  namedReturnType,
  returnsList,
  singleArgumentName,
} from '../shared/schema-mapping.ts';
import { parseRestPath, queryValue, type RestPath } from './rest-path.ts';
import { describeJson, shapeMismatch } from './rest-shape.ts';

/** Reads one JSON document from the bureau: `null` for a 404. */
export type GetJson = (path: string, context: unknown, signal: AbortSignal | undefined) => Promise<unknown>;

/** Options of {@link buildRestSchema}. */
export interface RestSchemaOptions {
  readonly bureau: string;
  /** The bureau's SDL, built with its directives. */
  readonly schema: GraphQLSchema;
  /** Keys per batch request; more keys are split over several requests. */
  readonly maxBatch: number;
  readonly getJson: GetJson;
}

/** The arguments of `@http`, as `schemas/directives.graphql` declares them. */
interface HttpDirective {
  readonly get: string;
  readonly batchParam?: string | null;
  readonly batchBy?: string | null;
}

/** A batch request's mapping: one GET for many keys, items matched back by `batchBy`. */
interface BatchMapping {
  readonly where: string;
  readonly path: RestPath;
  readonly batchParam: string;
  readonly batchBy: string;
  /** What one key resolves to: a list of items (`Person.enterprises`) or one item or null. */
  readonly perKeyType: GraphQLOutputType;
}

type Resolver = GraphQLFieldResolver<unknown, unknown, Record<string, unknown>>;
type Field = GraphQLFieldConfig<unknown, unknown>;

/**
 * Makes a bureau's SDL executable against its REST API, from its `@http` and
 * `@merge` directives.
 *
 * - A root field with `@http(get:)` fills `{arg}` in the path from its
 *   arguments and sends the others as query parameters.
 * - With `batchParam`/`batchBy`, keys go comma-joined into one request (at
 *   most `maxBatch` per request) and items come back to their key by their
 *   `batchBy` property: one item or null per key for a root field, and for an
 *   entity field the items that belong to the parent's `@key`, or one of them
 *   when the field is not a list. Entity fields of one execution share one
 *   loader, so a hundred parents cost one request.
 * - A `@merge` root field without `@http` returns key stubs.
 *
 * Throws {@link ConnectorConfigError} naming the field when a mapping cannot work.
 */
export function buildRestSchema(options: RestSchemaOptions): GraphQLSchema {
  const { bureau, schema, maxBatch, getJson } = options;
  const loaders = createPerExecution<DataLoader<string, unknown>>();
  const fail = (where: string, message: string): ConnectorConfigError =>
    new ConnectorConfigError(bureau, `${where}: ${message}`);

  async function getChecked(where: string, path: string, type: GraphQLOutputType, context: unknown, signal?: AbortSignal) {
    const json = await getJson(path, context, signal);
    const mismatch = shapeMismatch(json, type);
    if (mismatch !== undefined) throw unexpectedShape(bureau, `${where}: ${mismatch}`);
    return json;
  }

  function batchLoader(mapping: BatchMapping, query: readonly (readonly [string, string])[], context: unknown, signal?: AbortSignal) {
    const { where, path, batchParam, batchBy, perKeyType } = mapping;
    const all = returnsList(perKeyType);
    return new DataLoader<string, unknown>(
      async (keys) => {
        const url = path.fill({}, [[batchParam, keys.join(',')], ...query]);
        const json = await getJson(url as string, context, signal);
        const items = json ?? [];
        if (!Array.isArray(items)) throw unexpectedShape(bureau, `${where}: expected an array, got ${describeJson(items)}`);
        const byKey = new Map<string, unknown[]>();
        for (const item of items) {
          const key = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>)[batchBy] : undefined;
          // An item we cannot match to a key could belong to anyone: refuse the whole answer.
          if (typeof key !== 'string' && typeof key !== 'number') {
            throw unexpectedShape(bureau, `${where}: an item is ${describeJson(item)} without a ${batchBy} to match it by`);
          }
          const matched = byKey.get(String(key));
          if (matched) matched.push(item);
          else byKey.set(String(key), [item]);
        }
        return keys.map((key) => (all ? (byKey.get(key) ?? []) : (byKey.get(key)?.[0] ?? null)));
      },
      { maxBatchSize: maxBatch },
    );
  }

  /** Query parameters from a field's arguments, skipping the ones the path uses. */
  function queryFrom(args: Record<string, unknown>, skip: readonly string[]): [string, string][] {
    return Object.entries(args)
      .filter(([name, value]) => value !== null && value !== undefined && !skip.includes(name))
      .map(([name, value]) => [name, queryValue(value)]);
  }

  function batchMapping(where: string, field: Field, http: HttpDirective, path: RestPath, perKeyType: GraphQLOutputType): BatchMapping {
    if (path.placeholders.length > 0) throw fail(where, 'with batchParam the path takes no {placeholders}: keys go in the query');
    if (!isObjectType(namedReturnType(field))) throw fail(where, 'a batch @http field returns objects, matched to keys by batchBy');
    return { where, path, batchParam: http.batchParam as string, batchBy: http.batchBy as string, perKeyType };
  }

  function rootResolver(where: string, field: Field, http: HttpDirective, path: RestPath): Resolver {
    const argNames = Object.keys(field.args ?? {});
    if (!http.batchParam) {
      const unknown = path.placeholders.find((name) => !argNames.includes(name));
      if (unknown !== undefined) throw fail(where, `the path's {${unknown}} is not an argument of the field`);
      return async (_source, args, context, info) => {
        const url = path.fill(args, queryFrom(args, path.placeholders));
        if (url === undefined) return null;
        return getChecked(where, url, field.type, context, executionSignal(info));
      };
    }
    const keysArgument = singleArgumentName(field);
    if (keysArgument === undefined) throw fail(where, 'a root field with batchParam takes exactly one argument, its keys');
    const keysAreList = isListType(getNullableType(field.args?.[keysArgument]?.type));
    const returnType = getNullableType(field.type);
    if (keysAreList && !isListType(returnType)) throw fail(where, 'a list of keys returns a list, one entry per key');
    const mapping = batchMapping(where, field, http, path, isListType(returnType) && keysAreList ? returnType.ofType : field.type);
    return (_source, args, context, info) => {
      const loader = loaders.get(context, where, () => batchLoader(mapping, [], context, executionSignal(info)));
      const keys = args[keysArgument];
      if (keys === null || keys === undefined) return null;
      if (!keysAreList) return loader.load(String(keys));
      return Promise.all((keys as readonly unknown[]).map((key) => (key == null ? null : loader.load(String(key)))));
    };
  }

  function entityResolver(where: string, typeName: string, field: Field, http: HttpDirective, path: RestPath): Resolver {
    const parentType = schema.getType(typeName);
    const keyField = parentType ? entityKeyField(schema, parentType) : undefined;
    if (keyField === undefined) throw fail(where, `@http on a field needs ${typeName} to have @key, whose value fills the request`);
    // Arguments of an entity field are query parameters, and part of the loader's
    // name: the same field asked with other arguments is another request.
    const loaderName = (query: readonly (readonly [string, string])[]) => (query.length === 0 ? where : `${where}${JSON.stringify(query)}`);

    if (http.batchParam) {
      const mapping = batchMapping(where, field, http, path, field.type);
      return (parent, args, context, info) => {
        const key = (parent as Record<string, unknown> | null)?.[keyField];
        if (key === null || key === undefined) return null;
        const query = queryFrom(args, []);
        const loader = loaders.get(context, loaderName(query), () => batchLoader(mapping, query, context, executionSignal(info)));
        return loader.load(String(key));
      };
    }

    const stray = path.placeholders.find((name) => name !== keyField);
    if (stray !== undefined) throw fail(where, `the path may only use {${keyField}}, the key of ${typeName}`);
    return (parent, args, context, info) => {
      const key = (parent as Record<string, unknown> | null)?.[keyField];
      if (key === null || key === undefined) return null;
      const query = queryFrom(args, []);
      const signal = executionSignal(info);
      // One request per key, but each key once per execution.
      const loader = loaders.get(context, loaderName(query), () =>
        new DataLoader<string, unknown>(async (keys) => {
          const answers = await Promise.allSettled(
            keys.map((one) => getChecked(where, path.fill({ [keyField]: one }, query) as string, field.type, context, signal)),
          );
          return answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : toError(answer.reason)));
        }),
      );
      return loader.load(String(key));
    };
  }

  return mapMappedFields<HttpDirective>({
    bureau,
    kind: 'rest',
    schema,
    directive: 'http',
    resolverFor: ({ where, typeName, field, mapping: http, root, merge }) => {
      if (Boolean(http.batchParam) !== Boolean(http.batchBy)) throw fail(where, 'batchParam and batchBy go together');
      if (merge && !http.batchParam) throw fail(where, 'a @merge field with @http needs batchParam and batchBy, to match items to keys');
      const path = parseRestPath(http.get);
      if (typeof path === 'string') throw fail(where, path);
      return root ? rootResolver(where, field, http, path) : entityResolver(where, typeName, field, http, path);
    },
  });
}

/** DataLoader fails one key when its slot holds an Error instance. */
function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
