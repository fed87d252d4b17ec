import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createSchema, createYoga } from 'graphql-yoga';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runCliCaptured } from './support/run-cli-captured.ts';
import { loadCatalogue } from '../gateway/catalogue/load-catalogue.ts';
import { startPublicSecurity } from '../examples/public-security/public-security-server.ts';
import { startMarketSupervision } from '../examples/market-supervision/market-supervision-server.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import type { BureauServer } from '../examples/bureau-server.ts';
import { queryThroughGateway } from './support/imported-bureau-gateway.ts';

const require = createRequire(import.meta.url);
const PETSTORE = require.resolve('@readme/oas-examples/3.0/json/petstore.json');
const MARKET_OPENAPI = fileURLToPath(new URL('../examples/market-supervision/openapi.yaml', import.meta.url));

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-import-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const cli = (argv: readonly string[]) => runCliCaptured(argv);

/** Every field of the loaded catalogue, by coordinate. */
function catalogueOf(dir: string, env: Record<string, string> = {}) {
  return loadCatalogue({ dir, env }).catalogue;
}

function everyFieldConditional(dir: string): void {
  const fields = [...catalogueOf(dir).fields.values()];
  expect(fields.length).toBeGreaterThan(0);
  expect(fields.filter((field) => field.category !== 'CONDITIONAL')).toEqual([]);
}

