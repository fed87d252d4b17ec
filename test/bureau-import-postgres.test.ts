import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { runCliCaptured } from './support/run-cli-captured.ts';
import { loadCatalogue } from '../gateway/catalogue/load-catalogue.ts';
import { waitFor } from './support/wait-for.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import type { StoreTarget } from './support/test-stores.ts';
import { queryThroughGateway } from './support/imported-bureau-gateway.ts';

// A bureau's own database as its IT team built it: composite keys, foreign
// keys, nullable columns, arrays, numeric, timestamptz, comments, pinyin names.
const BUREAU_SCHEMA = `
create schema registry;
create table registry.residents (
  sfzh text primary key,
  xm text not null,
  lxdh text,
  csrq date,
  hjdz text,
  tags text[],
  registered_at timestamptz not null
);
comment on table registry.residents is '常住人口登记 (residents)';
comment on column registry.residents.xm is '姓名';
create table registry.licences (
  licence_no text primary key,
  holder_sfzh text references registry.residents (sfzh),
  fee numeric(12, 2),
  issued_at timestamptz
);
comment on column registry.licences.fee is '许可费 (元)';
create table registry.licence_events (
  licence_no text not null references registry.licences (licence_no),
  seq int not null,
  note text,
  primary key (licence_no, seq)
);
create table registry.scans (id int primary key, image bytea);
insert into registry.residents values ('110101199003074514', '测试甲', '13800000001', '1990-03-07', '北京市东城区测试路1号', '{a,b}', '2026-01-02T03:04:05Z');
insert into registry.licences values ('L-1', '110101199003074514', 1234.50, '2026-02-03T04:05:06Z');
insert into registry.licence_events values ('L-1', 1, 'issued'), ('L-1', 2, 'renewed');
create table registry.no_key (a text);
create table registry.chinese ("编号" text primary key);
`;

interface BureauDb {
  readonly url: string;
  /** Resolves once the database takes a new connection: PGlite's socket serves one at a time, and a closed one is let go asynchronously. */
  free(): Promise<void>;
  close(): Promise<void>;
}

