import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';

/**
 * The files one key has been rotated through, in a keys folder: the first
 * key under its own name (`gateway-signing.json`), each later one numbered
 * before the extension (`gateway-signing.2.json`, `gateway-signing.3.json`,
 * …). The highest number is the key in use; the others are older keys,
 * still published for what they signed.
 *
 * Rotating is adding a file, never rewriting one: replicas that share the
 * folder (a mounted secret) and have not reloaded yet keep reading the key
 * they sign with, and a key made by a replica is linked into place under a
 * number no other file holds, so two replicas cannot make two keys of the
 * same number.
 */
export interface RotatedKeyFile {
  /** 1 for the unnumbered first file. */
  readonly number: number;
  readonly fileName: string;
}

/** Highest key number accepted in a file name: far past any rotation schedule, and safe as a number. */
const MAX_KEY_NUMBER = 1_000_000;

/**
 * The file name of key `number` of `fileName`'s rotation.
 *
 * @example
 * rotatedKeyFileName('access-log-note.key', 2); // 'access-log-note.2.key'
 */
export function rotatedKeyFileName(fileName: string, number: number): string {
  if (!Number.isSafeInteger(number) || number < 1 || number > MAX_KEY_NUMBER) throw new TypeError(`a key number is a whole number from 1 to ${MAX_KEY_NUMBER}`);
  if (number === 1) return fileName;
  const extension = extname(fileName);
  return `${fileName.slice(0, fileName.length - extension.length)}.${number}${extension}`;
}

/**
 * The files of `fileName`'s rotation present in `dir`, oldest first; empty
 * when there are none (or no folder yet). Temporary files and anything else
 * in the folder are ignored.
 *
 * @example
 * const files = await listRotatedKeyFiles('.isthmus', 'gateway-signing.json');
 * const current = files.at(-1); // { number: 2, fileName: 'gateway-signing.2.json' }
 */
export async function listRotatedKeyFiles(dir: string, fileName: string): Promise<readonly RotatedKeyFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const extension = extname(fileName);
  const stem = fileName.slice(0, fileName.length - extension.length);
  const files: RotatedKeyFile[] = [];
  for (const name of names) {
    if (name === fileName) {
      files.push({ number: 1, fileName: name });
      continue;
    }
    if (!name.startsWith(`${stem}.`) || !name.endsWith(extension)) continue;
    const digits = name.slice(stem.length + 1, name.length - extension.length);
    // Canonical numbers only (no `02`, no `1`): one file per number.
    if (!/^[1-9]\d*$/u.test(digits)) continue;
    const number = Number(digits);
    if (number >= 2 && number <= MAX_KEY_NUMBER) files.push({ number, fileName: name });
  }
  return files.sort((a, b) => a.number - b.number);
}
