import type { Transaction } from 'kysely';
import { createMerkleFrontier, equalHashes, hashLeaf, type MerkleFrontier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { GENESIS_HASH, hashAccessLogRecord, recordFromRow, type AccessLogRecord } from './access-log-record.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { TreeAnchor } from './verify-db-checkpoints.ts';
import { checkpointName, problem, type AccessLogProblem, type AccessLogProblemKind } from './verify-report.ts';
import { sameSubjects, subjectIndex } from './verify-subject-index.ts';
import { findWrittenSeq } from './verify-moved-entry.ts';

/** Where the walk starts: after what retention detached (seq 0, the genesis hash and an empty tree when nothing was). */
export interface WalkStart {
  readonly seq: number;
  readonly hash: string;
  /** The tree of entries 1..seq; undefined when retention recorded none (roots cannot then be recomputed). */
  readonly frontier: MerkleFrontier | undefined;
}

export interface WalkOptions {
  readonly chainId: string;
  readonly start: WalkStart;
  /** Sizes at which the tree's root is known, sorted by size. */
  readonly anchors: readonly TreeAnchor[];
  /** Entries past this size stand after a final checkpoint. */
  readonly finalAnchor: TreeAnchor | undefined;
  /** The first entry past this size is the first not covered. */
  readonly coveredSize: number;
  readonly pageSize: number;
  readonly signal: AbortSignal | undefined;
}

export interface WalkResult {
  readonly entries: number;
  /** The last seq the chain reaches (the start's seq if no entry remains). */
  readonly headSeq: number;
  readonly lastEntryId: string | null;
  readonly firstUncovered: { readonly seq: number; readonly entryId: string } | null;
  readonly problems: readonly AccessLogProblem[];
}

/** Problems reported per chain and kind at most (a rewritten chain would otherwise list every entry). */
const MAX_PROBLEMS_PER_KIND = 20;

interface Candidate {
  readonly record: AccessLogRecord;
  readonly selfOk: boolean;
  readonly linkOk: boolean;
}

/**
 * Walks one chain's entries in (seq, id) order, a page at a time, and
 * rebuilds its Merkle tree: each entry's hash is recomputed from its content
 * and its link to the one before is checked; the leaf `hashLeaf(hash bytes)`
 * goes into a frontier (O(log n) memory), whose root is compared with every
 * anchor's at its size. Problems name the entry: an edited one, one moved
 * (it hashes correctly only under another seq), a duplicate that is not the
 * one the chain links through, a gap, an entry after the final checkpoint.
 * A root that differs where no entry was found at fault means hashes were
 * recomputed consistently: the checkpoint and the range are named, since
 * nothing more precise can be known.
 */
export async function walkChainEntries(trx: Transaction<StoreSchema>, options: WalkOptions): Promise<WalkResult> {
  const { chainId, anchors, pageSize, signal } = options;
  const problems: AccessLogProblem[] = [];
  const perKind = new Map<AccessLogProblemKind, number>();
  const report = (kind: AccessLogProblemKind, fields: Parameters<typeof problem>[2]) => {
    const n = perKind.get(kind) ?? 0;
    perKind.set(kind, n + 1);
    if (n < MAX_PROBLEMS_PER_KIND) problems.push(problem(kind, chainId, fields));
  };

  const maxSeqRow = await trx.selectFrom('access_log').select(({ fn }) => fn.max('seq').as('max')).where('chain_id', '=', chainId).executeTakeFirst();
  const maxSeq = Number(maxSeqRow?.max ?? 0);

  let frontier = options.start.frontier;
  let expected = options.start.seq + 1;
  let prev: { seq: number; hash: string; id: string | null; reported: boolean } = { seq: options.start.seq, hash: options.start.hash, id: null, reported: false };
  let entries = 0;
  let firstUncovered: WalkResult['firstUncovered'] = null;
  /** Highest seq an entry-level problem was found at: a root mismatch at or above it is explained by it. */
  let lastBlamed = 0;
  let anchorAt = 0;
  let matched = { size: options.start.seq, number: -1 };
  /** The entry just after the last matching anchor, to name when a rewrite is found. */
  let firstAfterMatch: string | null = null;

  const blame = (kind: AccessLogProblemKind, seq: number, fields: Parameters<typeof problem>[2]) => {
    lastBlamed = Math.max(lastBlamed, seq);
    report(kind, { seq, ...fields });
  };

  /** Checks every anchor at `size` (skipping those below, which a gap made uncheckable). */
  const checkAnchors = (size: number) => {
    while (anchorAt < anchors.length && anchors[anchorAt]!.size < size) anchorAt++;
    for (; anchorAt < anchors.length && anchors[anchorAt]!.size === size; anchorAt++) {
      const anchor = anchors[anchorAt]!;
      if (!frontier) continue;
      if (equalHashes(frontier.rootHash(), anchor.rootHash)) {
        matched = { size, number: anchor.number };
        firstAfterMatch = null;
        continue;
      }
      const explained = lastBlamed > matched.size;
      if (!explained) {
        const by = anchor.witnesses.length > 0 ? `cosigned by ${anchor.witnesses.join(', ')}` : "the database's own, signed";
        const last = matched.number >= 0 ? `${checkpointName(matched.number)} at size ${matched.size}` : matched.size > 0 ? `size ${matched.size}` : 'the empty tree';
        report('REWRITTEN', {
          seq: matched.size + 1,
          entryId: firstAfterMatch,
          checkpoint: anchor.number >= 0 ? anchor.number : null,
          detail:
            `${checkpointName(anchor.number)} (size ${size}, ${by}) commits to another tree than the database's entries: ` +
            `entries ${matched.size + 1}–${size} were rewritten with recomputed hashes (the last that matched is ${last}); ` +
            'hashes recomputed consistently leave nothing more precise to name',
        });
      }
      // Past a differing root every later one differs too: stop comparing, keep checking entries.
      frontier = undefined;
    }
  };
  if (frontier) checkAnchors(frontier.size);

  const processGroup = (rows: readonly AccessLogRecord[], next: AccessLogRecord | undefined, indexed: ReadonlyMap<string, ReadonlySet<string>>) => {
    const seq = rows[0]!.seq;
    if (seq <= options.start.seq) return;
    if (seq > expected) {
      const span = seq - 1 === expected ? `entry ${expected} is` : `entries ${expected}–${seq - 1} are`;
      blame('MISSING', expected, { entryId: rows[0]!.id, detail: `${span} missing before entry ${rows[0]!.id} (seq ${seq})` });
      const only = rows[0]!;
      // One missing entry: its successor's link is its hash, so the tree can go on.
      if (seq - 1 === expected && frontier && hashAccessLogRecord(only) === only.hash) {
        frontier.append(leafOf(only.prevHash));
        checkAnchors(expected);
        prev = { seq: expected, hash: only.prevHash, id: null, reported: true };
      } else {
        frontier = undefined;
        prev = { seq: seq - 1, hash: only.prevHash, id: null, reported: true };
      }
      expected = seq;
    }
    const start = prev.seq === 0 ? GENESIS_HASH : prev.hash;
    const candidates: Candidate[] = rows.map((record) => ({ record, selfOk: hashAccessLogRecord(record) === record.hash, linkOk: record.prevHash === start }));
    const nextLink = next && next.seq === seq + 1 && hashAccessLogRecord(next) === next.hash ? next.prevHash : undefined;
    const genuine = chooseGenuine(candidates, nextLink, frontier, anchors.filter((a) => a.size === seq));
    for (const other of candidates) {
      if (other === genuine.candidate) continue;
      const detail = genuine.certain
        ? `entry ${other.record.id} claims seq ${seq}, which entry ${genuine.candidate.record.id} holds in the chain${nextLink ? ' (entry ' + (seq + 1) + ' links to it)' : ' (the witnessed tree has it)'}: entry ${other.record.id} is forged`
        : `seq ${seq} appears ${rows.length} times (entries ${rows.map((r) => r.id).join(', ')}); neither the chain nor a checkpoint tells which is genuine`;
      blame('DUPLICATE', seq, { entryId: other.record.id, detail });
    }
    const { record, selfOk, linkOk } = genuine.candidate;
    entries += rows.length;
    let reported = false;
    if (!selfOk) {
      reported = true;
      const writtenAs = findWrittenSeq(record, maxSeq);
      if (writtenAs !== undefined) blame('MOVED', seq, { entryId: record.id, detail: `entry ${record.id} was written as seq ${writtenAs}, now stands at seq ${seq}` });
      else blame('EDITED', seq, { entryId: record.id, detail: `entry ${record.id} (seq ${seq}) does not match its hash: its content was changed` });
    } else if (!linkOk && !prev.reported) {
      if (prev.id === null) {
        blame('EDITED', seq, { entryId: record.id, detail: seq === 1 ? `entry ${record.id} (seq 1) does not start the chain` : `entry ${record.id} (seq ${seq}) does not link to the last entry retention detached` });
      } else {
        blame('EDITED', prev.seq, { entryId: prev.id, detail: `entry ${prev.id} (seq ${prev.seq}) differs from what entry ${seq} links to: it was changed and its hash recomputed` });
      }
    }
    if (!sameSubjects(record, indexed.get(record.id))) {
      blame('EDITED', seq, { entryId: record.id, detail: `entry ${record.id} (seq ${seq}): its rows in the "who read me" index differ from its subjects` });
    }
    const final = options.finalAnchor;
    if (final && seq > final.size) {
      const by = final.witnesses.length > 0 ? `cosigned by ${final.witnesses.join(', ')}` : 'in the database';
      blame('AFTER_FINAL', seq, { entryId: record.id, checkpoint: final.number >= 0 ? final.number : null, detail: `entry ${record.id} (seq ${seq}) follows the chain's final ${checkpointName(final.number)} (size ${final.size}, ${by}): it is forged` });
    }
    if (seq > options.coveredSize && firstUncovered === null) firstUncovered = { seq, entryId: record.id };
    if (firstAfterMatch === null) firstAfterMatch = record.id;
    frontier?.append(leafOf(record.hash));
    prev = { seq, hash: record.hash, id: record.id, reported };
    expected = seq + 1;
    checkAnchors(seq);
  };

  // Keyset on (seq, id), not seq alone, so a duplicated seq split across two pages is still seen twice.
  let cursor = { seq: 0, id: '00000000-0000-0000-0000-000000000000' };
  let group: AccessLogRecord[] = [];
  let groupIndex = new Map<string, ReadonlySet<string>>();
  for (;;) {
    signal?.throwIfAborted();
    const rows = await trx
      .selectFrom('access_log')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where(({ eb, refTuple, tuple }) => eb(refTuple('seq', 'id'), '>', tuple(cursor.seq, cursor.id)))
      .orderBy('seq')
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) break;
    const records = rows.map(recordFromRow);
    const indexed = await subjectIndex(trx, records);
    for (const record of records) {
      if (group.length > 0 && group[0]!.seq !== record.seq) {
        processGroup(group, record, groupIndex);
        group = [];
        groupIndex = new Map();
      }
      group.push(record);
      groupIndex.set(record.id, indexed.get(record.id) ?? new Set());
    }
    const tail = rows.at(-1)!;
    cursor = { seq: Number(tail.seq), id: tail.id };
  }
  if (group.length > 0) processGroup(group, undefined, groupIndex);
  return { entries, headSeq: Math.max(prev.seq, options.start.seq), lastEntryId: prev.id, firstUncovered, problems };
}

