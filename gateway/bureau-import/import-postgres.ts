import { listSizeOfBatch } from './list-size-of-batch.ts';
import pg from 'pg';
import { SQL_IDENTIFIER, snakeCase } from '../../connectors/sql/sql-identifier.ts';
import { BureauImportError } from './bureau-import-error.ts';
import type { ImportedBureau, ImportedField, ImportedRootField, ImportedType, Unmapped } from './imported-bureau.ts';
import { fieldName, plural, singular, typeName } from './graphql-name.ts';
import { suggestShare } from './suggest-share.ts';
import { describeUrl } from './fetch-json.ts';

/** Options of {@link importPostgres}. */
export interface ImportPostgresOptions {
  readonly url: string;
  /** Default `public`. */
  readonly schema?: string;
  /** Only these tables (default: every table of the schema). */
  readonly tables?: readonly string[];
  /** Bounds the connection and each catalogue query. */
  readonly timeoutMs: number;
}

interface ColumnRow {
  readonly table: string;
  readonly table_comment: string | null;
  readonly column: string;
  readonly element: string;
  readonly is_array: boolean;
  readonly not_null: boolean;
  readonly column_comment: string | null;
}
interface ConstraintRow {
  readonly kind: 'p' | 'f';
  readonly table: string;
  readonly columns: readonly string[];
  readonly foreign_table: string | null;
  readonly foreign_schema: string | null;
  readonly foreign_columns: readonly string[] | null;
}

const COLUMNS = `
select c.relname as "table", obj_description(c.oid, 'pg_class') as table_comment, a.attname as "column",
       coalesce(et.typname, t.typname) as element, t.typcategory = 'A' as is_array, a.attnotnull as not_null,
       col_description(c.oid, a.attnum) as column_comment
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  join pg_type t on t.oid = a.atttypid
  left join pg_type et on t.typcategory = 'A' and et.oid = t.typelem
 where n.nspname = $1 and c.relkind in ('r', 'p')
 order by c.relname, a.attnum`;

const CONSTRAINTS = `
select con.contype as kind, c.relname as "table",
       array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = c.oid and a.attnum = k.n order by k.i) as columns,
       fc.relname as foreign_table, fn.nspname as foreign_schema,
       case when con.contype = 'f' then array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = fc.oid and a.attnum = k.n order by k.i) end as foreign_columns
  from pg_constraint con
  join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_class fc on fc.oid = con.confrelid
  left join pg_namespace fn on fn.oid = fc.relnamespace
 where n.nspname = $1 and con.contype in ('p', 'f')
 order by c.relname, con.conname`;

/** PostgreSQL types as GraphQL scalars; why a type is not here is in {@link UNMAPPED_TYPES} or it is text-like. */
const SCALARS: Readonly<Record<string, string>> = {
  int2: 'Int', int4: 'Int', int8: 'Float', float4: 'Float', float8: 'Float', bool: 'Boolean',
  // pg returns numeric as a string so that no digit is lost; a Float would round it.
  numeric: 'String',
  // pg returns timestamps as Date objects, which the custom scalar passes on and JSON writes as ISO 8601.
  timestamptz: 'DateTime', timestamp: 'DateTime',
  date: 'DateTime',
  text: 'String', varchar: 'String', bpchar: 'String', char: 'String', uuid: 'ID', citext: 'String', name: 'String', time: 'String', timetz: 'String', interval: 'String', inet: 'String',
};
const UNMAPPED_TYPES: Readonly<Record<string, string>> = {
  bytea: 'a binary value has no field to share (serve it from its own system)',
  json: 'JSON has no fixed shape, so neither its fields nor their sharing can be declared',
  jsonb: 'JSON has no fixed shape, so neither its fields nor their sharing can be declared',
};

/** Removes the password from a connection string for the manifest: the secret belongs in the setting, not in the file. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://127.0.0.1:5432/postgres';
  }
}

/**
 * Reads a bureau's PostgreSQL schema from its catalogue (tables, columns,
 * types, primary and foreign keys, comments): one type per table, `@key` and a
 * `@merge` batched read (`where key in (…)`) from a one-column primary key,
 * and for each foreign key a list field on the referenced table's type
 * (`Customer.orders`). Comments become descriptions.
 *
 * Refused (nothing written): a table without a primary key, and a table or
 * column name the SQL connector cannot put in a query (it reads plain
 * lower-case identifiers only — Chinese names included): the message names
 * `schema.table.column` and suggests a view. Listed as unmapped: composite
 * primary keys' entry points (the connector batches by one column), binary
 * and JSON columns, many-to-one directions of foreign keys.
 */
