import { getDirective } from '@graphql-tools/utils';
import DataLoader from 'dataloader';
import {
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { ConnectorConfigError } from '../connector-error.ts';
import { executionSignal } from '../shared/execution-signal.ts';
import { mapMappedFields } from '../shared/map-mapped-fields.ts';
import { createPerExecution } from '../shared/per-execution.ts';
import {
  coordinate,
  entityKeyField,
  returnsList,
  singleArgumentName,
} from '../shared/schema-mapping.ts';
import { SQL_IDENTIFIER, SQL_TABLE, snakeCase } from './sql-identifier.ts';

/** One batched read: `select <columns> from <table> where <key> in (<keys>)`. Names are checked identifiers. */
export interface RowQuery {
  readonly table: string;
  readonly key: string;
  /** The key column first, then the columns the field reads; no duplicates. */
  readonly columns: readonly string[];
}

/** A row as `pg` returns it. */
export type Row = Readonly<Record<string, unknown>>;

/** Runs one {@link RowQuery} for a batch of keys. */
export type LoadRows = (query: RowQuery, keys: readonly string[], context: unknown, signal: AbortSignal | undefined) => Promise<readonly Row[]>;

/** Options of {@link buildSqlSchema}. */
export interface SqlSchemaOptions {
  readonly bureau: string;
  /** The bureau's SDL, built with its directives. */
  readonly schema: GraphQLSchema;
  /** Keys per query; more keys are split over several queries. */
  readonly maxBatch: number;
  readonly loadRows: LoadRows;
}

/** The arguments of `@sql`, as `schemas/directives.graphql` declares them. */
interface SqlDirective {
  readonly table: string;
  readonly key: string;
  readonly column?: string | null;
  readonly list?: boolean | null;
}

type Resolver = GraphQLFieldResolver<unknown, unknown, Record<string, unknown>>;
type Field = GraphQLFieldConfig<unknown, unknown>;

/**
 * Makes a bureau's SDL executable against its PostgreSQL tables, from its
 * `@sql`, `@column` and `@merge` directives.
 *
 * A field with `@sql(table, key)` reads the rows of `table` whose `key` column
 * equals the parent's `@key` value (an entity field) or its argument (a root
 * field with one argument; a list of keys gives one entry per key). All the
 * keys of one execution go in one parameterised `where key in (…)` (at most
 * `maxBatch` per query). With `column` the field is that column; otherwise it
 * is an object read from the row, its fields from their snake_case columns or
 * `@column`. `list: true` returns every row of the key, otherwise the first
 * one or null. A `@merge` root field without `@sql` returns key stubs.
 *
 * Every table and column name comes from the SDL and is checked to be a plain
 * identifier here, before any query runs; values are always parameters.
 * Throws {@link ConnectorConfigError} naming the field when a mapping cannot work.
 */
export function buildSqlSchema(options: SqlSchemaOptions): GraphQLSchema {
  const { bureau, schema, maxBatch, loadRows } = options;
  const loaders = createPerExecution<DataLoader<string, unknown>>();
  const fail = (where: string, message: string): ConnectorConfigError =>
    new ConnectorConfigError(bureau, `${where}: ${message}`);

  /** How one row becomes the field's value, and which columns that takes. */
  function rowReader(where: string, sql: SqlDirective, itemType: GraphQLOutputType): { columns: string[]; read: (row: Row) => unknown } {
    const named = getNamedType(itemType);
    if (sql.column) {
      if (!SQL_IDENTIFIER.test(sql.column)) throw fail(where, `@sql column "${sql.column}" is not a plain lower-case identifier`);
      if (!isLeafType(named)) throw fail(where, '@sql with column returns a scalar or enum');
      const column = sql.column;
      return { columns: [column], read: (row) => row[column] ?? null };
    }
    if (!isObjectType(named)) throw fail(where, '@sql without column returns an object type, read from the row');
    const mapping: [field: string, column: string][] = [];
    for (const [name, subfield] of Object.entries(named.getFields())) {
      // A field with its own @sql (a relation read by the row's key) is resolved by its own loader, not from this row.
      if (getDirective(schema, subfield, 'sql')) continue;
      const at = coordinate(named.name, name);
      if (!isLeafType(getNamedType(subfield.type))) throw fail(at, `a field of a row type (read by ${where}) is a scalar or enum`);
      const override = getDirective(schema, subfield, 'column')?.[0] as { name?: string } | undefined;
      const column = override?.name ?? snakeCase(name);
      if (!SQL_IDENTIFIER.test(column)) throw fail(at, `the column "${column}" is not a plain lower-case identifier`);
      mapping.push([name, column]);
    }
    return {
      columns: mapping.map(([, column]) => column),
      read: (row) => Object.fromEntries(mapping.map(([field, column]) => [field, row[column] ?? null])),
    };
  }

  /**
   * The loader factory of one `@sql` field: keys in, one value per key out.
   * `perKeyType` is what one key resolves to.
   */
  function sqlLoader(where: string, sql: SqlDirective, perKeyType: GraphQLOutputType) {
    if (!SQL_TABLE.test(sql.table)) throw fail(where, `@sql table "${sql.table}" is not a plain lower-case identifier or schema.table`);
    if (!SQL_IDENTIFIER.test(sql.key)) throw fail(where, `@sql key "${sql.key}" is not a plain lower-case identifier`);
    const all = returnsList(perKeyType);
    if (Boolean(sql.list) !== all) {
      throw fail(where, all ? 'a list field needs @sql(list: true)' : '@sql(list: true) needs a list field');
    }
    const itemType = all ? (getNullableType(perKeyType) as { ofType: GraphQLOutputType }).ofType : perKeyType;
    const { columns, read } = rowReader(where, sql, itemType);
    const query: RowQuery = { table: sql.table, key: sql.key, columns: [...new Set([sql.key, ...columns])] };

    return (context: unknown, signal: AbortSignal | undefined) =>
      new DataLoader<string, unknown>(
        async (keys) => {
          const rows = await loadRows(query, keys, context, signal);
          const byKey = new Map<string, Row[]>();
          for (const row of rows) {
            const key = String(row[sql.key]);
            const matched = byKey.get(key);
            if (matched) matched.push(row);
            else byKey.set(key, [row]);
          }
          return keys.map((key) => {
            const matched = byKey.get(key);
            if (all) return (matched ?? []).map(read);
            return matched?.[0] ? read(matched[0]) : null;
          });
        },
        { maxBatchSize: maxBatch },
      );
  }

  function rootResolver(where: string, field: Field, sql: SqlDirective): Resolver {
    const keysArgument = singleArgumentName(field);
    if (keysArgument === undefined) throw fail(where, 'a root field with @sql takes exactly one argument, its key or keys');
    const keysAreList = isListType(getNullableType(field.args?.[keysArgument]?.type));
    const returnType = getNullableType(field.type);
    if (keysAreList && !isListType(returnType)) throw fail(where, 'a list of keys returns a list, one entry per key');
    const create = sqlLoader(where, sql, keysAreList && isListType(returnType) ? returnType.ofType : field.type);
    return (_source, args, context, info) => {
      const keys = args[keysArgument];
      if (keys === null || keys === undefined) return null;
      const loader = loaders.get(context, where, () => create(context, executionSignal(info)));
      if (!keysAreList) return loader.load(String(keys));
      return Promise.all((keys as readonly unknown[]).map((key) => (key == null ? null : loader.load(String(key)))));
    };
  }

  function entityResolver(where: string, typeName: string, field: Field, sql: SqlDirective): Resolver {
    const parentType = schema.getType(typeName);
    const keyField = parentType ? entityKeyField(schema, parentType) : undefined;
    if (keyField === undefined) throw fail(where, `@sql on a field needs ${typeName} to have @key, whose value selects the rows`);
    if (Object.keys(field.args ?? {}).length > 0) throw fail(where, 'a field with @sql takes no arguments');
    const create = sqlLoader(where, sql, field.type);
    return (parent, _args, context, info) => {
      const key = (parent as Record<string, unknown> | null)?.[keyField];
      if (key === null || key === undefined) return null;
      return loaders.get(context, where, () => create(context, executionSignal(info))).load(String(key));
    };
  }

  return mapMappedFields<SqlDirective>({
    bureau,
    kind: 'sql',
    schema,
    directive: 'sql',
    resolverFor: ({ where, typeName, field, mapping: sql, root }) => (root ? rootResolver(where, field, sql) : entityResolver(where, typeName, field, sql)),
  });
}
