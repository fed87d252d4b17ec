import { sql, type Kysely, type Transaction } from 'kysely';
import type { NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { WitnessConfig } from './witness-config.ts';
import { DEFAULT_LOG_NAME, fetchWitnessedCheckpoints, type WitnessedCheckpoint, type WitnessedEvidence } from './verify-witnessed.ts';
import { checkDbCheckpoints, type TreeAnchor } from './verify-db-checkpoints.ts';
import { walkChainEntries } from './verify-chain-entries.ts';
import { readWalkStart } from './verify-walk-start.ts';
import { checkpointName, problem, type AccessLogProblem, type AccessLogVerification, type ChainReport } from './verify-report.ts';

export type { AccessLogProblem, AccessLogProblemKind, AccessLogVerification, ChainReport, ChainLifecycle, ChainWriter, WitnessReport } from './verify-report.ts';

/** Entries (and checkpoints) read per query: memory stays bounded by this, whatever the log's size. */
export const DEFAULT_VERIFY_PAGE_SIZE = 1_000;

export interface VerifyAccessLogOptions {
  /**
   * The witnesses to fetch checkpoints from (their keys pinned). None: only
   * the database's own rows are compared, and the result says nothing was
   * proven (`proven: false`).
   */
  readonly witnesses?: readonly WitnessConfig[];
  /** What the witnesses said, fetched already (`fetchWitnessedCheckpoints`); takes the place of `witnesses`. */
  readonly evidence?: WitnessedEvidence;
  /** How many witnesses must have cosigned a checkpoint for it to cover entries; default all of them. */
  readonly quorum?: number;
  /**
   * The log's note keys, current and past, from outside the database (the
   * gateway's published keys or its keys dir). None: checkpoint signatures
   * are not checked, and `keySource` says so.
   */
  readonly logKeys?: readonly NoteVerifier[];
  /** Default {@link DEFAULT_LOG_NAME}: origins are `<log name>/<chain id>`. */
  readonly logName?: string;
  /** Default {@link DEFAULT_VERIFY_PAGE_SIZE}. */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Verifies every chain of the access log against the checkpoints the
 * witnesses cosigned — fetched from them, not from the database — and
 * against the database's own checkpoints, in one REPEATABLE READ, READ ONLY
 * transaction (gateways may keep writing; the verifier sees one snapshot).
 *
 * Chains: those in the database and those the witnesses know under the log
 * name. Per chain: the checkpoint table is checked (signatures by pinned
 * keys, no gap in numbers, each naming the one before, every witnessed one
 * present); then the entries are walked in seq order, each hash recomputed
 * and linked, and the Merkle tree rebuilt and compared with every known
 * root (see `walkChainEntries`); entries past the latest checkpoint a quorum
 * cosigned are counted as not covered. A chain with entries that no witness
 * knows is `UNWITNESSED_CHAIN`; a chain from before witnessed checkpoints
 * (only JWS checkpoints) is legacy: its hash chain is checked, nothing more.
 *
 * @example
 * const result = await verifyAccessLog(store.db, { witnesses: parseWitnessList(env.ISTHMUS_WITNESSES), logKeys });
 * if (result.problems.length > 0 || !result.proven) process.exitCode = 1;
 */
export async function verifyAccessLog(db: Kysely<StoreSchema>, options: VerifyAccessLogOptions = {}): Promise<AccessLogVerification> {
  const pageSize = options.pageSize ?? DEFAULT_VERIFY_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError('verifyAccessLog: pageSize must be a whole number ≥ 1');
  const { signal } = options;
  signal?.throwIfAborted();
  const logName = options.logName ?? DEFAULT_LOG_NAME;
  const logKeys = options.logKeys ?? [];
  const evidence =
    options.evidence ??
    (options.witnesses && options.witnesses.length > 0 ? await fetchWitnessedCheckpoints({ witnesses: options.witnesses, logName, logKeys, ...(signal ? { signal } : {}) }) : undefined);
  const witnessCount = evidence?.witnesses.length ?? 0;
  const quorum = options.quorum ?? witnessCount;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > witnessCount) throw new TypeError('verifyAccessLog: quorum must be a whole number from 0 to the number of witnesses');
  const answered = evidence?.witnesses.filter((w) => w.ok).length ?? 0;

  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const chainIds = new Set(await listChains(trx));
      for (const chainId of evidence?.byChain.keys() ?? []) chainIds.add(chainId);
      const reports: ChainReport[] = [];
      for (const chainId of [...chainIds].sort()) {
        signal?.throwIfAborted();
        reports.push(await verifyChain(trx, { chainId, origin: `${logName}/${chainId}`, witnessed: evidence?.byChain.get(chainId) ?? [], witnessing: answered > 0, quorum, logKeys, pageSize, signal }));
      }
      const problems = [...(evidence?.problems ?? []), ...reports.flatMap((report) => report.problems)];
      return {
        chains: reports.length,
        entries: reports.reduce((sum, report) => sum + report.entries, 0),
        checkpoints: reports.reduce((sum, report) => sum + report.checkpoints, 0),
        problems,
        chainReports: reports,
        witnesses: evidence?.witnesses ?? [],
        quorum,
        proven: witnessCount > 0 && quorum >= 1 && answered >= quorum,
        keySource: logKeys.length > 0 ? 'pinned' : 'none',
        uncoveredEntries: reports.reduce((sum, report) => sum + report.uncoveredEntries, 0),
      } satisfies AccessLogVerification;
    });
}

interface ChainInput {
  readonly chainId: string;
  readonly origin: string;
  readonly witnessed: readonly WitnessedCheckpoint[];
  /** Whether at least one witness answered: only then does a chain no witness knows mean anything. */
  readonly witnessing: boolean;
  readonly quorum: number;
  readonly logKeys: readonly NoteVerifier[];
  readonly pageSize: number;
  readonly signal: AbortSignal | undefined;
}