export async function importPostgres(options: ImportPostgresOptions): Promise<ImportedBureau> {
  const schemaName = options.schema ?? 'public';
  const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: options.timeoutMs, query_timeout: options.timeoutMs, statement_timeout: options.timeoutMs });
  client.on('error', () => {});
  let columns: ColumnRow[];
  let constraints: ConstraintRow[];
  try {
    await client.connect();
  } catch (error) {
    throw new BureauImportError('IMPORT_UNREACHABLE', describeUrl(withoutPassword(options.url)), 'the database cannot be reached', { cause: error });
  }
  try {
    columns = (await client.query<ColumnRow>(COLUMNS, [schemaName])).rows;
    constraints = (await client.query<ConstraintRow>(CONSTRAINTS, [schemaName])).rows;
  } catch (error) {
    throw new BureauImportError('IMPORT_UNREACHABLE', describeUrl(withoutPassword(options.url)), 'the catalogue could not be read', { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
  return fromCatalogue(schemaName, options.tables, columns, constraints, withoutPassword(options.url));
}

function fromCatalogue(schemaName: string, only: readonly string[] | undefined, columns: readonly ColumnRow[], constraints: readonly ConstraintRow[], url: string): ImportedBureau {
  const unmapped: Unmapped[] = [];
  const notes: string[] = [];
  const tables = [...new Set(columns.map((column) => column.table))];
  for (const wanted of only ?? []) {
    if (!tables.includes(wanted)) throw new BureauImportError('IMPORT_NOTHING_TO_IMPORT', `${schemaName}.${wanted}`, 'no such table in the schema');
  }
  const selected = tables.filter((table) => !only || only.includes(table));
  if (selected.length === 0) throw new BureauImportError('IMPORT_NOTHING_TO_IMPORT', schemaName, 'has no tables');
  const qualified = (table: string) => (schemaName === 'public' ? table : `${schemaName}.${table}`);
  const primaryKeys = new Map(constraints.filter((row) => row.kind === 'p').map((row) => [row.table, row.columns]));

  const names = new Map<string, string>();
  for (const table of selected) {
    const at = `${schemaName}.${table}`;
    const name = typeName(singular(table));
    if (!name || !SQL_IDENTIFIER.test(table) || !SQL_IDENTIFIER.test(schemaName)) {
      throw new BureauImportError('IMPORT_BAD_NAME', at, 'is not a plain lower-case identifier, which is all the SQL connector puts in a query: create a view with such a name (create view … as select …) and import that');
    }
    if (!primaryKeys.has(table)) {
      throw new BureauImportError('IMPORT_NO_PRIMARY_KEY', at, 'has no primary key, so its rows cannot be read by key: add one, or leave the table out with --tables');
    }
    names.set(table, name);
  }

  const types = new Map<string, { name: string; description?: string; key?: string; fields: ImportedField[] }>();
  const rootFields: ImportedRootField[] = [];
  let needsDateTime = false;
  for (const table of selected) {
    const name = names.get(table)!;
    const pk = primaryKeys.get(table)!;
    const key = pk.length === 1 ? fieldName(pk[0]!) : undefined;
    const tableColumns = columns.filter((column) => column.table === table);
    const fields: ImportedField[] = [];
    for (const column of tableColumns) {
      const at = `${schemaName}.${table}.${column.column}`;
      const field = fieldName(column.column);
      if (!field || !SQL_IDENTIFIER.test(column.column)) {
        throw new BureauImportError('IMPORT_BAD_NAME', at, 'is not a plain lower-case identifier: the SQL connector cannot read it, and GraphQL cannot name it; create a view that selects it under such a name (… as xm) and import the view');
      }
      const reason = UNMAPPED_TYPES[column.element];
      if (reason) {
        unmapped.push({ at, reason: `${column.element}: ${reason}` });
        continue;
      }
      const scalar = field === key ? 'ID' : (SCALARS[column.element] ?? 'String');
      if (scalar === 'DateTime') needsDateTime = true;
      const type = column.is_array ? `[${scalar}]` : field === key ? 'ID!' : scalar;
      const description = [column.column_comment, column.element === 'numeric' ? 'numeric: an exact decimal, as a string' : undefined].filter(Boolean).join('\n');
      fields.push({
        name: field,
        type,
        ...(description ? { description } : {}),
        ...(snakeCase(field) === column.column ? {} : { directives: [`@column(name: ${JSON.stringify(column.column)})`] }),
        share: suggestShare({ names: [field, column.column], typeName: name, ...(description ? { description } : {}) }).share,
      });
    }
    const comment = tableColumns[0]?.table_comment ?? undefined;
    types.set(table, { name, ...(comment ? { description: comment } : {}), ...(key ? { key } : {}), fields });
    if (key) {
      rootFields.push({
        name: plural(name.charAt(0).toLowerCase() + name.slice(1)),
        args: `${plural(key)}: [ID!]!`,
        type: `[${name}]!`,
        description: `${name} rows by ${pk[0]}, in the order asked; null where there is none (one query per batch: where ${pk[0]} in (…)).`,
        directives: ['@merge', `@sql(table: ${JSON.stringify(qualified(table))}, key: ${JSON.stringify(pk[0])})`, listSizeOfBatch(plural(key))],
      });
    }
  }

  const reachable = new Set<string>();
  for (const fk of constraints.filter((row) => row.kind === 'f' && selected.includes(row.table))) {
    const at = `${schemaName}.${fk.table}(${fk.columns.join(', ')}) → ${fk.foreign_schema}.${fk.foreign_table}`;
    const parent = fk.foreign_schema === schemaName && fk.foreign_table ? types.get(fk.foreign_table) : undefined;
    if (!parent) {
      unmapped.push({ at, reason: 'references a table outside the import: import it too (--tables) to relate them' });
      continue;
    }
    const parentPk = primaryKeys.get(fk.foreign_table!)!;
    if (fk.columns.length !== 1 || !parent.key || fk.foreign_columns?.[0] !== parentPk[0]) {
      unmapped.push({ at, reason: 'a composite foreign key, or one that does not reference a one-column primary key: the SQL connector selects related rows by the parent\'s one key column' });
      continue;
    }
    const child = types.get(fk.table)!;
    let relation = plural(child.name.charAt(0).toLowerCase() + child.name.slice(1));
    if (parent.fields.some((field) => field.name === relation)) relation = `${relation}By${typeName(fk.columns[0]!)}`;
    parent.fields.push({
      name: relation,
      type: `[${child.name}!]`,
      description: `The ${fk.table} rows whose ${fk.columns[0]} is this ${fk.foreign_table} row's ${parentPk[0]} (foreign key).`,
      directives: [`@sql(table: ${JSON.stringify(qualified(fk.table))}, key: ${JSON.stringify(fk.columns[0])}, list: true)`],
      share: { category: 'CONDITIONAL', sensitivity: 'LOW' },
    });
    reachable.add(fk.table);
    notes.push(`${child.name}.${fieldName(fk.columns[0]!)} refers to ${parent.name}: given as the column (the SQL connector selects by a type's own key), and as ${parent.name}.${relation} the other way`);
  }

  for (const table of selected) {
    const type = types.get(table)!;
    const pk = primaryKeys.get(table)!;
    if (pk.length > 1) {
      unmapped.push({
        at: `${schemaName}.${table}`,
        reason: `composite primary key (${pk.join(', ')}): the SQL connector batches reads by one key column, so ${type.name} has no @key or entry point of its own${reachable.has(table) ? '; it is read through the foreign key above' : ' and nothing reaches it'}`,
      });
    }
  }
  const out: ImportedType[] = [...types.values()].filter((type) => type.key || reachable.has([...types].find(([, t]) => t === type)![0]));
  return {
    kind: 'sql',
    url,
    source: `the PostgreSQL schema "${schemaName}" at ${describeUrl(url)}`,
    rootFields,
    types: out,
    ...(needsDateTime ? { extraDefinitions: ['"A point in time, written as ISO 8601 (timestamptz, timestamp, date)."\nscalar DateTime'] } : {}),
    unmapped,
    notes,
  };
}
