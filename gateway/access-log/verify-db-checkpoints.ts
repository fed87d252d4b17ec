import { sql, type Transaction } from 'kysely';
import {
  isLogProofError,
  KeyUnknown,
  parseCheckpoint,
  parseNote,
  previousCheckpointOf,
  SignatureInvalid,
  verifyNote,
  type Checkpoint,
  type NoteVerifier,
} from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { sha256Hex, type WitnessedCheckpoint } from './verify-witnessed.ts';
import { problem, type AccessLogProblem } from './verify-report.ts';

/**
 * A size at which the tree of the chain's entries must have a given root:
 * a witnessed checkpoint, or a checkpoint of the database's own table that
 * no witness cosigned (checked against the pinned log keys).
 */
export interface TreeAnchor {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The checkpoint's number in the chain (-1 if not known). */
  readonly number: number;
  /** The witnesses that cosigned it; empty for a database-only checkpoint. */
  readonly witnesses: readonly string[];
  readonly final: boolean;
}

/** What the database's checkpoint table of one chain says, checked. */
export interface DbCheckpointsResult {
  readonly count: number;
  /** How many verified with a pinned log key (0 without pinned keys). */
  readonly signedByPinned: number;
  /** Database checkpoints that verified but that no witness cosigned, for the entry walk to check roots against. */
  readonly anchors: readonly TreeAnchor[];
  readonly problems: readonly AccessLogProblem[];
}

interface CheckpointRow {
  readonly number: number;
  readonly size: string | number;
  readonly root_hash: string;
  readonly note: string;
  readonly final: boolean;
}

/**
 * Checks one chain's rows of `access_log_tree_checkpoints`, in number order
 * and in pages: each note parses, is for the chain's origin, matches its
 * columns, and is signed by a pinned log key (a key merely listed in
 * `access_log_note_keys` counts for nothing); numbers have no gap; each
 * names the one before it; and every checkpoint the witnesses cosigned is
 * there, exactly as they cosigned it.
 */
