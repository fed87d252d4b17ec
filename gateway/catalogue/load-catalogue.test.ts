import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogue } from './load-catalogue.ts';
import { CatalogueError, type CatalogueProblem } from './catalogue-error.ts';

const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));
const copies: string[] = [];

/** A copy of the demo schemas with one file edited. */
function schemasWith(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-schemas-'));
  copies.push(dir);
  cpSync(SCHEMAS, dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
  return dir;
}

function problemsOf(dir: string, env: Record<string, string> = {}): readonly CatalogueProblem[] {
  try {
    loadCatalogue({ dir, env });
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogueError);
    return (error as CatalogueError).problems;
  }
  throw new Error('the catalogue loaded');
}

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadCatalogue', () => {
  it('reads the demo city: bureaus, owners of every field, entities and their resolvers', () => {
    const { catalogue, schemas } = loadCatalogue({ dir: SCHEMAS, env: { MARKET_SUPERVISION_URL: 'http://127.0.0.1:9/x' } });
    expect([...catalogue.bureaus.keys()].sort()).toEqual(['human-resources-social-security', 'market-supervision', 'public-security']);
    expect(catalogue.bureaus.get('market-supervision')!.connector).toMatchObject({ kind: 'rest', url: 'http://127.0.0.1:9/x', timeoutMs: 3000 });
    expect(catalogue.bureaus.get('public-security')!.connector.url).toBe('http://127.0.0.1:4101/graphql');
    expect(catalogue.fields.get('Person.name')).toMatchObject({ bureau: 'public-security', category: 'CONDITIONAL', mask: 'NAME', isKey: false });
    expect(catalogue.fields.get('Person.householdId')).toMatchObject({ category: 'NONE' });
    expect(catalogue.fields.get('Person.enterprises')).toMatchObject({ bureau: 'market-supervision' });
    expect(catalogue.fields.get('Enterprise.insuredEmployeeCount')).toMatchObject({ bureau: 'human-resources-social-security' });
    // A merge key is owned by the bureau that holds the records, not by those that extend them.
    expect(catalogue.fields.get('Person.idNumber')).toMatchObject({ bureau: 'public-security', isKey: true });
    expect(catalogue.fields.get('Enterprise.creditCode')).toMatchObject({ bureau: 'market-supervision', isKey: true });
    expect(catalogue.entities.get('Person')!.resolvers.map((resolver) => resolver.bureau).sort()).toEqual([
      'human-resources-social-security',
      'market-supervision',
      'public-security',
    ]);
    // Merge-only entry points are not served to clients.
    expect(catalogue.rootFields.has('_persons')).toBe(false);
    expect(catalogue.rootFields.get('person')).toBe('public-security');
    expect(schemas.get('public-security')!.getType('Person')).toBeDefined();
  });

  it('names the file and field of a field without a sharing category', () => {
    const dir = schemasWith('public-security/schema.graphql', (sdl) =>
      sdl.replace('gender: String @share(category: CONDITIONAL, sensitivity: LOW)', 'gender: String'),
    );
    expect(problemsOf(dir)).toEqual([
      { file: 'public-security/schema.graphql', at: 'Person.gender', message: expect.stringContaining('has no @share') },
    ]);
  });

  it('names the file and field of an unknown directive argument', () => {
    const dir = schemasWith('market-supervision/schema.graphql', (sdl) =>
      sdl.replace('status: String @share(category: OPEN, sensitivity: LOW)', 'status: String @share(category: OPEN, sensitivity: LOW, audience: "all")'),
    );
    expect(problemsOf(dir)).toEqual([
      { file: 'market-supervision/schema.graphql', at: 'Enterprise.status', message: 'Unknown argument "audience" on directive "@share".' },
    ]);
  });

  it('names an unknown category value', () => {
    const dir = schemasWith('public-security/schema.graphql', (sdl) => sdl.replace('gender: String @share(category: CONDITIONAL', 'gender: String @share(category: SECRET'));
    expect(problemsOf(dir)).toEqual([
      { file: 'public-security/schema.graphql', at: 'Person.gender', message: expect.stringContaining('SECRET') },
    ]);
  });

  it('rejects a merge key that no bureau resolves', () => {
    const dir = schemasWith('market-supervision/schema.graphql', (sdl) =>
      sdl.replace(/enterprises\(creditCodes: \[ID!\]!\): \[Enterprise\]!\s+@merge\s+@http/, 'enterprises(creditCodes: [ID!]!): [Enterprise]! @http'),
    );
    const problems = problemsOf(dir);
    expect(problems).toContainEqual({ file: 'market-supervision/schema.graphql', at: 'Enterprise', message: expect.stringContaining('no @merge root field') });
    expect(problems).toContainEqual({
      file: 'human-resources-social-security/schema.graphql',
      at: 'Enterprise',
      message: expect.stringContaining('merge key Enterprise.creditCode is resolved by no bureau'),
    });
  });

  it('rejects a @key that names no field', () => {
    const dir = schemasWith('public-security/schema.graphql', (sdl) => sdl.replace('type Person @key(field: "idNumber")', 'type Person @key(field: "idNo")'));
    expect(problemsOf(dir)).toContainEqual({ file: 'public-security/schema.graphql', at: 'Person', message: expect.stringContaining('"idNo"') });
  });

  it('rejects a field two bureaus both provide', () => {
    const dir = schemasWith('market-supervision/schema.graphql', (sdl) =>
      sdl.replace('type Person @key(field: "idNumber") {', 'type Person @key(field: "idNumber") {\n  name: String @share(category: OPEN, sensitivity: LOW)'),
    );
    expect(problemsOf(dir)).toContainEqual({ file: 'public-security/schema.graphql', at: 'Person.name', message: expect.stringContaining('also provided by market-supervision') });
  });

  it('rejects a gated field that is non-null', () => {
    const dir = schemasWith('public-security/schema.graphql', (sdl) => sdl.replace('  name: String @share', '  name: String! @share'));
    expect(problemsOf(dir)).toContainEqual({ file: 'public-security/schema.graphql', at: 'Person.name', message: expect.stringContaining('must be nullable') });
  });

  it('rejects manifest faults, naming the setting', () => {
    const dir = schemasWith('market-supervision/manifest.json', (json) =>
      json.replace('"kind": "rest"', '"kind": "soap"').replace('"timeoutMs": 3000', '"timeoutMs": -1').replace('${MARKET_SUPERVISION_URL:-http://127.0.0.1:4102}', '${MARKET_URL}'),
    );
    expect(problemsOf(dir)).toEqual([
      { file: 'market-supervision/manifest.json', at: 'connector.kind', message: 'must be one of graphql, rest, sql' },
      { file: 'market-supervision/manifest.json', at: 'connector.url', message: 'needs the setting MARKET_URL' },
      { file: 'market-supervision/manifest.json', at: 'connector.timeoutMs', message: 'must be a positive whole number' },
    ]);
  });

  it('reports SDL that does not parse with its file', () => {
    const dir = schemasWith('public-security/schema.graphql', (sdl) => sdl.replace('type Person', 'type Person {'));
    expect(problemsOf(dir)[0]).toMatchObject({ file: 'public-security/schema.graphql', message: expect.stringContaining('Syntax Error') });
  });
});
