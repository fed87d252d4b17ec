import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.ts';
import type { CliIo } from '../cli-io.ts';
import { openStore, type Store } from '../../store/store.ts';
import { createAccessLogWriter, type AppendedEntry } from '../../access-log/access-log-writer.ts';
import { exportAccessLog } from '../../access-log/export-access-log.ts';
import { generateNoteKey, parseSignerKey, type NoteSigner } from '../../../packages/isthmus-log-proofs/src/index.ts';
import { DEFAULT_LOG_NAME } from '../../access-log/log-tree-note-key.ts';
import { createScratchDatabase } from '../../../test/support/test-stores.ts';
import { sampleEntry } from '../../../test/support/access-log-fixtures.ts';

/** Runs the CLI in-process and collects what it printed. */
async function run(argv: readonly string[], env: Record<string, string>, stdout?: Writable) {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: stdout ?? { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

async function writeEntries(store: Store, noteSigner: NoteSigner, chainId: string, count: number): Promise<AppendedEntry[]> {
  const writer = createAccessLogWriter({ db: store.db, chainId, noteSigner, checkpointEvery: 10, maxBatch: 10 });
  const start = Date.now() - count * 1_000;
  const appended: AppendedEntry[] = [];
  for (let index = 0; index < count; index++) appended.push(await writer.append(sampleEntry({ occurredAt: new Date(start + index * 1_000) })));
  await writer.close();
  return appended;
}

describe('isthmus log on the embedded store', () => {
  let dir: string;
  let env: Record<string, string>;
  let noteSigner: NoteSigner;
  let appended: AppendedEntry[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-log-cli-'));
    env = { ISTHMUS_DATA_DIR: join(dir, 'data') };
    noteSigner = parseSignerKey(generateNoteKey(DEFAULT_LOG_NAME).signerKey);
    const store = await openStore({ kind: 'pglite', dataDir: env.ISTHMUS_DATA_DIR });
    try {
      await store.migrate();
      // As a gateway registers itself when it starts: the report names which process wrote the chain.
      await store.db.insertInto('gateway_instances').values({ id: 'gw-cli', hostname: 'replica-a', version: '1.2.3', started_at: new Date('2026-05-01T08:00:00Z'), last_seen_at: new Date() }).execute();
      appended = await writeEntries(store, noteSigner, 'gw-cli', 30);
    } finally {
      await store.close();
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies an intact log, and says plainly that without witnesses nothing was proven', async () => {
    const result = await run(['log', 'verify'], env);
    expect(result.code).toBe(0);
    expect(result.out).toContain('ok: 30 entries in 1 chains\n');
    expect(result.out).toMatch(/^chain gw-cli: 30 entries \(seq 1–30\); no witnessed checkpoint covers it; 30 not yet covered \(from seq 1, entry \S+\); start not witnessed; written by replica-a, version 1\.2\.3, started 2026-05-01T08:00:00\.000Z\n/);
    expect(result.err).toContain('nothing was proven against evidence outside the database');
    expect(result.err).toContain('checkpoint signatures were not checked');
    // What production runs: without a quorum of witnesses, that is a failure.
    const strict = await run(['log', 'verify', '--require-witnesses'], env);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain('ok: 30 entries in 1 chains\n');
  });

  it('checks checkpoint signatures against the log keys in a file (the published JSON, or vkeys one a line)', async () => {
    const published = join(dir, 'log-keys.json');
    writeFileSync(published, JSON.stringify({ logName: DEFAULT_LOG_NAME, keys: [{ vkey: noteSigner.verifierKey, current: true, firstUsedAt: new Date().toISOString() }], witnesses: [], quorum: 0 }));
    const ok = await run(['log', 'verify', '--log-keys', published], env);
    expect(ok.code).toBe(0);
    expect(ok.err).not.toContain('checkpoint signatures were not checked');
    const lines = join(dir, 'log-keys.txt');
    writeFileSync(lines, `# the gateway's log key\n${noteSigner.verifierKey}\n`);
    expect((await run(['log', 'verify', '--log-keys', lines], env)).code).toBe(0);
    const stranger = join(dir, 'stranger.txt');
    writeFileSync(stranger, `${parseSignerKey(generateNoteKey(DEFAULT_LOG_NAME).signerKey).verifierKey}\n`);
    const refused = await run(['log', 'verify', '--log-keys', stranger], env);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^UNKNOWN_KEY chain=gw-cli checkpoint=#0: checkpoint #0 \(size 0\) is signed by isthmus\.demo-city\/access-log \(key id [0-9a-f]{8}\), which is not a pinned log key/m);
  });

  it('reads log keys from a URL, and says in its own words what is wrong with a key list', async () => {
    const served = new Map<string, { status: number; body: string }>([
      ['/.well-known/isthmus-log-keys', { status: 200, body: JSON.stringify({ logName: DEFAULT_LOG_NAME, keys: [{ vkey: noteSigner.verifierKey }] }) }],
      ['/gone', { status: 404, body: '{}' }],
    ]);
    const server: Server = createServer((request, response) => {
      const answer = served.get(request.url ?? '') ?? { status: 404, body: '' };
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await run(['log', 'verify', '--log-keys', `${base}/.well-known/isthmus-log-keys`], env)).toMatchObject({ code: 0 });
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const cases: readonly [string, string, RegExp][] = [
        ['an unreachable URL', 'http://127.0.0.1:1/keys', /^isthmus log verify: cannot fetch the log keys http:\/\/127\.0\.0\.1:1\/keys \(connection failed\) \(LOG_KEYS_UNREACHABLE\)\n$/],
        ['a URL that answers 404', `${base}/gone`, /cannot fetch the log keys .*\/gone \(HTTP 404\) \(LOG_KEYS_UNREACHABLE\)/],
        ['a file that is not there', join(dir, 'missing.json'), /cannot read the log keys file .*missing\.json \(no such file\) \(LOG_KEYS_UNREACHABLE\)/],
        ['JSON that is not valid', file('broken.json', '{"keys": ['), /the log keys .*broken\.json are not valid JSON \(LOG_KEYS_INVALID\)/],
        ['JSON without keys', file('object.json', '{"logName":"x"}'), /have no "keys" list \(LOG_KEYS_INVALID\)/],
        ['an empty list', file('empty.json', '{"keys":[]}'), /hold no key, so no checkpoint can be checked against them \(LOG_KEYS_EMPTY\)/],
        ['a line that is no key', file('junk.txt', 'not a key\n'), /key 1 of the log keys .*junk\.txt is not "<name>\+<8 hex id>\+<base64 key>" \(LOG_KEYS_INVALID\)/],
      ];
      for (const [what, source, message] of cases) {
        const result = await run(['log', 'verify', '--log-keys', source], env);
        expect({ what, code: result.code, out: result.out }).toEqual({ what, code: 1, out: '' });
        expect(result.err, what).toMatch(message);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('exports a time range as JSON lines, in time order', async () => {
    const all = await run(['log', 'export', '--since', '2000-01-01', '--format', 'jsonl'], env);
    expect(all.code).toBe(0);
    const lines = all.out.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; seq: number; occurredAt: string; hash: string; subjects: unknown[] });
    expect(lines.map((line) => line.id)).toEqual(appended.map((entry) => entry.id));
    expect(lines[0]).toMatchObject({ chainId: 'gw-cli', seq: 1, hash: appended[0]!.hash, action: 'READ', subjects: [{ kind: 'person', id: '33040219501113923X' }] });

    const middle = lines[10]!.occurredAt;
    const until = lines[20]!.occurredAt;
    const some = await run(['log', 'export', '--since', middle, '--until', until, '--format', 'jsonl'], env);
    expect(some.out.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual(Array.from({ length: 10 }, (_, index) => 11 + index));
  });

  it('waits for a slow stdout to drain instead of buffering the whole export', async () => {
    const chunks: string[] = [];
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        setTimeout(callback, 2);
      },
    });
    slow.on('drain', () => drains++);
    const result = await run(['log', 'export', '--since', '2000-01-01', '--format', 'jsonl'], env, slow);
    expect(result.code).toBe(0);
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(chunks.join('').trimEnd().split('\n')).toHaveLength(30);
    expect(drains).toBeGreaterThanOrEqual(1);
  });

  it('refuses bad usage with exit code 2', async () => {
    for (const argv of [['log'], ['log', 'nope'], ['log', 'export', '--format', 'jsonl'], ['log', 'export', '--since', 'last week', '--format', 'jsonl'], ['log', 'export', '--since', '2026-01-01', '--format', 'csv'], ['log', 'verify', '--bogus'], ['log', 'verify', '--log-keys'], ['log', 'verify', '--witness', 'nope'], ['log', 'verify', '--quorum', '1'], ['log', '--bogus']]) {
      expect((await run(argv, env)).code, argv.join(' ')).toBe(2);
    }
    expect((await run(['log', 'verify', '--bogus'], env)).err).toMatch(/^isthmus log: Unknown option '--bogus'\n/);
    expect((await run(['log', '--bogus'], env)).err).toMatch(/^isthmus log: unknown option '--bogus'\n/);
  });

  it('refuses a data dir another process holds open, naming it, before opening the database', async () => {
    const store = await openStore({ kind: 'pglite', dataDir: env.ISTHMUS_DATA_DIR });
    try {
      await store.advertise('http://127.0.0.1:4999');
      const verify = await run(['log', 'verify'], env);
      expect(verify.code).toBe(1);
      expect(verify.out).toBe('');
      expect(verify.err).toContain(`isthmus log verify: the embedded store in ${env.ISTHMUS_DATA_DIR} is in use by process ${process.pid} (`);
      expect(verify.err).toContain('serving http://127.0.0.1:4999 (STORE_LOCKED). The embedded store allows one process at a time: stop that gateway and run this again.\n');
      const exported = await run(['log', 'export', '--since', '2000-01-01', '--format', 'jsonl'], env);
      expect(exported.code).toBe(1);
      expect(exported.err).toContain('or read the entries through its admin API at http://127.0.0.1:4999/admin/api/access-log.');
      // The holder is unharmed: it still reads and writes its database.
      expect(await store.pending()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('reports the first problem of a tampered chain with the entry id, and exits 1', async () => {
    const store = await openStore({ kind: 'pglite', dataDir: env.ISTHMUS_DATA_DIR });
    try {
      await store.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`update access_log set purpose = 'rewritten' where chain_id = 'gw-cli' and seq = 5`.execute(trx);
      });
    } finally {
      await store.close();
    }
    const result = await run(['log', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`EDITED chain=gw-cli seq=5 entry=${appended[4]!.id}:`);
    expect(result.out).toMatch(/1 of 1 chains have problems \(30 entries checked\)/);
    expect(result.out).toContain(`entry ${appended[4]!.id} (seq 5) does not match its hash: its content was changed`);
  });

  it('says when there is no embedded database', async () => {
    const result = await run(['log', 'verify'], { ISTHMUS_DATA_DIR: join(dir, 'nothing-here') });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/no embedded database/);
  });
});

describe('exportAccessLog', () => {
  it('pages through the range in (occurred_at, id) order', async () => {
    const store = await openStore({ kind: 'pglite' });
    try {
      await store.migrate();
      const appended = await writeEntries(store, parseSignerKey(generateNoteKey(DEFAULT_LOG_NAME).signerKey), 'gw-export', 23);
      const seen: string[] = [];
      for await (const record of exportAccessLog(store.db, { since: new Date(0), pageSize: 4 })) seen.push(record.id);
      expect(seen).toEqual(appended.map((entry) => entry.id));
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!process.env.DATABASE_URL)('isthmus log on PostgreSQL', () => {
  it('verifies and exports through DATABASE_URL', async () => {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'isthmus_log_cli');
    try {
      const store = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
      try {
        await store.migrate();
        await writeEntries(store, parseSignerKey(generateNoteKey(DEFAULT_LOG_NAME).signerKey), 'gw-pg-cli', 12);
      } finally {
        await store.close();
      }
      const verified = await run(['log', 'verify'], { DATABASE_URL: scratch.url });
      expect(verified.code).toBe(0);
      expect(verified.out).toContain('ok: 12 entries in 1 chains\n');
      const exported = await run(['log', 'export', '--since', '2000-01-01T00:00:00Z', '--format', 'jsonl'], { DATABASE_URL: scratch.url });
      expect(exported.out.trimEnd().split('\n')).toHaveLength(12);
    } finally {
      await scratch.drop();
    }
  });
});
