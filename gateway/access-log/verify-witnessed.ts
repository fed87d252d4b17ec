import { createHash } from 'node:crypto';
import {
  isLogProofError,
  KeyUnknown,
  parseCheckpoint,
  parseNote,
  verifyCheckpoint,
  verifyNote,
  type Checkpoint,
  type NoteVerifier,
} from '../../packages/isthmus-log-proofs/src/index.ts';
import type { WitnessConfig } from './witness-config.ts';
import { DEFAULT_LOG_NAME } from './log-tree-note-key.ts';
import { problem, type AccessLogProblem, type WitnessReport } from './verify-report.ts';

/** How long one witness may take to answer one request. */
export const DEFAULT_WITNESS_TIMEOUT_MS = 30_000;
export { DEFAULT_LOG_NAME };

/** One checkpoint the witnesses cosigned, with the log's signature checked against a pinned key. */
export interface WitnessedCheckpoint {
  readonly chainId: string;
  readonly origin: string;
  /** Its place in the chain's succession of checkpoints (#0 is the one at start-up); -1 when the witnesses do not show how it follows #0. */
  readonly number: number;
  readonly checkpoint: Checkpoint;
  /** Hex SHA-256 of the signed text: how a database row is matched with it. */
  readonly textHash: string;
  readonly final: boolean;
  /** The witnesses whose cosignature on it verified, each once. */
  readonly cosignedBy: readonly string[];
}

/** What the witnesses say about the log, checked. */
export interface WitnessedEvidence {
  /** Per chain, its witnessed checkpoints in succession order (then by size). */
  readonly byChain: ReadonlyMap<string, readonly WitnessedCheckpoint[]>;
  readonly witnesses: readonly WitnessReport[];
  /** Problems seen in the witnesses' answers alone (a witness unreadable, a fork of history, a checkpoint no pinned key signed). */
  readonly problems: readonly AccessLogProblem[];
}

export interface FetchWitnessedOptions {
  readonly witnesses: readonly WitnessConfig[];
  /** The log name; origins are `<log name>/<chain id>`. Default {@link DEFAULT_LOG_NAME}. */
  readonly logName?: string;
  /** The pinned log keys. Empty: the log's signature is not checked (only the witnesses'), and the report says so. */
  readonly logKeys: readonly NoteVerifier[];
  readonly signal?: AbortSignal;
  /** Default {@link DEFAULT_WITNESS_TIMEOUT_MS} per request. */
  readonly timeoutMs?: number;
}

interface RawCheckpoint {
  readonly origin: string;
  readonly note: string;
}

/**
 * Fetches, from every witness, every checkpoint it cosigned under the log
 * name (`GET /checkpoints?prefix=`, then `GET /checkpoints/history` per
 * origin), checks each note's log signature against the pinned log keys and
 * the witness's cosignature against its pinned key, and merges what the
 * witnesses agree on. Nothing here reads the database.
 *
 * @example
 * const evidence = await fetchWitnessedCheckpoints({ witnesses: parseWitnessList(env.ISTHMUS_WITNESSES), logKeys });
 */
export async function fetchWitnessedCheckpoints(options: FetchWitnessedOptions): Promise<WitnessedEvidence> {
  const logName = options.logName ?? DEFAULT_LOG_NAME;
  const prefix = `${logName}/`;
  const problems: AccessLogProblem[] = [];
  const reports: WitnessReport[] = [];
  /** Per origin, per text hash: the checkpoint and who cosigned it. */
  const seen = new Map<string, Map<string, { checkpoint: Checkpoint; cosignedBy: Set<string> }>>();

  const answers = await Promise.all(options.witnesses.map((witness) => readWitness(witness, prefix, options).then((raw) => ({ witness, raw }), (error: unknown) => ({ witness, error }))));
  for (const answer of answers) {
    const { witness } = answer;
    if ('error' in answer) {
      const error = answer.error instanceof Error ? answer.error.message : 'unreadable answer';
      reports.push({ name: witness.name, url: witness.url, ok: false, checkpoints: 0, error });
      problems.push(problem('WITNESS_UNAVAILABLE', '', { detail: `witness ${witness.name} at ${witness.url} could not be read: ${error}` }));
      continue;
    }
    let accepted = 0;
    let refused: string | undefined;
    for (const item of answer.raw) {
      const chainId = item.origin.slice(prefix.length);
      let checkpoint: Checkpoint;
      try {
        checkpoint = checkNote(item, witness.verifier, options.logKeys);
      } catch (error) {
        if (!isLogProofError(error)) throw error;
        const size = sizeOf(item.note);
        if (error instanceof KeyUnknown && options.logKeys.length > 0 && cosignedBy(item.note, witness.verifier)) {
          problems.push(
            problem('UNKNOWN_KEY', chainId, { detail: `witness ${witness.name} cosigned a checkpoint of size ${size ?? '?'} that no pinned log key signed: the pinned keys are incomplete, or the log's key was replaced` }),
          );
        } else {
          refused ??= `a checkpoint of ${item.origin} (size ${size ?? '?'}) does not verify: ${error.message}`;
        }
        continue;
      }
      accepted += 1;
      const byText = seen.get(item.origin) ?? new Map();
      seen.set(item.origin, byText);
      const textHash = sha256Hex(checkpoint.text);
      const entry = byText.get(textHash) ?? { checkpoint, cosignedBy: new Set<string>() };
      entry.cosignedBy.add(witness.name);
      byText.set(textHash, entry);
    }
    if (refused !== undefined) problems.push(problem('WITNESS_UNAVAILABLE', '', { detail: `witness ${witness.name}: ${refused}` }));
    reports.push({ name: witness.name, url: witness.url, ok: refused === undefined, checkpoints: accepted, ...(refused === undefined ? {} : { error: refused }) });
  }

  const byChain = new Map<string, WitnessedCheckpoint[]>();
  for (const [origin, byText] of seen) {
    const chainId = origin.slice(prefix.length);
    const { ordered, forks } = orderSuccession(chainId, origin, byText);
    byChain.set(chainId, ordered);
    problems.push(...forks);
  }
  return { byChain, witnesses: reports, problems };
}

