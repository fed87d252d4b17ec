import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, parseSignerKey, parseVerifierKey, signNote, type NoteSigner, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { detachExpiredPartitions } from './retention.ts';
import { createAccessLogWriter, type AccessLogWriter } from './access-log-writer.ts';
import { verifyAccessLog } from './verify-access-log.ts';
import { verifyArchives, type ArchiveProblem } from './verify-archives.ts';
import { compareArchivesWithDatabase } from './verify-archives-database.ts';
import { checkArchiveDir, type ArchiveTarget } from './archive-target.ts';
import { archiveNoteText, sha256Hex, type ArchiveManifest } from './archive-format.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import { openGatewayResources } from '../gateway-resources.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

const LOG_NAME = 'isthmus.archive-test/access-log';

/**
 * Days of three months more than a year back, all past any retention of six
 * months: two with entries, and the one after, whose partition the writer
 * made ahead of time and which stays empty.
 */
function oldMonths(now: Date): readonly [Date, Date, Date] {
  const day = (back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 3));
  return [day(14), day(13), day(12)];
}
const label = (instant: Date) => instant.toISOString().slice(0, 7);

const readLines = (file: string) => gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter((line) => line !== '');
const writeLines = (file: string, lines: readonly string[]) => writeFileSync(file, gzipSync(`${lines.join('\n')}\n`));
const readManifest = (folder: string) => JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as ArchiveManifest;
/** Writes a manifest and signs it, as retention would have: what someone holding `signer` could forge. */
function writeSigned(folder: string, manifest: ArchiveManifest, signer: NoteSigner): void {
  const bytes = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(folder, 'manifest.json'), bytes);
  writeFileSync(join(folder, 'manifest.sig'), signNote(archiveNoteText(LOG_NAME, manifest.month, sha256Hex(bytes)), [signer]));
}

