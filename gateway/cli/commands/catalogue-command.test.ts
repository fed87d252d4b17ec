import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleResident } from '../../../examples/demo-city.ts';
import { startTestCity, type TestCity } from '../../../test/support/test-city.ts';
import { runCli } from '../run-cli.ts';

const SCHEMAS = fileURLToPath(new URL('../../../schemas/', import.meta.url));

/** Runs `isthmus …` in this process. */
async function isthmus(argv: readonly string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env });
  return { code, stdout, stderr };
}

describe('isthmus catalogue check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-check-'));
    cpSync(SCHEMAS, dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the shipped schemas, read from ISTHMUS_SCHEMAS_DIR', async () => {
    const run = await isthmus(['catalogue', 'check'], { ISTHMUS_SCHEMAS_DIR: dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/valid: 3 bureaus, \d+ fields/);
  });

  it('names every problem as file:field, one a line, and exits 1', async () => {
    const sdl = join(dir, 'market-supervision', 'schema.graphql');
    writeFileSync(sdl, readFileSync(sdl, 'utf8').replace('name: String @share(category: OPEN, sensitivity: LOW)', 'name: String'));
    const manifest = join(dir, 'public-security', 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"timeoutMs": \d+/, '"timeoutMs": 0'));
    const run = await isthmus(['catalogue', 'check', '--dir', dir]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^market-supervision\/schema\.graphql:Enterprise\.name: has no @share/),
        expect.stringMatching(/^public-security\/manifest\.json:connector\.timeoutMs: must be a positive whole number/),
      ]),
    );
    expect(lines).toHaveLength(2);
    expect(run.stderr).toContain('2 problems (CATALOGUE_INVALID)');
  });

  it('refuses an unknown flag as bad usage', async () => {
    expect(await isthmus(['catalogue', 'check', '--directory', dir])).toMatchObject({ code: 2, stderr: expect.stringContaining("'--directory'") });
  });
});

describe('isthmus catalogue show and explain, against a running gateway', () => {
  let city: TestCity;
  let env: Record<string, string>;
  let folder: string;
  beforeAll(async () => {
    city = await startTestCity();
    const token = await city.token({ bureau: 'transport', app: 'cab-dispatch', user: 'qin.yu@transport', roles: ['developer'], ttl: '1h' });
    env = { ISTHMUS_URL: city.gateway.url, ISTHMUS_TOKEN: token };
    folder = mkdtempSync(join(tmpdir(), 'isthmus-explain-'));
  });
  afterAll(async () => {
    await city?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('show lists a bureau’s fields with category, sensitivity, mask and the agreements that share them', async () => {
    const operator = await city.token({ bureau: 'big-data-bureau', app: 'ops', user: 'ops.lin@big-data-bureau', roles: ['operator'], ttl: '1h' });
    const run = await isthmus(['catalogue', 'show', 'public-security', '--json'], { ...env, ISTHMUS_TOKEN: operator });
    expect(run.code).toBe(0);
    const { fields, bureaus } = JSON.parse(run.stdout);
    expect(bureaus.map((bureau: { id: string }) => bureau.id)).toEqual(['public-security']);
    const name = fields.find((field: { coordinate: string }) => field.coordinate === 'Person.name');
    expect(name).toMatchObject({ bureau: 'public-security', category: 'CONDITIONAL', mask: 'NAME' });
    expect(name.agreements.map((agreement: { id: string }) => agreement.id)).toContain('agr-demo-allowance-identity');
    expect(fields.every((field: { bureau: string }) => field.bureau === 'public-security')).toBe(true);

    const text = await isthmus(['catalogue', 'show', 'public-security'], { ...env, ISTHMUS_TOKEN: operator });
    expect(text.stdout).toMatch(/^Person\.name\s+public-security\s+CONDITIONAL\s+\S+\s+NAME\s+agr-demo-allowance-identity \(civil-affairs\/allowance-review/m);
  });

  it('show refuses a bureau the catalogue does not have', async () => {
    const run = await isthmus(['catalogue', 'show', 'no-such-bureau'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('BAD_USER_INPUT');
  });

  it('explain reads the query from a file, files drafts once, and names them on the next run', async () => {
    const file = join(folder, 'query.graphql');
    writeFileSync(file, `query($id: ID!) { person(idNumber: $id) { name } }`);
    const args = ['catalogue', 'explain', file, '--variables', JSON.stringify({ id: sampleResident().idNumber }), '--purpose', 'cab-driver-vetting'];
    const plain = await isthmus(args, env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('outcome: DENIED');
    expect(plain.stdout).toContain('missing: an agreement with public-security for Person.name');

    const drafted = await isthmus([...args, '--draft', '《网络预约出租汽车经营服务管理暂行办法》第十四条'], env);
    const id = /filed (agr-[0-9a-f]+) \(DRAFT\)/.exec(drafted.stdout)?.[1];
    expect(id).toBeDefined();
    const again = await isthmus([...args, '--draft', '《网络预约出租汽车经营服务管理暂行办法》第十四条'], env);
    expect(again.stdout).toContain(`already requested, DRAFT: ${id}`);
    expect(again.stdout).not.toMatch(/^filed /m);
  });

  it('explain refuses bad usage before asking the gateway', async () => {
    expect((await isthmus(['catalogue', 'explain'], env)).code).toBe(2);
    expect((await isthmus(['catalogue', 'explain', join(folder, 'nope.graphql')], env)).stderr).toContain('ENOENT');
    expect((await isthmus(['catalogue', 'explain', '-', '--variables', '[1]'], env)).code).toBe(2);
  });
});