async function startBureauDb(target: StoreTarget): Promise<BureauDb> {
  if (target.serverUrl) {
    const name = `import_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: target.serverUrl, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const url = new URL(target.serverUrl);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
    await client.connect();
    await client.query(BUREAU_SCHEMA);
    await client.end();
    return {
      url: url.toString(),
      free: async () => {},
      async close() {
        const drop = new pg.Client({ connectionString: target.serverUrl, connectionTimeoutMillis: 10_000 });
        await drop.connect();
        await drop.query(`drop database if exists "${name}" with (force)`);
        await drop.end();
      },
    };
  }
  const db = await PGlite.create();
  await db.exec(BUREAU_SCHEMA);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${server.getServerConn().split(':').pop()}/postgres`,
    free: async () => void (await waitFor(() => server.getStats().activeConnections === 0 || undefined, { what: 'the PGlite socket to let go of the last connection' })),
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

const cli = (argv: readonly string[]) => runCliCaptured(argv);

describeEachStore('bureau import postgres on $name', (target) => {
  let bureau: BureauDb;
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-import-pg-'));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => (bureau = await startBureauDb(target)));
  // Each test connects afresh; on PGlite only once the previous test's connection is gone.
  beforeEach(() => bureau.free());
  afterAll(async () => {
    await bureau?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const tables = 'residents,licences,licence_events,scans';

  it('one type per table, @key and a batched @merge read from the primary key, relations from foreign keys, all CONDITIONAL; a query through the gateway returns the rows once approved', async () => {
    const dir = scratch();
    const result = await cli(['bureau', 'import', 'postgres', '--bureau', 'licensing', '--url', bureau.url, '--schema', 'registry', '--tables', tables, '--out', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const sdl = readFileSync(join(dir, 'licensing', 'schema.graphql'), 'utf8');
    expect(sdl).toContain('residents(sfzhs: [ID!]!): [Resident]! @merge @sql(table: "registry.residents", key: "sfzh")');
    expect(sdl).toContain('type Resident @key(field: "sfzh")');
    expect(sdl).toContain('licences: [Licence!] @share(category: CONDITIONAL, sensitivity: LOW) @sql(table: "registry.licences", key: "holder_sfzh", list: true)');
    expect(sdl).toContain('licenceEvents: [LicenceEvent!]');
    expect(sdl).toContain('tags: [String]');
    expect(sdl).toContain('scalar DateTime');
    // Reported, not dropped: the composite key's entry point, the binary column.
    expect(result.stdout).toMatch(/registry\.licence_events: composite primary key \(licence_no, seq\).*read through the foreign key/);
    expect(result.stdout).toContain('registry.scans.image: bytea');
    expect(result.stdout).toContain('@merge suggestion: Resident.sfzh looks like Person.idNumber');

    const catalogue = loadCatalogue({ dir, env: {} }).catalogue;
    const fields = [...catalogue.fields.values()];
    expect(fields.filter((field) => field.category !== 'CONDITIONAL')).toEqual([]);
    expect(catalogue.fields.get('Resident.sfzh')).toMatchObject({ sensitivity: 'HIGH', mask: 'ID_NUMBER' });
    expect(catalogue.fields.get('Resident.xm')).toMatchObject({ mask: 'NAME', description: '姓名' });
    expect(catalogue.fields.get('Resident.lxdh')).toMatchObject({ mask: 'PHONE' });
    expect(catalogue.fields.get('Resident.csrq')).toMatchObject({ mask: 'DATE_TO_YEAR' });
    expect(catalogue.fields.get('Resident.hjdz')).toMatchObject({ mask: 'ADDRESS' });

    // PGlite's socket serves one connection at a time: the gateway's pool must be one too.
    const manifestFile = join(dir, 'licensing', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, connector: { ...manifest.connector, maxConcurrency: 1 } }));
    await bureau.free();
    const { before, after } = await queryThroughGateway(
      dir,
      { LICENSING_DATABASE_URL: bureau.url },
      'licensing',
      ['Resident.sfzh', 'Resident.tags', 'Resident.registeredAt', 'Resident.licences', 'Licence.fee', 'Licence.issuedAt', 'Licence.licenceEvents', 'LicenceEvent.seq', 'LicenceEvent.note'],
      '{ residents(sfzhs: ["110101199003074514", "000000000000000000"]) { sfzh tags registeredAt licences { fee issuedAt licenceEvents { seq note } } } }',
    );
    expect(before.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(after.errors, JSON.stringify(after.errors)).toBeUndefined();
    expect(after.data.residents).toEqual([
      {
        sfzh: '110101199003074514',
        tags: ['a', 'b'],
        registeredAt: '2026-01-02T03:04:05.000Z',
        licences: [{ fee: '1234.50', issuedAt: '2026-02-03T04:05:06.000Z', licenceEvents: [{ seq: 1, note: 'issued' }, { seq: 2, note: 'renewed' }] }],
      },
      null,
    ]);
  });

  it('a table without a primary key and a Chinese column name are refused, naming the place, and nothing is written', async () => {
    const dir = scratch();
    const noKey = await cli(['bureau', 'import', 'postgres', '--bureau', 'licensing', '--url', bureau.url, '--schema', 'registry', '--tables', 'residents,no_key', '--out', dir]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('registry.no_key: has no primary key');
    expect(noKey.stderr).toContain('(IMPORT_NO_PRIMARY_KEY)');
    await bureau.free();
    const chinese = await cli(['bureau', 'import', 'postgres', '--bureau', 'licensing', '--url', bureau.url, '--schema', 'registry', '--tables', 'chinese', '--out', dir]);
    expect(chinese.code).toBe(1);
    expect(chinese.stderr).toContain('registry.chinese.编号: is not a plain lower-case identifier');
    expect(chinese.stderr).toContain('(IMPORT_BAD_NAME)');
    expect(readdirSync(dir)).toEqual([]);
  });
});