describe('bureau import graphql', () => {
  let bureau: BureauServer;
  beforeAll(async () => (bureau = await startPublicSecurity()));
  afterAll(() => bureau?.stop());

  it('introspects the demo public-security service into a catalogue that loads, all CONDITIONAL, with the batch read as @merge', async () => {
    const dir = scratch();
    const result = await cli(['bureau', 'import', 'graphql', '--bureau', 'household-register', '--url', bureau.url, '--out', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const sdl = readFileSync(join(dir, 'household-register', 'schema.graphql'), 'utf8');
    expect(sdl).toContain('type Person @key(field: "idNumber")');
    expect(sdl).toMatch(/persons\(idNumbers: \[ID!\]!\): \[Person\]! @merge/);
    everyFieldConditional(dir);
    const catalogue = catalogueOf(dir);
    expect(catalogue.fields.get('Person.idNumber')).toMatchObject({ sensitivity: 'HIGH', mask: 'ID_NUMBER' });
    expect(catalogue.fields.get('Person.birthDate')).toMatchObject({ mask: 'DATE_TO_YEAR' });
    expect(catalogue.fields.get('Person.address')).toMatchObject({ mask: 'ADDRESS' });

    const resident = demoCity().persons[0]!;
    const { before, after } = await queryThroughGateway(dir, { HOUSEHOLD_REGISTER_URL: bureau.url }, 'household-register', ['Person.idNumber', 'Person.gender'], `{ person(idNumber: "${resident.idNumber}") { idNumber gender } }`);
    expect(before.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(after.errors).toBeUndefined();
    expect(after.data.person).toEqual({ idNumber: resident.idNumber, gender: resident.gender });
  });

  it('re-imports: shows the difference and keeps the officer\'s @share', async () => {
    const dir = scratch();
    expect((await cli(['bureau', 'import', 'graphql', '--bureau', 'household-register', '--url', bureau.url, '--out', dir])).code).toBe(0);
    const file = join(dir, 'household-register', 'schema.graphql');
    // The officer classifies gender as OPEN, and the bureau's system lost a field since (we drop it from the file to simulate the change the other way round).
    const edited = readFileSync(file, 'utf8')
      .replace(/(gender: String) @share\([^)]*\)/, '$1 @share(category: OPEN, sensitivity: LOW)')
      .replace(/\n[^\n]*householdId[^\n]*\n/, '\n  retired: String @share(category: NONE, sensitivity: LOW)\n');
    writeFileSync(file, edited);
    const again = await cli(['bureau', 'import', 'graphql', '--bureau', 'household-register', '--url', bureau.url, '--out', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/added: .*Person\.householdId/);
    expect(again.stdout).toMatch(/removed: .*Person\.retired/);
    expect(catalogueOf(dir).fields.get('Person.gender')?.category).toBe('OPEN');
    expect(readdirSync(dir)).toEqual(['household-register']);
  });

  it('a failed re-import leaves the previous bureau folder exactly as it was', async () => {
    const dir = scratch();
    expect((await cli(['bureau', 'import', 'graphql', '--bureau', 'household-register', '--url', bureau.url, '--out', dir])).code).toBe(0);
    const before = readFileSync(join(dir, 'household-register', 'schema.graphql'), 'utf8');
    const failed = await cli(['bureau', 'import', 'graphql', '--bureau', 'household-register', '--url', 'http://127.0.0.1:1/graphql', '--out', dir, '--timeout-ms', '5000']);
    expect(failed.code).toBe(1);
    expect(readFileSync(join(dir, 'household-register', 'schema.graphql'), 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['household-register']);
  });

  it('reports unions, interfaces and mutations of a service with the reason, and imports the rest', async () => {
    const service = createServer(
      createYoga({
        schema: createSchema({
          typeDefs: `
            interface Node { id: ID! }
            type Case implements Node { id: ID! title: String }
            type Fine { id: ID! amount: Float }
            union Record = Case | Fine
            type Query { cases(ids: [ID!]!): [Case]! record(id: ID!): Record node(id: ID!): Node }
            type Mutation { closeCase(id: ID!): Case }
          `,
          resolvers: {},
        }),
      }),
    );
    service.listen(0, '127.0.0.1');
    await once(service, 'listening');
    try {
      const dir = scratch();
      const result = await cli(['bureau', 'import', 'graphql', '--bureau', 'cases', '--url', `http://127.0.0.1:${(service.address() as { port: number }).port}/graphql`, '--out', dir]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('- Mutation.closeCase: not a read');
      expect(result.stdout).toContain('- Query.record: returns the union Record');
      expect(result.stdout).toContain('- Query.node: returns the interface Node');
      expect(loadCatalogue({ dir, env: {} }).catalogue.fields.get('Case.title')?.category).toBe('CONDITIONAL');
    } finally {
      service.close();
    }
  });

  it('an unreachable URL is refused with the place named and nothing written', async () => {
    const dir = scratch();
    const result = await cli(['bureau', 'import', 'graphql', '--bureau', 'nowhere', '--url', 'http://127.0.0.1:1/graphql', '--out', dir, '--timeout-ms', '5000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('http://127.0.0.1:1/graphql: cannot be reached (IMPORT_UNREACHABLE)');
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** A small real implementation of the petstore's GET operations, as the test's REST service. */
async function startPetstore(): Promise<{ url: string; server: Server }> {
  const pets = [
    { id: 1, name: 'doggie', photoUrls: ['https://example.com/1.png'], status: 'available', category: { id: 1, name: 'Dogs' }, tags: [{ id: 1, name: 'friendly' }] },
    { id: 2, name: 'tiddles', photoUrls: [], status: 'sold', category: { id: 2, name: 'Cats' }, tags: [] },
  ];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const byId = /^\/pet\/(\d+)$/.exec(url.pathname);
    if (request.method === 'GET' && byId) {
      const pet = pets.find((candidate) => candidate.id === Number(byId[1]));
      return pet ? send(200, pet) : send(404, { code: 404, message: 'Pet not found' });
    }
    if (request.method === 'GET' && url.pathname === '/pet/findByStatus') {
      const statuses = url.searchParams.getAll('status').flatMap((value) => value.split(','));
      return send(200, pets.filter((pet) => statuses.includes(pet.status)));
    }
    return send(404, { code: 404, message: 'not found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

describe('bureau import openapi', () => {
  let petstore: { url: string; server: Server };
  let market: BureauServer;
  beforeAll(async () => {
    petstore = await startPetstore();
    market = await startMarketSupervision();
  });
  afterAll(async () => {
    petstore?.server.close();
    await market?.stop();
  });

  it('imports the petstore (3.0, from @readme/oas-examples): GETs as @http fields, the rest reported; a query through the gateway reaches the served API', async () => {
    const dir = scratch();
    const result = await cli(['bureau', 'import', 'openapi', '--bureau', 'petstore', '--file', PETSTORE, '--url', 'http://127.0.0.1:4999', '--out', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const sdl = readFileSync(join(dir, 'petstore', 'schema.graphql'), 'utf8');
    expect(sdl).toContain('getPetById(petId: Float!): Pet @http(get: "/pet/{petId}")');
    expect(sdl).toContain('findPetsByStatus(status: [String]!): [Pet] @http(get: "/pet/findByStatus")');
    // Non-read operations, a free-form map and the binary upload are reported, not dropped.
    expect(result.stdout).toContain('- POST /pet: not a read');
    expect(result.stdout).toContain('- DELETE /pet/{petId}: not a read');
    expect(result.stdout).toMatch(/GET \/store\/inventory: its response is a free-form map/);
    expect(result.stdout).toMatch(/no batch endpoint for Pet/);
    everyFieldConditional(dir);
    const { before, after } = await queryThroughGateway(dir, { PETSTORE_URL: petstore.url }, 'petstore', ['Pet.name', 'Pet.status', 'Pet.category', 'Category.name'], '{ getPetById(petId: 1) { name status category { name } } }');
    expect(before.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(after.errors, JSON.stringify(after.errors)).toBeUndefined();
    expect(after.data.getPetById).toEqual({ name: 'doggie', status: 'available', category: { name: 'Dogs' } });
  });

  it('imports the market supervision API (3.1 YAML): the batch endpoint becomes @merge with batchParam; personal data suggested; reached through the manifest', async () => {
    const dir = scratch();
    const result = await cli(['bureau', 'import', 'openapi', '--bureau', 'enterprise-registry', '--file', MARKET_OPENAPI, '--out', dir]);
    expect(result.code).toBe(0);
    const sdl = readFileSync(join(dir, 'enterprise-registry', 'schema.graphql'), 'utf8');
    expect(sdl).toContain('type Enterprise @key(field: "creditCode")');
    expect(sdl).toContain('enterprises(creditCodes: [ID!]!): [Enterprise]! @merge @http(get: "/enterprises", batchParam: "creditCode", batchBy: "creditCode")');
    expect(result.stdout).toContain('query parameter legalRepresentativeId');
    expect(result.stdout).toContain('@merge: Enterprise.creditCode is the key the catalogue already merges Enterprise on');
    const manifest = JSON.parse(readFileSync(join(dir, 'enterprise-registry', 'manifest.json'), 'utf8'));
    expect(manifest.connector).toMatchObject({ kind: 'rest', url: '${ENTERPRISE_REGISTRY_URL:-http://127.0.0.1:4102}' });
    everyFieldConditional(dir);
    expect(catalogueOf(dir).fields.get('Enterprise.legalRepresentativeId')).toMatchObject({ sensitivity: 'HIGH', mask: 'ID_NUMBER' });
    const enterprise = demoCity().enterprises[0]!;
    const { after } = await queryThroughGateway(dir, { ENTERPRISE_REGISTRY_URL: market.url }, 'enterprise-registry', ['Enterprise.creditCode', 'Enterprise.name'], `{ enterprises(creditCodes: ["${enterprise.creditCode}"]) { creditCode name } }`);
    expect(after.errors).toBeUndefined();
    expect(after.data.enterprises).toEqual([{ creditCode: enterprise.creditCode, name: enterprise.name }]);
  });

  it('a document that does not parse, and a $ref that points nowhere, are refused with the place named and nothing written', async () => {
    const dir = scratch();
    const broken = join(scratch(), 'broken.yaml');
    writeFileSync(broken, 'openapi: 3.0.0\ninfo: [\n');
    const bad = await cli(['bureau', 'import', 'openapi', '--bureau', 'broken', '--file', broken, '--url', 'http://127.0.0.1:1', '--out', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${broken}: is not an OpenAPI document that parses`);
    expect(bad.stderr).toContain('(IMPORT_BAD_DOCUMENT)');
    const dangling = join(scratch(), 'dangling.json');
    writeFileSync(dangling, JSON.stringify({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths: { '/x': { get: { responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } } } } } } }));
    const ref = await cli(['bureau', 'import', 'openapi', '--bureau', 'dangling', '--file', dangling, '--url', 'http://127.0.0.1:1', '--out', dir]);
    expect(ref.code).toBe(1);
    expect(ref.stderr).toContain('#/components/schemas/Nope');
    expect(ref.stderr).toContain('(IMPORT_BAD_REF)');
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, 'dangling'))).toBe(false);
  });
});

describe('bureau import usage', () => {
  it('bad usage exits 2 naming the flag; help exits 0', async () => {
    expect(await cli(['bureau', 'import', 'postgres', '--bureau', 'x'])).toMatchObject({ code: 2, stderr: 'isthmus bureau: --url is required\n' });
    expect((await cli(['bureau', 'import', 'soap', '--bureau', 'x'])).code).toBe(2);
    expect((await cli(['bureau', 'import', 'graphql', '--bureau', 'Not An Id', '--url', 'http://127.0.0.1:1/graphql'])).stderr).toContain('--bureau <id>');
    expect((await cli(['bureau', 'import', 'openapi', '--bureau', 'x', '--colour'])).stderr).toContain("'--colour'");
    const help = await cli(['bureau', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('isthmus bureau import postgres');
  });
});
