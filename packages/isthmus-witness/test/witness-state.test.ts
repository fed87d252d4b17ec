import { appendFile, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseVerifierKey, verifyCheckpoint, verifyNote } from '../../isthmus-log-proofs/src/index.ts';
import { JOURNAL_FILE, KEY_FILE, rotateWitnessKeys, startWitness, WitnessSetupError, type RunningWitness, type WitnessOptions } from '../src/index.ts';
import { addCheckpoint, createTestLog, getJson, LOG_NAME, logKey, type CheckpointList, type TestLog } from './support/test-log.ts';

const WITNESS = 'hrss.demo-city';
const trustedKey = logKey();
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-witness-state-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir: string, more: Partial<WitnessOptions> = {}): Promise<RunningWitness> {
  const witness = await startWitness({ dataDir: dir, name: WITNESS, logKeys: [trustedKey.verifier.verifierKey], originPrefixes: [LOG_NAME], port: 0, ...more });
  let closed = false;
  cleanup.push(async () => {
    if (!closed) await witness.close();
  });
  const close = witness.close;
  return { ...witness, close: async () => ((closed = true), close()) };
}

async function grow(url: string, log: TestLog, count: number): Promise<string> {
  const old = log.tree.size;
  log.append(count);
  const answer = await addCheckpoint(url, log.body(old, log.checkpoint()));
  expect(answer.status, answer.text).toBe(200);
  return answer.text;
}

async function setupError(promise: Promise<unknown>): Promise<WitnessSetupError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WitnessSetupError);
  return error as WitnessSetupError;
}

describe('GET /checkpoints and /checkpoints/history', () => {
  it('serve the latest per origin (filtered by prefix) and every cosigned checkpoint oldest first', async () => {
    const witness = await start(await dataDir(), { originPrefixes: [LOG_NAME, 'isthmus.other-city/access-log'] });
    const a = createTestLog('a1', trustedKey);
    const b = createTestLog('b2', trustedKey);
    await grow(witness.url, a, 0);
    await grow(witness.url, b, 0);
    await grow(witness.url, a, 3);
    await grow(witness.url, a, 4);
    const other = createTestLog('c3', trustedKey);
    const foreign = other.checkpoint({ origin: 'isthmus.other-city/access-log/c3' });
    expect((await addCheckpoint(witness.url, other.body(0, foreign))).status).toBe(200);

    const all = await getJson<CheckpointList>(`${witness.url}/checkpoints`);
    expect(all.body.witness).toBe(WITNESS);
    expect(all.body.checkpoints.map((c) => [c.origin, c.size, c.final])).toEqual([
      [a.origin, 7, false],
      [b.origin, 0, false],
      ['isthmus.other-city/access-log/c3', 0, false],
    ]);
    const filtered = await getJson<CheckpointList>(`${witness.url}/checkpoints?prefix=${encodeURIComponent(`${LOG_NAME}/`)}`);
    expect(filtered.body.checkpoints.map((c) => c.origin)).toEqual([a.origin, b.origin]);
    const latest = all.body.checkpoints[0]!;
    expect(Date.parse(latest.cosignedAt)).not.toBeNaN();
    // The note served is the cosigned one: the log's signature and this witness's both verify.
    const verified = verifyCheckpoint(latest.note, { origin: a.origin, logKeys: [trustedKey.verifier], witnesses: [parseVerifierKey(witness.verifierKey)] });
    expect(verified.cosignedBy).toEqual([WITNESS]);

    const history = await getJson<CheckpointList>(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(a.origin)}`);
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ witness: WITNESS, origin: a.origin });
    expect(history.body.checkpoints.map((c) => c.size)).toEqual([0, 3, 7]);
    const unknown = await getJson<{ errors: { extensions: { code: string } }[] }>(`${witness.url}/checkpoints/history?origin=nope`);
    expect(unknown).toMatchObject({ status: 404, body: { errors: [{ extensions: { code: 'ORIGIN_UNKNOWN' } }] } });
    const none = await getJson<{ errors: { extensions: { code: string } }[] }>(`${witness.url}/checkpoints/history`);
    expect(none).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'MALFORMED' } }] } });
    expect((await getJson(`${witness.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${witness.url}/checkpoints`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${witness.url}/add-checkpoint`)).status).toBe(405);
    expect(await (await fetch(`${witness.url}/healthz`)).text()).toBe('ok\n');
  });
});