function leafOf(hexHash: string): Uint8Array {
  return hashLeaf(new Uint8Array(Buffer.from(hexHash, 'hex')));
}

/**
 * Which of the rows claiming one seq is the chain's: the one the next entry
 * links to, then one that links to the previous entry and hashes right; at
 * the chain's head, the one that gives a known root. `certain` is false when
 * two rows are equally plausible.
 */
function chooseGenuine(candidates: readonly Candidate[], nextLink: string | undefined, frontier: MerkleFrontier | undefined, anchors: readonly TreeAnchor[]): { candidate: Candidate; certain: boolean } {
  if (candidates.length === 1) return { candidate: candidates[0]!, certain: true };
  const score = (c: Candidate) => (c.selfOk ? 1 : 0) + (c.linkOk ? 2 : 0) + (nextLink !== undefined && c.record.hash === nextLink ? 4 : 0) + (rootMatches(c, frontier, anchors) ? 8 : 0);
  const scored = candidates.map((candidate) => ({ candidate, score: score(candidate) })).sort((a, b) => b.score - a.score);
  return { candidate: scored[0]!.candidate, certain: scored[0]!.score > scored[1]!.score };
}

function rootMatches(candidate: Candidate, frontier: MerkleFrontier | undefined, anchors: readonly TreeAnchor[]): boolean {
  if (!frontier || anchors.length === 0) return false;
  const copy = createMerkleFrontier(frontier.subtrees);
  copy.append(leafOf(candidate.record.hash));
  return anchors.some((anchor) => equalHashes(copy.rootHash(), anchor.rootHash));
}
