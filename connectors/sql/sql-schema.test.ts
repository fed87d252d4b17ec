import { describe, expect, it } from 'vitest';
import { buildBureauSchema } from '../../gateway/catalogue/bureau-schema.ts';
import { ConnectorConfigError } from '../connector-error.ts';
import { buildSqlSchema, type RowQuery } from './sql-schema.ts';
import { snakeCase } from './sql-identifier.ts';

const BUREAU = 'test-bureau';

/** An SDL with one entity field mapped by `mapping`, and its row type. */
function sdl(mapping: string, fieldType = 'Account'): string {
  return `
    type Query { _persons(idNumbers: [ID!]!): [Person]! @merge }
    type Person @key(field: "idNumber") {
      idNumber: ID! @share(category: OPEN, sensitivity: HIGH)
      account: ${fieldType} @share(category: OPEN, sensitivity: LOW) ${mapping}
    }
    type Account {
      status: String @share(category: OPEN, sensitivity: LOW)
      monthlyBase: Float @share(category: OPEN, sensitivity: LOW) @column(name: "monthly_base_yuan")
    }`;
}

function build(source: string, queries: RowQuery[] = []) {
  return buildSqlSchema({
    bureau: BUREAU,
    schema: buildBureauSchema(source),
    maxBatch: 100,
    loadRows: async (query) => {
      queries.push(query);
      return [];
    },
  });
}

function configError(source: string): ConnectorConfigError {
  try {
    build(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorConfigError);
    return error as ConnectorConfigError;
  }
  throw new Error('expected a ConnectorConfigError');
}

describe('buildSqlSchema', () => {
  it('selects the key and the columns of the row type, named in snake_case or by @column', async () => {
    const queries: RowQuery[] = [];
    const schema = build(sdl('@sql(table: "hrss.accounts", key: "id_number")'), queries);
    const { execute, parse } = await import('graphql');
    const result = await execute({ schema, document: parse('{ _persons(idNumbers: ["1", "2"]) { idNumber account { status } } }'), contextValue: {} });
    expect(result).toEqual({ data: { _persons: [{ idNumber: '1', account: null }, { idNumber: '2', account: null }] } });
    expect(queries).toEqual([{ table: 'hrss.accounts', key: 'id_number', columns: ['id_number', 'status', 'monthly_base_yuan'] }]);
  });

  it.each([
    ['a table that is not an identifier', '@sql(table: "accounts; drop table accounts", key: "id_number")', /Person\.account: @sql table/],
    ['a quoted table', '@sql(table: "\\"Accounts\\"", key: "id_number")', /Person\.account: @sql table/],
    ['a key that is not an identifier', '@sql(table: "accounts", key: "id_number or 1=1")', /Person\.account: @sql key/],
    ['a column that is not an identifier', '@sql(table: "accounts", key: "id_number", column: "Status")', /Person\.account: @sql column/],
  ])('refuses %s, naming the field', (_, mapping, message) => {
    const error = configError(sdl(mapping, mapping.includes('column:') ? 'String' : 'Account'));
    expect(error.message).toMatch(message);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', bureau: BUREAU });
  });

  it('refuses an @column that is not an identifier, naming the row field', () => {
    const source = sdl('@sql(table: "accounts", key: "id_number")').replace('"monthly_base_yuan"', '"monthly base"');
    expect(configError(source).message).toMatch(/Account\.monthlyBase: the column "monthly base"/);
  });

  it('refuses a list field without list: true, and list: true on a single value', () => {
    expect(configError(sdl('@sql(table: "accounts", key: "id_number")', '[Account]')).message).toMatch(/needs @sql\(list: true\)/);
    expect(configError(sdl('@sql(table: "accounts", key: "id_number", list: true)')).message).toMatch(/needs a list field/);
  });

  it('refuses a root field without a mapping, and @sql on a type without @key', () => {
    expect(configError(`type Query { account(id: ID!): String @share(category: OPEN, sensitivity: LOW) }`).message).toMatch(
      /Query\.account: a root field needs @sql/,
    );
    const keyless = sdl('').replace('type Account {', 'type Account {\n owner: String @share(category: OPEN, sensitivity: LOW) @sql(table: "t", key: "k", column: "c")');
    expect(configError(keyless).message).toMatch(/Account\.owner: @sql on a field needs Account to have @key/);
  });

  it('refuses a @merge field that does not take a list of keys', () => {
    const source = `
      type Query { _person(idNumber: ID!): Person @merge }
      type Person @key(field: "idNumber") { idNumber: ID! @share(category: OPEN, sensitivity: HIGH) }`;
    expect(configError(source).message).toMatch(/Query\._person: a @merge field takes exactly one argument, the list of keys/);
  });
});

describe('snakeCase', () => {
  it.each([
    ['insuredStatus', 'insured_status'],
    ['contributionMonths', 'contribution_months'],
    ['line2Address', 'line2_address'],
    ['idNumber', 'id_number'],
    ['HTTPStatus', 'http_status'],
    ['name', 'name'],
  ])('%s → %s', (field, column) => {
    expect(snakeCase(field)).toBe(column);
  });
});