export async function checkDbCheckpoints(
  trx: Transaction<StoreSchema>,
  chain: { readonly chainId: string; readonly origin: string },
  witnessed: readonly WitnessedCheckpoint[],
  logKeys: readonly NoteVerifier[],
  pageSize: number,
  signal: AbortSignal | undefined,
): Promise<DbCheckpointsResult> {
  const { chainId, origin } = chain;
  const problems: AccessLogProblem[] = [];
  const anchors: TreeAnchor[] = [];
  const byNumber = new Map(witnessed.filter((w) => w.number >= 0).map((w) => [w.number, w]));
  const byText = new Map(witnessed.map((w) => [w.textHash, w]));
  const found = new Set<string>();
  let previous: { number: number; checkpoint: Checkpoint } | undefined;
  let count = 0;
  let signedByPinned = 0;
  let after = -1;

  for (;;) {
    signal?.throwIfAborted();
    const { rows } = await sql<CheckpointRow>`
      select number, size, root_hash, note, final from access_log_tree_checkpoints
      where chain_id = ${chainId} and number > ${after} order by number limit ${pageSize}`.execute(trx);
    for (const row of rows) {
      count += 1;
      const number = Number(row.number);
      const at = (detail: string) => ({ checkpoint: number, detail });
      if (number !== (previous?.number ?? -1) + 1) {
        const first = (previous?.number ?? -1) + 1;
        const missing = first === number - 1 ? `checkpoint #${first} is` : `checkpoints #${first}–#${number - 1} are`;
        problems.push(problem('CHECKPOINT_MISSING', chainId, { checkpoint: first, detail: `${missing} missing from the database (checkpoint #${number} follows #${first - 1})` }));
      }
      let checkpoint: Checkpoint;
      try {
        checkpoint = parseCheckpoint(parseNote(row.note).text);
      } catch (error) {
        if (!isLogProofError(error)) throw error;
        problems.push(problem('BAD_CHECKPOINT', chainId, at(`checkpoint #${number} in the database is not a readable signed checkpoint`)));
        previous = undefined;
        continue;
      }
      const textHash = sha256Hex(checkpoint.text);
      const sameAsColumns =
        checkpoint.origin === origin &&
        checkpoint.size === Number(row.size) &&
        Buffer.from(checkpoint.rootHash).toString('hex') === row.root_hash &&
        checkpoint.extensions.includes('final') === row.final;
      if (!sameAsColumns) problems.push(problem('CHECKPOINT_ALTERED', chainId, at(`checkpoint #${number}'s columns (origin, size, root or final) differ from the note that was signed`)));
      const signature = checkSignature(row.note, logKeys);
      if (signature === 'VALID') signedByPinned += 1;
      if (signature === 'UNKNOWN_KEY' || signature === 'BAD_SIGNATURE') {
        problems.push(
          signature === 'UNKNOWN_KEY'
            ? problem('UNKNOWN_KEY', chainId, at(`checkpoint #${number} (size ${checkpoint.size}) is signed by ${signerNames(row.note)}, which is not a pinned log key: it was re-signed with a foreign key`))
            : problem('BAD_CHECKPOINT', chainId, at(`checkpoint #${number} (size ${checkpoint.size}): its log signature does not verify`)),
        );
      }
      const witness = byText.get(textHash);
      const expected = byNumber.get(number);
      if (witness) {
        found.add(textHash);
      } else if (expected) {
        problems.push(
          problem('CHECKPOINT_ALTERED', chainId, at(`checkpoint #${number} in the database (size ${checkpoint.size}) is not the one ${expected.cosignedBy.join(', ')} cosigned (size ${expected.checkpoint.size})`)),
        );
      } else if ((signature === 'VALID' || signature === 'NOT_CHECKED') && sameAsColumns) {
        anchors.push({ size: checkpoint.size, rootHash: checkpoint.rootHash, number, witnesses: [], final: row.final });
      }
      if (previous && previous.number === number - 1) {
        const named = checkpoint.previous;
        const wanted = previousCheckpointOf(previous.checkpoint);
        if (named === undefined || named.size !== wanted.size || !Buffer.from(named.hash).equals(Buffer.from(wanted.hash))) {
          problems.push(problem('CHECKPOINT_ALTERED', chainId, at(`checkpoint #${number} does not name checkpoint #${previous.number} as the one before it`)));
        }
      } else if (number === 0 && checkpoint.previous !== undefined) {
        problems.push(problem('CHECKPOINT_ALTERED', chainId, at('checkpoint #0 names a previous checkpoint: the chain\'s start is not in the database')));
      }
      previous = { number, checkpoint };
    }
    if (rows.length < pageSize) break;
    after = Number(rows.at(-1)!.number);
  }

  for (const w of witnessed) {
    if (found.has(w.textHash)) continue;
    const name = w.number >= 0 ? `checkpoint #${w.number}` : 'a checkpoint';
    const known = problems.some((p) => p.checkpoint === w.number && p.kind === 'CHECKPOINT_ALTERED');
    if (!known) {
      problems.push(
        problem('CHECKPOINT_MISSING', chainId, {
          checkpoint: w.number >= 0 ? w.number : null,
          detail: `${name} (size ${w.checkpoint.size}${w.final ? ', final' : ''}), cosigned by ${w.cosignedBy.join(', ')}, is missing from the database`,
        }),
      );
    }
  }
  // One gap reported twice (by numbering and by the witnesses) says the same thing: keep the witnesses' words.
  const witnessedMissing = new Set(problems.filter((p) => p.kind === 'CHECKPOINT_MISSING' && p.detail.includes('cosigned by')).map((p) => p.checkpoint));
  const kept = problems.filter((p) => !(p.kind === 'CHECKPOINT_MISSING' && !p.detail.includes('cosigned by') && witnessedMissing.has(p.checkpoint)));
  return { count, signedByPinned, anchors, problems: kept };
}

function checkSignature(note: string, logKeys: readonly NoteVerifier[]): 'VALID' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'NOT_CHECKED' {
  if (logKeys.length === 0) return 'NOT_CHECKED';
  try {
    verifyNote(note, logKeys);
    return 'VALID';
  } catch (error) {
    if (error instanceof KeyUnknown) return 'UNKNOWN_KEY';
    if (error instanceof SignatureInvalid) return 'BAD_SIGNATURE';
    if (isLogProofError(error)) return 'BAD_SIGNATURE';
    throw error;
  }
}

/** The key names a note's signature lines give (public names, never key material). */
function signerNames(note: string): string {
  try {
    const names = [...new Set(parseNote(note).signatures.map((s) => `${s.name} (key id ${s.keyId.toString(16).padStart(8, '0')})`))];
    return names.length === 0 ? 'no key' : names.join(', ');
  } catch {
    return 'an unreadable signature';
  }
}