describe('state on disk', () => {
  it('survives a restart: the chain goes on from the latest checkpoint, and old stays enforced', async () => {
    const dir = await dataDir();
    const log = createTestLog('restart', trustedKey);
    const first = await start(dir);
    await grow(first.url, log, 0);
    await grow(first.url, log, 9);
    const vkey = first.verifierKey;
    await first.close();
    const second = await start(dir);
    expect(second.verifierKey).toBe(vkey);
    log.append(2);
    const next = log.checkpoint();
    expect(await addCheckpoint(second.url, log.body(3, next))).toMatchObject({ status: 409, text: '9\n' });
    expect((await addCheckpoint(second.url, log.body(9, next))).status).toBe(200);
    const history = await getJson<CheckpointList>(`${second.url}/checkpoints/history?origin=${encodeURIComponent(log.origin)}`);
    expect(history.body.checkpoints.map((c) => c.size)).toEqual([0, 9, 11]);
  });

  it('drops a torn last journal line with a warning, and appends cleanly after it', async () => {
    const dir = await dataDir();
    const log = createTestLog('torn', trustedKey);
    const first = await start(dir);
    await grow(first.url, log, 0);
    await grow(first.url, log, 5);
    await first.close();
    await appendFile(join(dir, JOURNAL_FILE), '{"origin":"isthmus.demo-city/access-log/torn","size":9,"fin');
    const warnings: string[] = [];
    const second = await start(dir, { log: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/torn last line/u);
    await grow(second.url, log, 4);
    await second.close();
    const third = await start(dir, { log: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(1);
    const latest = await getJson<CheckpointList>(`${third.url}/checkpoints`);
    expect(latest.body.checkpoints.map((c) => c.size)).toEqual([9]);
  });

  it('refuses to start on a journal line that does not read, or a journal with a line deleted', async () => {
    const dir = await dataDir();
    const log = createTestLog('corrupt', trustedKey);
    const first = await start(dir);
    for (const count of [0, 2, 2]) await grow(first.url, log, count);
    await first.close();
    const journal = join(dir, JOURNAL_FILE);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    expect(lines).toHaveLength(4);

    await writeFile(journal, [lines[0], lines[1]!.replace('"size":2', '"size":3'), lines[2], ''].join('\n'));
    const edited = await setupError(start(dir));
    expect(edited.code).toBe('JOURNAL_CORRUPT');
    expect(edited.message).toMatch(/line 2 /u);

    await writeFile(journal, [lines[0], lines[2], ''].join('\n'));
    const deleted = await setupError(start(dir));
    expect(deleted.code).toBe('JOURNAL_CORRUPT');
    expect(deleted.message).toMatch(/line 2 does not follow/u);

    await writeFile(journal, [lines[0], '', lines[1], ''].join('\n'));
    expect((await setupError(start(dir))).message).toMatch(/line 2 /u);
  });

  it('refuses a key file for another name, one readable by others, and a second witness on one directory', async () => {
    const dir = await dataDir();
    const running = await start(dir);
    expect((await setupError(start(dir))).code).toBe('DATA_DIR_LOCKED');
    await running.close();
    expect((await setupError(start(dir, { name: 'someone-else.demo-city' }))).code).toBe('KEY_FILE_INVALID');
    await chmod(join(dir, KEY_FILE), 0o644);
    const loose = await setupError(start(dir));
    expect(loose.code).toBe('KEY_FILE_INVALID');
    expect(loose.message).not.toMatch(/PRIVATE/u);
  });

  it('refuses bad options, all problems at once', async () => {
    const error = await setupError(startWitness({ dataDir: await dataDir(), name: 'has space', logKeys: ['nope'], originPrefixes: [], port: 70_000 }));
    expect(error.code).toBe('OPTIONS_INVALID');
    expect(error.message.split('; ')).toHaveLength(4);
  });
});

describe('key rotation', () => {
  it('makes a new current key and keeps the old one published, so old cosignatures still verify', async () => {
    const dir = await dataDir();
    const log = createTestLog('rotation', trustedKey);
    const before = await start(dir);
    await grow(before.url, log, 0);
    const oldSignature = await grow(before.url, log, 3);
    const oldKey = before.verifierKey;
    await before.close();

    const rotated = await rotateWitnessKeys(dir, WITNESS, new Date());
    expect(rotated.signer.verifierKey).not.toBe(oldKey);
    const after = await start(dir);
    expect(after.verifierKey).toBe(rotated.signer.verifierKey);
    await grow(after.url, log, 4);

    const published = await getJson<{ name: string; keys: { vkey: string; current: boolean; firstUsedAt: string }[] }>(`${after.url}/.well-known/isthmus-witness-keys`);
    expect(published.body.name).toBe(WITNESS);
    expect(published.body.keys.map((k) => [k.vkey, k.current])).toEqual([
      [oldKey, false],
      [after.verifierKey, true],
    ]);
    const keys = published.body.keys.map((k) => parseVerifierKey(k.vkey));
    const history = await getJson<CheckpointList>(`${after.url}/checkpoints/history?origin=${encodeURIComponent(log.origin)}`);
    const [, signedBefore, signedAfter] = history.body.checkpoints;
    expect(signedBefore!.note.endsWith(oldSignature)).toBe(true);
    // Each cosignature verifies with the key that made it, found in the published list.
    expect(verifyNote(signedBefore!.note, keys).verifiedBy.map((k) => k.verifierKey)).toEqual([oldKey]);
    expect(verifyNote(signedAfter!.note, keys).verifiedBy.map((k) => k.verifierKey)).toEqual([after.verifierKey]);
    for (const c of [signedBefore!, signedAfter!]) {
      expect(verifyCheckpoint(c.note, { origin: log.origin, logKeys: [trustedKey.verifier], witnesses: keys, quorum: 1 }).cosignedBy).toEqual([WITNESS]);
    }
  });
});
