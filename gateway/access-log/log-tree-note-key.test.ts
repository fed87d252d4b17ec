import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../packages/isthmus-log-proofs/src/index.ts';
import { rotatedKeyFileName } from '../auth/rotated-key-files.ts';
import { LOG_NOTE_KEY_FILE, LOG_NOTE_KEY_HISTORY_FILE, openLogNoteKey } from './log-tree-note-key.ts';

const root = mkdtempSync(join(tmpdir(), 'isthmus-note-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(root, `keys-${(folders += 1)}`);
const LOG = 'isthmus.test/access-log';

/** The operator's step: the next note key of the rotation, written 0600, dated `at`. */
function addNoteKey(dir: string, number: number, at: Date, logName = LOG): string {
  const { signerKey, verifierKey } = generateNoteKey(logName);
  const file = join(dir, rotatedKeyFileName(LOG_NOTE_KEY_FILE, number));
  writeFileSync(file, `${signerKey}\n`, { mode: 0o600 });
  utimesSync(file, at, at);
  return verifierKey;
}

describe('the log note key in a shared keys folder', () => {
  it('is made once when replicas start together on an empty folder', async () => {
    const dir = folder();
    const keys = await Promise.all(Array.from({ length: 4 }, () => openLogNoteKey({ dir, logName: LOG })));
    expect(new Set(keys.map((key) => key.signer.verifierKey)).size).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([LOG_NOTE_KEY_HISTORY_FILE, LOG_NOTE_KEY_FILE].sort());
  });

  it('rotates to an added numbered key, keeping every earlier key in the history, current first', async () => {
    const dir = folder();
    const first = await openLogNoteKey({ dir, logName: LOG });
    const added = addNoteKey(dir, 2, new Date('2026-05-02T00:00:00Z'));
    const rotated = await openLogNoteKey({ dir, logName: LOG });
    expect(rotated.signer.verifierKey).toBe(added);
    expect(rotated.history).toEqual([
      { vkey: added, current: true, firstUsedAt: '2026-05-02T00:00:00.000Z' },
      { vkey: first.signer.verifierKey, current: false, firstUsedAt: first.history[0]!.firstUsedAt },
    ]);
    // Written down where the folder allows: the published history no longer needs the key files.
    expect(JSON.parse(readFileSync(join(dir, LOG_NOTE_KEY_HISTORY_FILE), 'utf8')).keys.map((key: { vkey: string }) => key.vkey)).toEqual([added, first.signer.verifierKey]);
  });

  it('gives every replica the same history from a folder whose history lacks the new key (a read-only mount): dated by the file', async () => {
    const dir = folder();
    mkdirSync(dir, { mode: 0o700 });
    const v1 = addNoteKey(dir, 1, new Date('2026-01-01T00:00:00Z'));
    const v2 = addNoteKey(dir, 2, new Date('2026-03-01T00:00:00Z'));
    const opened = await Promise.all([openLogNoteKey({ dir, logName: LOG, now: new Date('2026-06-01T00:00:00Z') }), openLogNoteKey({ dir, logName: LOG, now: new Date('2026-07-01T00:00:00Z') })]);
    expect(opened[0]!.history).toEqual([
      { vkey: v2, current: true, firstUsedAt: '2026-03-01T00:00:00.000Z' },
      { vkey: v1, current: false, firstUsedAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(opened[1]!.history).toEqual(opened[0]!.history);
  });

  it('follows a renamed log with the next numbered key instead of rewriting the file, once for replicas starting together', async () => {
    const dir = folder();
    const old = await openLogNoteKey({ dir, logName: LOG });
    const before = statSync(join(dir, LOG_NOTE_KEY_FILE)).mtimeMs;
    const renamed = await Promise.all(Array.from({ length: 3 }, () => openLogNoteKey({ dir, logName: 'isthmus.renamed/access-log' })));
    expect(new Set(renamed.map((key) => key.signer.verifierKey)).size).toBe(1);
    expect(renamed[0]!.signer.name).toBe('isthmus.renamed/access-log');
    expect(statSync(join(dir, LOG_NOTE_KEY_FILE)).mtimeMs).toBe(before);
    expect(readdirSync(dir)).toContain(rotatedKeyFileName(LOG_NOTE_KEY_FILE, 2));
    expect(renamed[0]!.history.map((key) => key.vkey)).toEqual([renamed[0]!.signer.verifierKey, old.signer.verifierKey]);
  });

  it('refuses an added key open to other users, naming the file and never the key', async () => {
    const dir = folder();
    await openLogNoteKey({ dir, logName: LOG });
    const file = join(dir, rotatedKeyFileName(LOG_NOTE_KEY_FILE, 2));
    writeFileSync(file, `${generateNoteKey(LOG).signerKey}\n`, { mode: 0o644 });
    const error = (await openLogNoteKey({ dir, logName: LOG }).catch((caught: unknown) => caught)) as Error & { code: string };
    expect(error.code).toBe('LOG_NOTE_KEY_UNUSABLE');
    expect(error.message).toContain(file);
    expect(error.message).not.toContain('PRIVATE');
  });
});
