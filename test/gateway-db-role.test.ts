import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleResident } from '../examples/demo-city.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { checkStoreRole, describeStoreRole, GATEWAY_ROLE } from '../gateway/store/check-store-role.ts';
import { openStore } from '../gateway/store/store.ts';
import { openLogNoteKey } from '../gateway/access-log/log-tree-note-key.ts';
import { startWitness, type RunningWitness } from '../packages/isthmus-witness/src/index.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';
import { createScratchDatabase, storeTargets, type StoreTarget } from './support/test-stores.ts';

/**
 * Issue 12, item 4: the database login the gateway runs as owns nothing. The
 * owner migrates (`ISTHMUS_MIGRATION_DATABASE_URL`); the gateway runs as a
 * login granted `isthmus_gateway`, which appends to the log and reads it and
 * can neither change, truncate, alter nor drop it.
 */

const serverUrl = process.env.DATABASE_URL || undefined;
const me = sampleResident();
const LOAN_CHECK = 'query LoanCheck($id: ID!) { person(idNumber: $id) { name socialInsurance { monthlyBase } } }';
const UNPROTECTED = /the access log is not protected from the gateway's own database login/;

/**
 * The warnings a city's gateway logged about its database login, once its
 * "gateway listening" line (logged after the check) is out: log lines are
 * written in order, in batches, a little late.
 */
const roleWarnings = async (city: TestCity) => {
  await waitFor(() => city.logs.some((line) => line.msg === 'gateway listening'), { what: 'the gateway logs that it listens' });
  return city.logs.filter((line) => line.level === 'warn' && UNPROTECTED.test(String(line.msg)));
};

describe('ISTHMUS_PRODUCTION and ISTHMUS_MIGRATION_DATABASE_URL', () => {
  it('default to off and to DATABASE_URL migrating', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://gateway@db/isthmus' });
    expect(config.production).toBe(false);
    expect(config.migrationDatabaseUrl).toBeUndefined();
    expect(loadConfig({ ISTHMUS_PRODUCTION: 'true' }).production).toBe(true);
  });

  it('refuse a migration URL that is not PostgreSQL, or without DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://gateway@db/isthmus', ISTHMUS_MIGRATION_DATABASE_URL: 'mysql://owner@db' })).toThrow(/ISTHMUS_MIGRATION_DATABASE_URL: must be a postgres:\/\//);
    expect(() => loadConfig({ ISTHMUS_MIGRATION_DATABASE_URL: 'postgres://owner@db/isthmus' })).toThrow(/ISTHMUS_MIGRATION_DATABASE_URL needs DATABASE_URL/);
    expect(() => loadConfig({ ISTHMUS_PRODUCTION: 'yes' })).toThrow(/ISTHMUS_PRODUCTION must be true or false/);
  });
});

describe('the embedded store', () => {
  it('reports that it offers no separation, and names the fix', async () => {
    const store = await openStore({ kind: 'pglite' });
    try {
      await store.migrate();
      const report = await checkStoreRole(store);
      expect(report.problems.map((problem) => problem.code)).toEqual(['EMBEDDED_STORE']);
      expect(describeStoreRole(report)).toMatch(/no separation.*DATABASE_URL.*ISTHMUS_MIGRATION_DATABASE_URL.*isthmus_gateway/);
    } finally {
      await store.close();
    }
  });

  it('warns once at start-up, and the demo still serves', async () => {
    const city = await startTestCity({}, { store: storeTargets()[0]! });
    try {
      expect((await city.graphql(LOAN_CHECK, { id: me.idNumber })).body.data.person.name).toBeTruthy();
      expect((await city.graphql(LOAN_CHECK, { id: me.idNumber })).status).toBe(200);
      const warnings = await roleWarnings(city);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ problems: ['EMBEDDED_STORE'] });
    } finally {
      await city.close();
    }
  }, 120_000);

  it('refuses to start in production mode', async () => {
    await expect(startTestCity({ ISTHMUS_PRODUCTION: 'true' }, { store: storeTargets()[0]! })).rejects.toMatchObject({
      code: 'STORE_ROLE_UNSAFE',
      message: expect.stringMatching(/^refusing to start with ISTHMUS_PRODUCTION=true: the embedded store/),
    });
  }, 120_000);
});

