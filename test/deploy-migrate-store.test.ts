import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CONFIG } from '../gateway/main.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { checkStoreRole, GATEWAY_ROLE } from '../gateway/store/check-store-role.ts';
import { openStore } from '../gateway/store/store.ts';
import { openLogNoteKey } from '../gateway/access-log/log-tree-note-key.ts';
import { migrationProvider } from '../gateway/store/migrations/index.ts';
import { startWitness, type RunningWitness } from '../packages/isthmus-witness/src/index.ts';
import { EXIT_FAILED, MIGRATION_URL_VARIABLE, migrateStore } from '../deploy/migrate-store.ts';
import { createScratchDatabase, storeTargets } from './support/test-stores.ts';

/**
 * Issue 14, part 5: the Kubernetes deployment migrates in a Job, as the owner
 * of the gateway's tables (`deploy/migrate-store.ts`), and runs the gateway's
 * pods as a login that owns nothing, with DATABASE_URL alone and the keys from
 * a Secret folder (mode 0440): the production pod, started here for real.
 */

const run = async (env: Record<string, string>) => {
  const lines: string[] = [];
  const code = await migrateStore(env, { write: (line) => lines.push(line) });
  return { code, lines };
};

describe('deploy/migrate-store.ts refuses', () => {
  it('a missing or non-PostgreSQL setting, naming it and never echoing it (exit 78)', async () => {
    expect(await run({})).toEqual({ code: EXIT_CONFIG, lines: [expect.stringMatching(new RegExp(`${MIGRATION_URL_VARIABLE} must be the postgres:// connection string.*\\(CONFIG_INVALID\\)`))] });
    const wrong = await run({ [MIGRATION_URL_VARIABLE]: 'mysql://owner:hunter2-secret@db/isthmus' });
    expect(wrong.code).toBe(EXIT_CONFIG);
    expect(wrong.lines.join('\n')).not.toContain('hunter2-secret');
  });

  it('a database it cannot reach with its code, without the password (exit 1: the Job tries again)', async () => {
    const unreachable = await run({ [MIGRATION_URL_VARIABLE]: 'postgres://owner:hunter2-secret@127.0.0.1:1/isthmus' });
    expect(unreachable.code).toBe(EXIT_FAILED);
    expect(unreachable.lines).toEqual([expect.stringMatching(/\(MIGRATION_FAILED\); ECONNREFUSED/)]);
    expect(unreachable.lines.join('\n')).not.toContain('hunter2-secret');
  });
});

const postgres = storeTargets()[1]!;

describe.skipIf(!postgres.available)('the migration Job, then the gateway\'s pod, on PostgreSQL', () => {
  const login = `isthmus_deploy_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let scratch: { url: string; drop(): Promise<void> };
  let loginUrl: string;
  let keysDir: string;
  let witness: RunningWitness | undefined;
  let gateway: Gateway | undefined;
  const logName = 'isthmus.deploy-test/access-log';

  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: postgres.serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase(postgres.serverUrl!, 'isthmus_deploy');
    const url = new URL(scratch.url);
    url.username = login;
    url.password = password;
    loginUrl = url.toString();
    keysDir = mkdtempSync(join(tmpdir(), 'isthmus-deploy-keys-'));
  });

  afterAll(async () => {
    await gateway?.close();
    await witness?.close();
    rmSync(keysDir, { recursive: true, force: true });
    await scratch?.drop();
    await admin(`drop role if exists ${login}`);
  });

  it('applies every migration as the owner, and nothing on a second run', async () => {
    const all = Object.keys(await migrationProvider.getMigrations()).sort();
    const first = await run({ [MIGRATION_URL_VARIABLE]: scratch.url });
    expect(first).toEqual({ code: 0, lines: [`isthmus migrate: applied ${all.join(', ')}`] });
    expect(await run({ [MIGRATION_URL_VARIABLE]: scratch.url })).toEqual({ code: 0, lines: ['isthmus migrate: no migration was pending'] });
  });

  it('leaves a database where the gateway\'s own login starts in production mode with DATABASE_URL alone and Secret-mode keys', async () => {
    // As deploy/README.md says: the gateway login is made after the first migration, which creates the group role.
    await admin(`create role ${login} login password '${password}'`);
    await admin(`grant ${GATEWAY_ROLE} to ${login}`);
    const asLogin = await openStore({ kind: 'postgres', url: loginUrl, poolSize: 1 });
    try {
      expect((await checkStoreRole(asLogin)).problems).toEqual([]);
    } finally {
      await asLogin.close();
    }

    // The key folder as deploy/README.md makes it: one gateway run on a throw-away embedded store, then mode 0440 as the Secret mounts it.
    const maker = await startGateway(loadConfig({ PORT: '0', ISTHMUS_DATA_DIR: ':memory:', ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_LOG_NAME: logName, LOG_LEVEL: 'silent' }));
    await maker.close();
    for (const file of readdirSync(keysDir)) chmodSync(join(keysDir, file), 0o440);
    expect(readdirSync(keysDir).sort()).toEqual(['access-log-jwks.json', 'access-log-note-keys.json', 'access-log-note.key', 'access-log-signing.json', 'gateway-signing.json']);

    const { signer } = await openLogNoteKey({ dir: keysDir, logName });
    witness = await startWitness({ dataDir: join(keysDir, '..', `${login}-witness`), name: 'audit-office.deploy-test', logKeys: [signer.verifierKey], originPrefixes: [logName], port: 0, log: () => {} });
    gateway = await startGateway(
      loadConfig({
        PORT: '0',
        DATABASE_URL: loginUrl,
        ISTHMUS_PRODUCTION: 'true',
        ISTHMUS_KEYS_DIR: keysDir,
        ISTHMUS_LOG_NAME: logName,
        ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}`,
        LOG_LEVEL: 'silent',
      }),
    );
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    // Its login passed the role check (production mode would have refused to start), and the witness cosigned checkpoint #0.
    expect(await ready.json()).toMatchObject({ status: 'ready', store: 'ok', evidence: { witnessed: true, witnesses: [{ name: 'audit-office.deploy-test', cosignedSize: 0 }] } });
    // Nothing was written beside the keys: a read-only Secret folder is all the pod needs.
    expect(readdirSync(keysDir).sort()).toEqual(['access-log-jwks.json', 'access-log-note-keys.json', 'access-log-note.key', 'access-log-signing.json', 'gateway-signing.json']);
    rmSync(join(keysDir, '..', `${login}-witness`), { recursive: true, force: true });
  }, 120_000);
});