/** Reads everything one witness cosigned under `prefix`. */
async function readWitness(witness: WitnessConfig, prefix: string, options: FetchWitnessedOptions): Promise<RawCheckpoint[]> {
  const latest = await getJson(`${witness.url}/checkpoints?prefix=${encodeURIComponent(prefix)}`, options);
  const origins = new Set<string>();
  for (const item of listOf(latest)) if (typeof item.origin === 'string' && item.origin.startsWith(prefix)) origins.add(item.origin);
  const raw: RawCheckpoint[] = [];
  for (const origin of origins) {
    const history = await getJson(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(origin)}`, options);
    for (const item of listOf(history)) {
      if (typeof item.note !== 'string') throw new Error(`the history of ${origin} holds an item without a note`);
      raw.push({ origin, note: item.note });
    }
  }
  return raw;
}

async function getJson(url: string, options: FetchWitnessedOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response | undefined;
  // Once more after a network error: a kept-alive connection the witness has just closed fails the first try.
  for (let attempt = 1; response === undefined; attempt++) {
    try {
      response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    } catch (error) {
      options.signal?.throwIfAborted();
      if (timeout.aborted || attempt >= 2) throw new Error(timeout.aborted ? 'no answer in time' : 'not reachable', { cause: error });
    }
  }
  if (!response.ok) throw new Error(`answered HTTP ${response.status}`);
  try {
    return await response.json();
  } catch (error) {
    throw new Error('answered something that is not JSON', { cause: error });
  }
}

function listOf(body: unknown): Record<string, unknown>[] {
  const list = (body as { checkpoints?: unknown } | null)?.checkpoints;
  if (!Array.isArray(list)) throw new Error('answered JSON without a "checkpoints" list');
  return list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** The log's signature (pinned keys) and this witness's cosignature; throws a log-proofs error. */
function checkNote(item: RawCheckpoint, witness: NoteVerifier, logKeys: readonly NoteVerifier[]): Checkpoint {
  if (logKeys.length > 0) return verifyCheckpoint(item.note, { origin: item.origin, logKeys, witnesses: [witness], quorum: 1 });
  verifyNote(item.note, [witness]);
  const checkpoint = parseCheckpoint(parseNote(item.note).text);
  if (checkpoint.origin !== item.origin) throw new KeyUnknown('the checkpoint is for another origin than the witness listed it under');
  return checkpoint;
}

function cosignedBy(note: string, witness: NoteVerifier): boolean {
  try {
    verifyNote(note, [witness]);
    return true;
  } catch {
    return false;
  }
}

function sizeOf(note: string): number | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return undefined;
  }
}

/** Hex SHA-256 of a checkpoint's signed text. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Orders one origin's checkpoints by their `previous` links from the one
 * that names none (#0). Two checkpoints naming the same predecessor are a
 * fork of history: the one more witnesses cosigned is followed, the fork is
 * reported. Checkpoints not reachable from #0 follow, by size, unnumbered.
 */
function orderSuccession(chainId: string, origin: string, byText: ReadonlyMap<string, { checkpoint: Checkpoint; cosignedBy: Set<string> }>) {
  const item = (textHash: string, number: number): WitnessedCheckpoint => {
    const { checkpoint, cosignedBy } = byText.get(textHash)!;
    return { chainId, origin, number, checkpoint, textHash, final: checkpoint.extensions.includes('final'), cosignedBy: [...cosignedBy].sort() };
  };
  const children = new Map<string, string[]>();
  let root: string | undefined;
  for (const [textHash, { checkpoint }] of byText) {
    if (checkpoint.previous === undefined) {
      root = root === undefined || checkpoint.size < byText.get(root)!.checkpoint.size ? textHash : root;
      continue;
    }
    const parent = Buffer.from(checkpoint.previous.hash).toString('hex');
    children.set(parent, [...(children.get(parent) ?? []), textHash]);
  }
  const ordered: WitnessedCheckpoint[] = [];
  const forks: AccessLogProblem[] = [];
  const placed = new Set<string>();
  for (let at = root, number = 0; at !== undefined && !placed.has(at); number++) {
    ordered.push(item(at, number));
    placed.add(at);
    const next = [...(children.get(at) ?? [])].sort((a, b) => byText.get(b)!.cosignedBy.size - byText.get(a)!.cosignedBy.size);
    if (next.length > 1) {
      forks.push(
        problem('REWRITTEN', chainId, {
          checkpoint: number + 1,
          detail: `the witnesses hold ${next.length} different checkpoints that each claim to follow checkpoint #${number} of ${origin}: the log's history was forked`,
        }),
      );
    }
    at = next[0];
  }
  const rest = [...byText.keys()].filter((textHash) => !placed.has(textHash)).map((textHash) => item(textHash, -1));
  rest.sort((a, b) => a.checkpoint.size - b.checkpoint.size);
  return { ordered: [...ordered, ...rest], forks };
}