describe('ISTHMUS_LOG_ARCHIVE_DIR', () => {
  it('is resolved to an absolute path, unset by default', () => {
    expect(loadConfig({}).logArchiveDir).toBeUndefined();
    expect(loadConfig({ ISTHMUS_LOG_ARCHIVE_DIR: 'archives' }).logArchiveDir).toBe(join(process.cwd(), 'archives'));
  });

  it('a folder that cannot be written is refused at start-up with an error naming it', async () => {
    const base = mkdtempSync(join(tmpdir(), 'isthmus-archive-dir-'));
    try {
      writeFileSync(join(base, 'a-file'), '');
      const dir = join(base, 'a-file', 'archives');
      await expect(checkArchiveDir(dir)).rejects.toMatchObject({ code: 'ACCESS_LOG_ARCHIVE_DIR', message: `the access log archive folder ${dir} is not a folder` });
      await checkArchiveDir(join(base, 'made'));
      expect(statSync(join(base, 'made')).isDirectory()).toBe(true);
      // The gateway's start stops there, with a configuration error naming the setting and the folder.
      const start = openGatewayResources(loadConfig({ ISTHMUS_DATA_DIR: ':memory:', ISTHMUS_LOG_ARCHIVE_DIR: dir, LOG_LEVEL: 'silent' }));
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toMatchObject({ problems: [`ISTHMUS_LOG_ARCHIVE_DIR: the access log archive folder ${dir} is not a folder`] });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describeEachStore('signed, hash-linked archives on $name', (target) => {
  let store: Store;
  let dir: string;
  let signer: NoteSigner;
  let verifier: NoteVerifier;
  let archive: ArchiveTarget;
  const now = new Date();
  const [first, second, empty] = oldMonths(now);
  const stamp = `${Date.now()}`;
  const chainA = `gw-a-${stamp}`;
  const chainB = `gw-b-${stamp}`;
  /** Starts in the second month: a chain new to the series. */
  const chainC = `gw-c-${stamp}`;
  const scratch: string[] = [];
  const copy = () => {
    const into = mkdtempSync(join(tmpdir(), 'isthmus-archive-tamper-'));
    scratch.push(into);
    cpSync(dir, into, { recursive: true });
    return into;
  };
  const verifyCopy = async (copied: string, keys: readonly NoteVerifier[] = [verifier]) => (await verifyArchives(copied, { logKeys: keys })).problems;
  const kinds = (problems: readonly ArchiveProblem[]) => [...new Set(problems.map((p) => p.kind))].sort();

  beforeAll(async () => {
    store = await target.open();
    dir = mkdtempSync(join(tmpdir(), 'isthmus-archives-'));
    signer = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
    verifier = parseVerifierKey(signer.verifierKey);
    archive = { dir, signer, logName: LOG_NAME };
    let clock = first;
    const writers = new Map<string, AccessLogWriter>();
    for (const chainId of [chainA, chainB, chainC]) writers.set(chainId, createAccessLogWriter({ db: store.db, chainId, signer: await createTestSigner(), checkpointEvery: 2, maxBatch: 2, now: () => clock }));
    const plan: readonly [Date, readonly [string, number][]][] = [
      [first, [[chainA, 3], [chainB, 2]]],
      [second, [[chainA, 3], [chainB, 2], [chainC, 2]]],
      [now, [[chainA, 2], [chainB, 1], [chainC, 1]]],
    ];
    for (const [instant, counts] of plan) {
      clock = instant;
      let offset = 0;
      for (const [chainId, count] of counts) {
        for (let index = 0; index < count; index++) await writers.get(chainId)!.append(sampleEntry({ occurredAt: new Date(instant.getTime() + (offset += 1_000)) }));
      }
    }
    for (const writer of writers.values()) await writer.close();
  });
  afterAll(async () => {
    await store?.close();
    for (const path of [dir, ...scratch]) if (path) rmSync(path, { recursive: true, force: true });
  });

  it('writes each month out, signed and chained, before it is detached; the archives verify offline and with the database', async () => {
    const detached = await detachExpiredPartitions(store.db, now, { archive });
    const archived = detached.filter((partition) => partition.table === 'access_log').map((partition) => partition.archived);
    expect(archived).toEqual([
      { month: label(first), reused: false },
      { month: label(second), reused: false },
      // An empty month is archived too: the chain of archives has no hole where a month had no entries.
      { month: label(empty), reused: false },
    ]);
    expect(readManifest(join(dir, label(empty)))).toMatchObject({ entryCount: 0, chains: [], previous: { month: label(second) } });
    for (const month of [first, second]) {
      for (const file of ['entries.jsonl.gz', 'manifest.json', 'manifest.sig']) expect(existsSync(join(dir, label(month), file)), file).toBe(true);
    }
    const january = readManifest(join(dir, label(first)));
    const february = readManifest(join(dir, label(second)));
    expect(january).toMatchObject({ month: label(first), entryCount: 5, subjectCount: 5, previous: null });
    expect(february.previous).toEqual({ month: label(first), manifestSha256: sha256Hex(readFileSync(join(dir, label(first), 'manifest.json'))) });
    expect(february.chains.map((chain) => [chain.chainId, chain.firstSeq, chain.lastSeq, chain.entries])).toEqual(
      [
        [chainA, 4, 6, 3],
        [chainB, 3, 4, 2],
        [chainC, 1, 2, 2],
      ].sort(),
    );
    // The month's last hash per chain is the next month's first prev_hash, and the frontier is the one the detachment records.
    const a1 = january.chains.find((chain) => chain.chainId === chainA)!;
    const a2 = february.chains.find((chain) => chain.chainId === chainA)!;
    expect(a2.firstPrevHash).toBe(a1.lastHash);
    const { rows: recorded } = await sql<{ max_seq: string | number; frontier: unknown }>`
      select max_seq, frontier from access_log_detachments where chain_id = ${chainA} order by max_seq`.execute(store.db);
    expect(recorded.map((row) => [Number(row.max_seq), row.frontier])).toEqual([
      [3, a1.frontier],
      [6, a2.frontier],
    ]);
    // Entries in (chain, seq) order, each with its "who read me" rows.
    const lines = readLines(join(dir, label(first), 'entries.jsonl.gz')).map((line) => JSON.parse(line) as { entry: { chain_id: string; seq: number }; subjects: unknown[] });
    expect(lines.map((line) => [line.entry.chain_id, line.entry.seq])).toEqual(
      [
        [chainA, 1],
        [chainA, 2],
        [chainA, 3],
        [chainB, 1],
        [chainB, 2],
      ].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)),
    );
    expect(lines[0]!.subjects).toEqual([{ kind: 'person', id: '33040219501113923X' }]);

    const offline = await verifyArchives(dir, { logKeys: [verifier] });
    expect(offline).toMatchObject({ months: [label(first), label(second), label(empty)], entries: 12, problems: [], keySource: 'pinned' });
    expect(offline.chains.map((chain) => [chain.chainId, chain.lastSeq])).toEqual([
      [chainA, 6],
      [chainB, 4],
      [chainC, 2],
    ].sort());
    const joined = await compareArchivesWithDatabase(store.db, offline);
    expect(joined.problems).toEqual([]);
    expect(joined.pendingDetach).toEqual([]);
    expect((await verifyAccessLog(store.db)).problems).toEqual([]);
  });

  it('an entry edited → ARCHIVE_EDITED naming its seq and entry (and the entries file no longer the one signed)', async () => {
    const copied = copy();
    const file = join(copied, label(first), 'entries.jsonl.gz');
    const lines = readLines(file);
    const line = JSON.parse(lines[1]!) as { entry: { id: string; purpose: string; seq: number; chain_id: string } };
    line.entry.purpose = 'curiosity';
    lines[1] = JSON.stringify(line);
    writeLines(file, lines);
    const problems = await verifyCopy(copied);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', month: label(first), chainId: line.entry.chain_id, seq: line.entry.seq, entryId: line.entry.id }));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', month: label(first), seq: 0, detail: expect.stringMatching(/^entries\.jsonl\.gz is not the file the manifest names/) }));
    expect(kinds(problems)).toEqual(['ARCHIVE_EDITED']);
  });

  it('an entry removed → ARCHIVE_EDITED naming the missing seq', async () => {
    const copied = copy();
    const file = join(copied, label(first), 'entries.jsonl.gz');
    const lines = readLines(file);
    const removed = JSON.parse(lines[1]!) as { entry: { seq: number; chain_id: string } };
    writeLines(file, lines.filter((_, index) => index !== 1));
    const problems = await verifyCopy(copied);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', month: label(first), chainId: removed.entry.chain_id, seq: removed.entry.seq, detail: expect.stringContaining('missing from the archive') }));
  });

  it("a whole month's archive removed → ARCHIVE_MISSING naming the month, and its seqs ARCHIVE_GAP", async () => {
    const copied = copy();
    rmSync(join(copied, label(first)), { recursive: true });
    const problems = await verifyCopy(copied);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_MISSING', month: label(first) }));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_GAP', chainId: chainA, seq: 1, detail: expect.stringContaining(`entries 1–3 of chain ${chainA} are in no archive`) }));
    expect(kinds(problems)).toEqual(['ARCHIVE_GAP', 'ARCHIVE_MISSING']);
  });

  it('the last months removed: invisible offline, ARCHIVE_GAP once the database is compared', async () => {
    const copied = copy();
    for (const month of [second, empty]) rmSync(join(copied, label(month)), { recursive: true });
    const offline = await verifyArchives(copied, { logKeys: [verifier] });
    expect(offline.problems).toEqual([]);
    const joined = await compareArchivesWithDatabase(store.db, offline);
    expect(joined.problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_GAP', chainId: chainA, seq: 4, month: label(second), detail: expect.stringContaining('missing from both') }));
    expect(joined.problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_GAP', chainId: chainC, seq: 1 }));
  });

  it('the manifest edited → ARCHIVE_EDITED: changed after it was signed', async () => {
    const copied = copy();
    const folder = join(copied, label(second));
    const manifest = readManifest(folder);
    writeFileSync(join(folder, 'manifest.json'), `${JSON.stringify({ ...manifest, entryCount: manifest.entryCount - 1 }, null, 2)}\n`);
    const problems = await verifyCopy(copied);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', month: label(second), detail: 'manifest.json was changed after it was signed (its SHA-256 is not the one manifest.sig signs)' }));
  });

  it('a manifest signed by another key (of the same name) → ARCHIVE_SIGNATURE; with no key pinned, a note says so, nothing fails', async () => {
    const copied = copy();
    const folder = join(copied, label(first));
    const forger = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
    writeSigned(folder, { ...readManifest(folder) }, forger);
    const problems = await verifyCopy(copied);
    expect(problems).toEqual([expect.objectContaining({ kind: 'ARCHIVE_SIGNATURE', month: label(first), detail: 'manifest.sig is signed by no pinned log key (KEY_UNKNOWN)' })]);
    expect((await verifyArchives(copied, {})).keySource).toBe('none');
    // The forger's key pinned instead, the genuine months fail.
    const forged = await verifyCopy(copied, [parseVerifierKey(forger.verifierKey)]);
    expect(forged.map((p) => [p.kind, p.month])).toEqual([
      ['ARCHIVE_SIGNATURE', label(second)],
      ['ARCHIVE_SIGNATURE', label(empty)],
    ]);
  });

  it("the entries file swapped with another month's → ARCHIVE_EDITED: not the file signed, entries of another month", async () => {
    const copied = copy();
    cpSync(join(copied, label(second), 'entries.jsonl.gz'), join(copied, label(first), 'entries.jsonl.gz'));
    const problems = (await verifyCopy(copied)).filter((p) => p.month === label(first));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', seq: 0, detail: expect.stringMatching(/^entries\.jsonl\.gz is not the file the manifest names/) }));
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_EDITED', detail: expect.stringContaining(`outside ${label(first)}: the entries file is another month's`) }));
  });

  it("a month's last entry dropped and the month re-signed consistently (by the key's holder) → ARCHIVE_GAP between the months", async () => {
    const copied = copy();
    const folder = join(copied, label(first));
    const manifest = readManifest(folder);
    // Someone holding the key drops chain A's last entry of the first month and re-signs it consistently.
    const file = join(folder, 'entries.jsonl.gz');
    const lines = readLines(file).filter((line) => !(line.includes(`"chain_id":"${chainA}"`) && line.includes('"seq":3,')));
    writeLines(file, lines);
    const kept = JSON.parse(lines.filter((line) => line.includes(`"chain_id":"${chainA}"`)).at(-1)!) as { entry: { hash: string } };
    const chains = manifest.chains.map((chain) => (chain.chainId === chainA ? { ...chain, lastSeq: 2, lastHash: kept.entry.hash, entries: 2, frontier: null } : chain));
    writeSigned(folder, { ...manifest, chains, entryCount: 4, subjectCount: 4, entriesSha256: sha256Hex(readFileSync(file)) }, signer);
    const second2 = readManifest(join(copied, label(second)));
    writeSigned(join(copied, label(second)), { ...second2, previous: { month: label(first), manifestSha256: sha256Hex(readFileSync(join(folder, 'manifest.json'))) } }, signer);
    const third = readManifest(join(copied, label(empty)));
    writeSigned(join(copied, label(empty)), { ...third, previous: { month: label(second), manifestSha256: sha256Hex(readFileSync(join(copied, label(second), 'manifest.json'))) } }, signer);
    const problems = await verifyCopy(copied);
    expect(problems).toEqual([expect.objectContaining({ kind: 'ARCHIVE_GAP', month: label(second), chainId: chainA, seq: 3, detail: expect.stringContaining(`${label(first)} ends at seq 2, ${label(second)} starts at seq 4`) })]);
  });

  it('one seq in two archives → ARCHIVE_OVERLAP; an archive replaced → ARCHIVE_EDITED naming it', async () => {
    const copied = copy();
    const folder = join(copied, label(second));
    const manifest = readManifest(folder);
    const file = join(folder, 'entries.jsonl.gz');
    const january = readLines(join(copied, label(first), 'entries.jsonl.gz')).filter((line) => line.includes(`"chain_id":"${chainB}"`));
    writeLines(file, [...january.slice(-1), ...readLines(file)]);
    writeSigned(folder, { ...manifest, entriesSha256: sha256Hex(readFileSync(file)) }, signer);
    const problems = await verifyCopy(copied);
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'ARCHIVE_OVERLAP', month: label(second), chainId: chainB, seq: 2 }));

    const replaced = copy();
    const older = join(replaced, label(first));
    writeSigned(older, { ...readManifest(older), createdAt: new Date(0).toISOString() }, signer);
    expect(await verifyCopy(replaced)).toEqual([expect.objectContaining({ kind: 'ARCHIVE_EDITED', month: label(first), detail: expect.stringContaining('it was replaced') })]);
  });
});

describeEachStore('archives across a crash between archiving and detaching, on $name', (target) => {
  let store: Store;
  let dir: string;
  let signer: NoteSigner;
  const now = new Date();
  const [month] = oldMonths(now);
  const chainId = `gw-crash-${Date.now()}`;

  beforeAll(async () => {
    store = await target.open();
    dir = mkdtempSync(join(tmpdir(), 'isthmus-archives-crash-'));
    signer = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
    let clock = month;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer: await createTestSigner(), checkpointEvery: 2, maxBatch: 2, now: () => clock });
    for (let index = 0; index < 4; index++) await writer.append(sampleEntry({ occurredAt: new Date(month.getTime() + index * 1_000) }));
    clock = now;
    for (let index = 0; index < 2; index++) await writer.append(sampleEntry({ occurredAt: new Date(now.getTime() + index) }));
    await writer.close();
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a run stopped after the archive was written leaves the month attached: verify says the same entries are pending detach (exit-worthy nothing); the next run reuses the archive, never rewrites it', async () => {
    const stop = new AbortController();
    // The run stops the moment it reads the archive back: the archive is in place, the month not yet detached.
    const stopping: ArchiveTarget = {
      dir,
      signer,
      logName: LOG_NAME,
      get verifiers() {
        stop.abort();
        return [parseVerifierKey(signer.verifierKey)];
      },
    };
    await expect(detachExpiredPartitions(store.db, now, { archive: stopping, signal: stop.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const folder = join(dir, label(month));
    const bytes = readFileSync(join(folder, 'entries.jsonl.gz'));
    const attached = await store.db.selectFrom('access_log').select('seq').where('chain_id', '=', chainId).execute();
    expect(attached).toHaveLength(6);

    const verifier = parseVerifierKey(signer.verifierKey);
    const offline = await verifyArchives(dir, { logKeys: [verifier] });
    expect(offline.problems).toEqual([]);
    const joined = await compareArchivesWithDatabase(store.db, offline);
    expect(joined.problems).toEqual([]);
    expect(joined.pendingDetach).toEqual([{ chainId, month: label(month), fromSeq: 1, toSeq: 4 }]);

    const detached = await detachExpiredPartitions(store.db, now, { archive: { dir, signer, logName: LOG_NAME } });
    expect(detached.find((partition) => partition.table === 'access_log')?.archived).toEqual({ month: label(month), reused: true });
    expect(readFileSync(join(folder, 'entries.jsonl.gz')).equals(bytes)).toBe(true);
    const after = await compareArchivesWithDatabase(store.db, await verifyArchives(dir, { logKeys: [verifier] }));
    expect(after).toMatchObject({ problems: [], pendingDetach: [] });
    expect((await verifyAccessLog(store.db)).problems).toEqual([]);
  });

  it('an archive already there that differs from the month is not overwritten, and the month is not detached', async () => {
    const other = await target.open();
    const otherDir = mkdtempSync(join(tmpdir(), 'isthmus-archives-conflict-'));
    try {
      let clock = month;
      const writer = createAccessLogWriter({ db: other.db, chainId, signer: await createTestSigner(), checkpointEvery: 2, maxBatch: 2, now: () => clock });
      for (let index = 0; index < 3; index++) await writer.append(sampleEntry({ occurredAt: new Date(month.getTime() + index * 1_000) }));
      clock = now;
      await writer.append(sampleEntry({ occurredAt: now }));
      await writer.close();
      // The folder holds another database's month (the crash test's archive): same chain id, other entries.
      cpSync(dir, otherDir, { recursive: true });
      const before = readFileSync(join(otherDir, label(month), 'manifest.json'));
      await expect(detachExpiredPartitions(other.db, now, { archive: { dir: otherDir, signer, logName: LOG_NAME } })).rejects.toMatchObject({ code: 'ACCESS_LOG_ARCHIVE_CONFLICT' });
      expect(readFileSync(join(otherDir, label(month), 'manifest.json')).equals(before)).toBe(true);
      const kept = await sql<{ count: string | number }>`select count(*) as count from access_log where chain_id = ${chainId}`.execute(other.db);
      expect(Number(kept.rows[0]!.count)).toBe(4);
      expect(await other.db.selectFrom('access_log_detachments').selectAll().execute()).toEqual([]);
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