describe.skipIf(!serverUrl)('on PostgreSQL, a gateway whose login is granted isthmus_gateway', () => {
  const login = `isthmus_gw_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let scratch: { url: string; drop(): Promise<void> };
  let loginUrl: string;
  let city: TestCity;
  let witness: RunningWitness;
  let keysDir: string;

  /** Runs one statement as the gateway's login, on a connection of its own. */
  const asLogin = async <R extends pg.QueryResultRow>(statement: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: loginUrl });
    await client.connect();
    try {
      return (await client.query<R>(statement, values)).rows;
    } finally {
      await client.end();
    }
  };
  /** The error PostgreSQL answered a statement of the login's with. */
  const refusalOf = (statement: string): Promise<{ code?: string; message: string } | undefined> =>
    asLogin(statement).then(
      () => undefined,
      (error: { code?: string; message: string }) => error,
    );

  beforeAll(async () => {
    scratch = await createScratchDatabase(serverUrl!, 'isthmus_dbrole');
    // The owner (the server's superuser here) migrates first, which creates the group role to grant.
    const owner = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 1 });
    try {
      await owner.migrate();
    } finally {
      await owner.close();
    }
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`create role ${login} login password '${password}'`);
      await admin.query(`grant ${GATEWAY_ROLE} to ${login}`);
    } finally {
      await admin.end();
    }
    const url = new URL(scratch.url);
    url.username = login;
    url.password = password;
    loginUrl = url.toString();
    const target: StoreTarget = {
      ...storeTargets()[1]!,
      gatewayDatabase: async () => ({ env: { DATABASE_URL: loginUrl, ISTHMUS_DATA_DIR: ':memory:' }, url: loginUrl, dataDir: undefined, drop: async () => {} }),
    };
    // Production mode wants a witness too: the audit office's, trusting the gateway's note key made beforehand.
    keysDir = mkdtempSync(join(tmpdir(), 'isthmus-dbrole-'));
    const logName = 'isthmus.demo-city/access-log';
    const { signer } = await openLogNoteKey({ dir: join(keysDir, 'keys'), logName });
    witness = await startWitness({ dataDir: join(keysDir, 'witness'), name: 'audit-office.demo-city', logKeys: [signer.verifierKey], originPrefixes: [logName], port: 0, log: () => {} });
    city = await startTestCity(
      { ISTHMUS_MIGRATION_DATABASE_URL: scratch.url, ISTHMUS_PRODUCTION: 'true', ISTHMUS_KEYS_DIR: join(keysDir, 'keys'), ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}` },
      { store: target },
    );
  }, 120_000);

  afterAll(async () => {
    await city?.close();
    await witness?.close();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
    await scratch?.drop();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`drop role if exists ${login}`);
    } finally {
      await admin.end();
    }
  });

  it('starts in production mode without a warning, and its cross-bureau reads are logged', async () => {
    expect(await roleWarnings(city)).toEqual([]);
    const reply = await city.graphql(LOAN_CHECK, { id: me.idNumber });
    expect(reply.status).toBe(200);
    expect(reply.body.data.person.socialInsurance).toBeTruthy();
    const requestId = reply.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    const rows = await asLogin<{ operation_name: string }>('select operation_name from access_log where request_id = $1', [requestId]);
    expect(rows.map((row) => row.operation_name)).toEqual(['LoanCheck']);
    const owners = await asLogin<{ owner: string }>(`select distinct pg_get_userbyid(relowner) as owner from pg_class where relname like 'access_log%'`);
    expect(owners.map((row) => row.owner)).not.toContain(login);
    // Its chain's checkpoints and the witness's cosignatures, written as the login.
    const cosigned = await asLogin<{ number: number }>('select number from access_log_cosignatures where chain_id = $1', [city.gateway.accessLog.chainId]);
    expect(cosigned.map((row) => row.number)).toContain(0);
  });

  it('refuses to start in production mode without a witness', async () => {
    const target: StoreTarget = {
      ...storeTargets()[1]!,
      gatewayDatabase: async () => ({ env: { DATABASE_URL: loginUrl, ISTHMUS_DATA_DIR: ':memory:' }, url: loginUrl, dataDir: undefined, drop: async () => {} }),
    };
    await expect(startTestCity({ ISTHMUS_MIGRATION_DATABASE_URL: scratch.url, ISTHMUS_PRODUCTION: 'true' }, { store: target })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/ISTHMUS_WITNESSES: ISTHMUS_PRODUCTION=true needs at least one witness/),
    });
  }, 120_000);

  it('cannot change, truncate, alter, disable the triggers of, or drop the log', async () => {
    const [{ partition } = { partition: '' }] = await asLogin<{ partition: string }>(
      `select c.relname as partition from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'access_log'::regclass order by 1 desc limit 1`,
    );
    expect(partition).toMatch(/^access_log_y\d{4}m\d{2}$/);
    const attempts = [
      `update access_log set purpose = 'changed'`,
      `delete from access_log`,
      `truncate access_log`,
      `truncate ${partition}`,
      `update ${partition} set purpose = 'changed'`,
      `alter table access_log disable trigger all`,
      `alter table ${partition} disable trigger all`,
      `alter table access_log_checkpoints disable trigger access_log_checkpoints_append_only`,
      `drop table access_log_checkpoints`,
      `update access_log_tree_checkpoints set final = true`,
      `delete from access_log_tree_checkpoints`,
      `delete from access_log_tree_nodes`,
      `delete from access_log_cosignatures`,
      `truncate access_log_cosignatures`,
      `delete from access_log_note_keys`,
      `alter table access_log_tree_checkpoints disable trigger access_log_tree_checkpoints_append_only`,
      `drop table access_log_tree_nodes`,
      `drop table ${partition}`,
      `drop table access_log cascade`,
      `delete from console_audit`,
      `update agreement_events set reason = 'changed'`,
      `set session_replication_role = replica`,
      `alter table access_log detach partition ${partition}`,
      `select access_log_detach_partition('access_log', '${partition}')`,
    ];
    for (const statement of attempts) {
      const error = await refusalOf(statement);
      expect(error, statement).toBeDefined();
      expect(error!.code, `${statement}: ${error!.message}`).toBe('42501');
    }
    // The log is still whole and still takes entries.
    expect((await city.graphql(LOAN_CHECK, { id: me.idNumber })).status).toBe(200);
  });

  it('reports nothing at start-up: the check finds no power over the log', async () => {
    const store = await openStore({ kind: 'postgres', url: loginUrl, poolSize: 1 });
    try {
      expect(await checkStoreRole(store)).toEqual({ login, problems: [] });
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!serverUrl)('on PostgreSQL, a gateway whose login is the superuser', () => {
  const postgres = () => storeTargets()[1]!;

  it('refuses to start with ISTHMUS_PRODUCTION=true, naming the problem and the fix', async () => {
    await expect(startTestCity({ ISTHMUS_PRODUCTION: 'true' }, { store: postgres() })).rejects.toMatchObject({
      code: 'STORE_ROLE_UNSAFE',
      problems: ['SUPERUSER'],
      message: expect.stringMatching(/is a superuser.*To fix: run migrations as the tables' owner \(ISTHMUS_MIGRATION_DATABASE_URL\).*isthmus_gateway/),
    });
  }, 120_000);

  it('without it, starts, serves and warns once', async () => {
    const city = await startTestCity({}, { store: postgres() });
    try {
      expect((await city.graphql(LOAN_CHECK, { id: me.idNumber })).status).toBe(200);
      const warnings = await roleWarnings(city);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ problems: ['SUPERUSER'] });
      expect(String(warnings[0]!.msg)).toMatch(/ISTHMUS_MIGRATION_DATABASE_URL/);
    } finally {
      await city.close();
    }
  }, 120_000);
});
