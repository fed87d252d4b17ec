import { readFile, stat } from 'node:fs/promises';
import { isLogProofError, parseVerifierKey, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';

export { LOG_KEYS_PATH } from './log-tree-keys.ts';
/** How long fetching a key list may take. */
export const DEFAULT_LOG_KEYS_TIMEOUT_MS = 10_000;
/** Largest key list read: a few KiB is a key list, far more is not. */
export const MAX_LOG_KEYS_BYTES = 1_048_576;

/** Every code of {@link LogKeysUnreadable}. */
export type LogKeysErrorCode = 'LOG_KEYS_UNREACHABLE' | 'LOG_KEYS_INVALID' | 'LOG_KEYS_EMPTY';

/** The log keys an auditor named cannot be used; the message names the source and what is wrong, never a key. */
export class LogKeysUnreadable extends Error {
  override readonly name = 'LogKeysUnreadable';
  readonly code: LogKeysErrorCode;
  constructor(code: LogKeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Log keys pinned from outside the database, and what they came with. */
export interface PinnedLogKeys {
  readonly keys: readonly NoteVerifier[];
  /** The log name the source states, if it states one. */
  readonly logName?: string;
}

/**
 * Reads pinned log keys from an `http(s)://` URL (the gateway's
 * {@link LOG_KEYS_PATH}, or a copy kept elsewhere) or a file: the JSON
 * `{ "logName", "keys": [ { "vkey" } ] }` the gateway publishes, or a text
 * file of verifier keys, one a line (`#` comments allowed).
 *
 * @throws LogKeysUnreadable: `LOG_KEYS_UNREACHABLE`, `LOG_KEYS_INVALID`, `LOG_KEYS_EMPTY`.
 * @example
 * const { keys } = await loadLogKeys('http://127.0.0.1:4000/.well-known/isthmus-log-keys', { signal });
 */
export async function loadLogKeys(source: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {}): Promise<PinnedLogKeys> {
  const text = /^https?:\/\//iu.test(source) ? await fetchText(source, options) : await readText(source, options.signal);
  return parseLogKeys(text, source);
}

/** Parses a key list (JSON as published, or vkeys one a line); `source` names it in errors. */
export function parseLogKeys(text: string, source: string): PinnedLogKeys {
  let vkeys: unknown[];
  let logName: string | undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (cause) {
      throw new LogKeysUnreadable('LOG_KEYS_INVALID', `the log keys ${source} are not valid JSON`, { cause });
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new LogKeysUnreadable('LOG_KEYS_INVALID', `the log keys ${source} have no "keys" list`);
    const name = (parsed as { logName?: unknown } | null)?.logName;
    if (typeof name === 'string' && name !== '') logName = name;
    vkeys = list.map((item: unknown) => (typeof item === 'string' ? item : (item as { vkey?: unknown } | null)?.vkey));
  } else {
    vkeys = trimmed.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  }
  if (vkeys.length === 0) throw new LogKeysUnreadable('LOG_KEYS_EMPTY', `the log keys ${source} hold no key, so no checkpoint can be checked against them`);
  const keys = vkeys.map((vkey, index) => {
    if (typeof vkey !== 'string') throw new LogKeysUnreadable('LOG_KEYS_INVALID', `key ${index + 1} of the log keys ${source} has no "vkey"`);
    try {
      return parseVerifierKey(vkey);
    } catch (cause) {
      if (!isLogProofError(cause)) throw cause;
      throw new LogKeysUnreadable('LOG_KEYS_INVALID', `key ${index + 1} of the log keys ${source} is not "<name>+<8 hex id>+<base64 key>"`, { cause });
    }
  });
  return { keys, ...(logName === undefined ? {} : { logName }) };
}

async function fetchText(url: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number }): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOG_KEYS_TIMEOUT_MS;
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  } catch (cause) {
    throw new LogKeysUnreadable('LOG_KEYS_UNREACHABLE', `cannot fetch the log keys ${url} (${signal.aborted && !options.signal?.aborted ? `no answer within ${timeoutMs} ms` : 'connection failed'})`, { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new LogKeysUnreadable('LOG_KEYS_UNREACHABLE', `cannot fetch the log keys ${url} (HTTP ${response.status})`);
  }
  const text = await response.text();
  if (text.length > MAX_LOG_KEYS_BYTES) throw new LogKeysUnreadable('LOG_KEYS_INVALID', `the log keys ${url} are larger than ${MAX_LOG_KEYS_BYTES} bytes: not a key list`);
  return text;
}

async function readText(file: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    if ((await stat(file)).size > MAX_LOG_KEYS_BYTES) throw new LogKeysUnreadable('LOG_KEYS_INVALID', `the log keys file ${file} is larger than ${MAX_LOG_KEYS_BYTES} bytes: not a key list`);
    return await readFile(file, { encoding: 'utf8', signal });
  } catch (cause) {
    if (cause instanceof LogKeysUnreadable) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new LogKeysUnreadable('LOG_KEYS_UNREACHABLE', `cannot read the log keys file ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'failed')})`, { cause });
  }
}
