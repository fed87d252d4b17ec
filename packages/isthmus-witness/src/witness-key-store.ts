import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateNoteKey,
  isLogProofError,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from '../../isthmus-log-proofs/src/index.ts';
import { writeFileDurably } from './durable-file.ts';
import { WitnessSetupError } from './witness-setup-error.ts';

/** The private key file in the data directory: one line, `PRIVATE+KEY+<name>+<id>+<base64>`, mode 0600. */
export const KEY_FILE = 'witness.key';
/** The history of the witness's public keys, current and past, in the data directory. */
export const KEY_HISTORY_FILE = 'keys.json';

/** One key the witness signed with, as `/.well-known/isthmus-witness-keys` publishes it. */
export interface WitnessKeyRecord {
  readonly vkey: string;
  /** ISO-8601 UTC: when the key was made (its first use follows at once). */
  readonly firstUsedAt: string;
}

/** The witness's keys: the one it signs with now, and every one it signed with. */
export interface WitnessKeys {
  readonly signer: NoteSigner;
  /** Oldest first; the current key is among them. */
  readonly history: readonly WitnessKeyRecord[];
  /** Parsed `history`, to check the witness's own past cosignatures. */
  readonly verifiers: readonly NoteVerifier[];
}

async function readSigner(dataDir: string, name: string): Promise<NoteSigner | undefined> {
  const path = join(dataDir, KEY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WitnessSetupError('KEY_FILE_INVALID', `${KEY_FILE} cannot be read`, { cause: error });
  }
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    throw new WitnessSetupError('KEY_FILE_INVALID', `${KEY_FILE} is readable by other users; chmod 600 it (or rotate the key, as it may have leaked)`);
  }
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(text.trim());
  } catch (error) {
    if (isLogProofError(error)) throw new WitnessSetupError('KEY_FILE_INVALID', `${KEY_FILE} does not hold a note signer key`, { cause: error });
    throw error;
  }
  if (signer.name !== name) throw new WitnessSetupError('KEY_FILE_INVALID', `${KEY_FILE} is a key for "${signer.name}", not "${name}"`);
  return signer;
}

async function readHistory(dataDir: string, name: string): Promise<WitnessKeyRecord[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, KEY_HISTORY_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WitnessSetupError('KEY_HISTORY_INVALID', `${KEY_HISTORY_FILE} cannot be read`, { cause: error });
  }
  const invalid = (why: string, cause?: unknown) => new WitnessSetupError('KEY_HISTORY_INVALID', `${KEY_HISTORY_FILE} ${why}`, { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid('is not JSON', error);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if ((parsed as { name?: unknown }).name !== name || !Array.isArray(keys)) throw invalid(`is not { "name": "${name}", "keys": [ … ] }`);
  return keys.map((key: unknown, index) => {
    const { vkey, firstUsedAt } = (key ?? {}) as Record<string, unknown>;
    if (typeof vkey !== 'string' || typeof firstUsedAt !== 'string' || Number.isNaN(Date.parse(firstUsedAt))) throw invalid(`key ${index + 1} is not { "vkey", "firstUsedAt" }`);
    try {
      if (parseVerifierKey(vkey).name !== name) throw invalid(`key ${index + 1} is for another name`);
    } catch (error) {
      if (isLogProofError(error)) throw invalid(`key ${index + 1} is not a verifier key`, error);
      throw error;
    }
    return { vkey, firstUsedAt };
  });
}

async function writeHistory(dataDir: string, name: string, history: readonly WitnessKeyRecord[]): Promise<void> {
  await writeFileDurably(join(dataDir, KEY_HISTORY_FILE), `${JSON.stringify({ name, keys: history }, null, 2)}\n`, 0o644);
}

async function createSigner(dataDir: string, name: string): Promise<NoteSigner> {
  const { signerKey } = generateNoteKey(name);
  await writeFileDurably(join(dataDir, KEY_FILE), `${signerKey}\n`, 0o600);
  return parseSignerKey(signerKey);
}

async function settle(dataDir: string, name: string, signer: NoteSigner, now: Date): Promise<WitnessKeys> {
  let history = await readHistory(dataDir, name);
  // A crash between writing a key and recording it leaves the key unlisted: list it now.
  if (!history.some((record) => record.vkey === signer.verifierKey)) {
    history = [...history, { vkey: signer.verifierKey, firstUsedAt: now.toISOString() }];
    await writeHistory(dataDir, name, history);
  }
  return { signer, history, verifiers: history.map((record) => parseVerifierKey(record.vkey)) };
}

/**
 * Loads the witness's key from its data directory, creating the directory,
 * the key (0600) and its history on first use. Throws `WitnessSetupError`
 * (`KEY_FILE_INVALID`, `KEY_HISTORY_INVALID`).
 *
 * @example
 * const { signer } = await loadWitnessKeys('/var/lib/isthmus-witness', 'audit-office.demo-city', new Date());
 */
export async function loadWitnessKeys(dataDir: string, name: string, now: Date): Promise<WitnessKeys> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const signer = (await readSigner(dataDir, name)) ?? (await createSigner(dataDir, name));
  return settle(dataDir, name, signer, now);
}

/**
 * Makes a new current key; the old one stays in the history, so the
 * cosignatures it made stay verifiable (its private half is gone). Run it
 * while the witness is stopped (the caller holds the data directory's lock).
 */
export async function rotateWitnessKeys(dataDir: string, name: string, now: Date): Promise<WitnessKeys> {
  await loadWitnessKeys(dataDir, name, now);
  return settle(dataDir, name, await createSigner(dataDir, name), now);
}
