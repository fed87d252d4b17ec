import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateNoteKey, parseSignerKey, type NoteSigner } from '../packages/isthmus-log-proofs/src/index.ts';
import { openStore } from '../gateway/store/store.ts';
import { createAccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { detachExpiredPartitions } from '../gateway/access-log/retention.ts';
import { checkArchiveDir } from '../gateway/access-log/archive-target.ts';
import { DEFAULT_LOG_NAME } from '../gateway/access-log/log-tree-note-key.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { sampleEntry } from './support/access-log-fixtures.ts';
import { runCliCaptured } from './support/run-cli-captured.ts';
import type { GatewayDatabase } from './support/test-stores.ts';

describeEachStore('isthmus log verify --archive on $name', (target) => {
  let database: GatewayDatabase;
  let work: string;
  let archives: string;
  let keysFile: string;
  let signer: NoteSigner;
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 10, 5));
  const label = month.toISOString().slice(0, 7);
  const chainId = `gw-cli-archive-${Date.now()}`;
  const offlineEnv = { ISTHMUS_DATA_DIR: ':memory:', DATABASE_URL: '' };

  beforeAll(async () => {
    database = await target.gatewayDatabase({ prefix: 'isthmus_archive_cli', onDisk: true });
    work = mkdtempSync(join(tmpdir(), 'isthmus-archive-cli-'));
    archives = join(work, 'archives');
    keysFile = join(work, 'log-keys.txt');
    signer = parseSignerKey(generateNoteKey(DEFAULT_LOG_NAME).signerKey);
    writeFileSync(keysFile, `# the gateway's log note keys\n${signer.verifierKey}\n`);
    const store = await openStore(database.url ? { kind: 'postgres', url: database.url, poolSize: 2 } : { kind: 'pglite', dataDir: database.dataDir });
    try {
      await store.migrate();
      let clock = month;
      const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner: signer, logName: DEFAULT_LOG_NAME, checkpointEvery: 4, maxBatch: 2, now: () => clock });
      for (let index = 0; index < 5; index++) await writer.append(sampleEntry({ occurredAt: new Date(month.getTime() + index * 1_000) }));
      clock = now;
      for (let index = 0; index < 3; index++) await writer.append(sampleEntry({ occurredAt: new Date(now.getTime() + index) }));
      await writer.close();
      // As the gateway does at start-up: the folder is made (and checked writable) once; retention never makes it, so an archive volume gone missing stops it rather than starting a new chain of archives.
      await checkArchiveDir(archives);
      const detached = await detachExpiredPartitions(store.db, now, { archive: { dir: archives, signer, logName: DEFAULT_LOG_NAME } });
      expect(detached.some((partition) => partition.archived?.month === label)).toBe(true);
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('offline, intact archives → exit 0, and a note that the database was not read', async () => {
    const run = await runCliCaptured(['log', 'verify', '--archive', archives, '--log-keys', keysFile], offlineEnv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`archived chain ${chainId}: up to seq 5 (${label})\n`);
    expect(run.stdout).toContain('ok: archives intact\n');
    expect(run.stderr).toMatch(/^note: offline: no database was read/);
  });

  it('archives and the database together → exit 0: the live log continues where the archives end', async () => {
    const run = await runCliCaptured(['log', 'verify', '--archive', archives, '--log-keys', keysFile], { ...database.env });
    expect(run.stdout).toContain(`chain ${chainId}: 3 entries (seq 6–8, 1–5 retired)`);
    expect(run.stdout).toContain('ok: archives intact, and the live log continues where they end\n');
    expect(run.code).toBe(0);
    const json = await runCliCaptured(['log', 'verify', '--archive', archives, '--log-keys', keysFile, '--json'], { ...database.env });
    expect(JSON.parse(json.stdout)).toMatchObject({ problems: [], archives: { problems: [], pendingDetach: [], chains: [{ chainId, lastSeq: 5 }] } });
  });

  it('an entry edited in an archive → exit 1, the problem named with its code, month, chain and seq; no personal data echoed', async () => {
    const copied = join(work, `tampered-${target.name}`);
    cpSync(archives, copied, { recursive: true });
    const file = join(copied, label, 'entries.jsonl.gz');
    const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    lines[2] = lines[2]!.replace('33040219501113923X', '110101199001011234');
    writeFileSync(file, gzipSync(lines.join('\n')));
    const run = await runCliCaptured(['log', 'verify', '--archive', copied, '--log-keys', keysFile], { ...database.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`ARCHIVE_EDITED month=${label} chain=${chainId} seq=3 entry=\\S+: entry \\S+ \\(seq 3\\) does not match its hash`));
    expect(run.stdout).not.toContain('110101199001011234');
    expect(run.stdout).toMatch(/\d+ problems? in the archives\n/);
  });

  it('bad input: a folder that is not there → exit 1 naming it; a --database that is not postgres:// → exit 2', async () => {
    const missing = join(work, 'nowhere');
    const run = await runCliCaptured(['log', 'verify', '--archive', missing], offlineEnv);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe(`isthmus log verify: the access log archive folder ${missing} does not exist (ACCESS_LOG_ARCHIVE_DIR)\n`);
    const bad = await runCliCaptured(['log', 'verify', '--archive', archives, '--database', 'mysql://user:secret@db/log'], offlineEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('isthmus log verify: --database must be a postgres:// connection string\n');
  });
});