async function verifyChain(trx: Transaction<StoreSchema>, input: ChainInput): Promise<ChainReport> {
  const { chainId, witnessed, quorum } = input;
  const db = await checkDbCheckpoints(trx, input, witnessed, input.logKeys, input.pageSize, input.signal);
  const legacy = db.count === 0 && witnessed.length === 0 && (await hasLegacyCheckpoints(trx, chainId));
  const witnessedAnchors: TreeAnchor[] = witnessed.map((w) => ({ size: w.checkpoint.size, rootHash: w.checkpoint.rootHash, number: w.number, witnesses: w.cosignedBy, final: w.final }));
  const anchors = [...witnessedAnchors, ...db.anchors].sort((a, b) => a.size - b.size || a.number - b.number);
  const quorate = witnessed.filter((w) => w.cosignedBy.length >= Math.max(quorum, 1));
  const covering = quorate.reduce<WitnessedCheckpoint | undefined>((best, w) => (best === undefined || w.checkpoint.size > best.checkpoint.size ? w : best), undefined);
  const finals = anchors.filter((a) => a.final);
  const finalAnchor = finals.find((a) => a.witnesses.length > 0) ?? finals[0];
  const coveredSize = covering?.checkpoint.size ?? 0;

  const start = await readWalkStart(trx, chainId);
  const walk = await walkChainEntries(trx, { chainId, start, anchors, finalAnchor, coveredSize, pageSize: input.pageSize, signal: input.signal });
  const problems: AccessLogProblem[] = [...db.problems, ...walk.problems];

  const highest = [...anchors].sort((a, b) => b.witnesses.length - a.witnesses.length || b.size - a.size || b.number - a.number).find((a) => a.size > walk.headSeq);
  if (highest) {
    const what =
      highest.witnesses.length > 0
        ? `the witness${highest.witnesses.length > 1 ? 'es' : ''} ${highest.witnesses.join(', ')} cosigned ${highest.size} entries (${checkpointName(highest.number)})`
        : `the database's own signed ${checkpointName(highest.number)} covers ${highest.size} entries`;
    problems.push(problem('CHAIN_CUT', chainId, { seq: walk.headSeq + 1, entryId: walk.lastEntryId, checkpoint: highest.number >= 0 ? highest.number : null, detail: `${what}, the database holds ${walk.headSeq}: the chain was cut` }));
  }
  // A genuine chain signs checkpoint #0 with the gateway's key and sends it to the witnesses before it serves. If they
  // never saw it (away at its start), its own checkpoints still carry that key: not covered, not forged.
  const signedByGateway = input.logKeys.length > 0 && db.signedByPinned > 0 && db.problems.length === 0;
  if (input.witnessing && witnessed.length === 0 && !legacy && !signedByGateway && (walk.entries > 0 || db.count > 0)) {
    problems.push(
      problem('UNWITNESSED_CHAIN', chainId, {
        seq: start.seq + 1,
        detail: `no witness knows chain ${chainId} (${walk.entries} entries, ${db.count} checkpoints in the database, none signed by a pinned log key): it is forged`,
      }),
    );
  }
  const uncovered = Math.max(0, walk.headSeq - Math.max(coveredSize, start.seq));
  const instance = await trx.selectFrom('gateway_instances').select(['hostname', 'version', 'started_at']).where('id', '=', chainId).executeTakeFirst();
  return {
    chainId,
    origin: input.origin,
    writer: instance ? { hostname: instance.hostname, version: instance.version, startedAt: new Date(instance.started_at) } : null,
    entries: walk.entries,
    retiredSeq: start.seq,
    headSeq: walk.headSeq,
    checkpoints: db.count,
    witnessedSize: coveredSize,
    witnessedBy: covering?.cosignedBy ?? [],
    coveredEntries: Math.max(0, Math.min(coveredSize, walk.headSeq) - start.seq),
    uncoveredEntries: uncovered,
    firstUncovered: uncovered > 0 ? walk.firstUncovered : null,
    lifecycle: witnessed.some((w) => w.final) ? 'stopped' : witnessed.length > 0 ? 'started' : 'unwitnessed',
    legacy,
    problems: problems.sort((a, b) => a.seq - b.seq),
  };
}

/**
 * Every chain the database knows of: in entries, registered by a writer,
 * with checkpoints (old or new) or retention records — so a chain whose
 * entries were all removed is still checked. Entries are scanned with a
 * loose index scan (one index probe per chain), not a full scan.
 */
async function listChains(trx: Transaction<StoreSchema>): Promise<readonly string[]> {
  const { rows } = await sql<{ chain_id: string }>`
    with recursive in_entries as (
      (select chain_id from access_log order by chain_id limit 1)
      union all
      select (select l.chain_id from access_log l where l.chain_id > in_entries.chain_id order by l.chain_id limit 1)
      from in_entries where in_entries.chain_id is not null
    )
    select chain_id from in_entries where chain_id is not null
    union select chain_id from access_log_chains
    union select chain_id from access_log_checkpoints
    union select chain_id from access_log_tree_checkpoints
    union select chain_id from access_log_detachments
    order by chain_id`.execute(trx);
  return rows.map((row) => row.chain_id);
}

/** A chain that only the old JWS checkpoints cover: written before the tree and the witnesses. */
async function hasLegacyCheckpoints(trx: Transaction<StoreSchema>, chainId: string): Promise<boolean> {
  const row = await trx.selectFrom('access_log_checkpoints').select('chain_id').where('chain_id', '=', chainId).limit(1).executeTakeFirst();
  return row !== undefined;
}
