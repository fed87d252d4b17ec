import type { X509Certificate } from 'node:crypto';
import { sql, type ColumnType, type Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import { requestTimestamp } from './timestamp-client.ts';
import { isTimestampError } from './timestamp-error.ts';
import type { TimestampSettings } from './timestamp-settings.ts';
import { parseTimestampToken } from './timestamp-token.ts';
import { verifyTimestampToken, type VerifiedTimestamp } from './timestamp-verify.ts';

/** `access_log_timestamps` (migration 0008): one RFC 3161 token per checkpoint at most; append-only. */
export type AccessLogTimestampsTable = {
  chain_id: ColumnType<string, string, never>;
  /** The checkpoint's number in `access_log_tree_checkpoints`. */
  number: ColumnType<number, number, never>;
  /** The DER TimeStampToken, base64. */
  token: ColumnType<string, string, never>;
  gen_time: ColumnType<Date, Date | string, never>;
  /** The subject of the TSA's certificate. */
  tsa: ColumnType<string, string, never>;
};

/** The table of this module, for `db.withTables<AccessLogTimestampTables>()`. */
export type AccessLogTimestampTables = {
  access_log_timestamps: AccessLogTimestampsTable;
};

/** A checkpoint's stored timestamp. */
export interface StoredTimestamp {
  readonly chainId: string;
  readonly number: number;
  readonly genTime: Date;
  readonly tsa: string;
  /** The DER TimeStampToken. */
  readonly token: Uint8Array;
}

/** What {@link stampCheckpoint} needs. */
export interface StampCheckpointInput {
  readonly db: Kysely<StoreSchema>;
  readonly settings: TimestampSettings;
  readonly chainId: string;
  /** The checkpoint's number (0, 1, 2, … per chain). */
  readonly number: number;
  /** The checkpoint's note exactly as stored in `access_log_tree_checkpoints.note` (the log's signed note). */
  readonly text: string;
  readonly signal?: AbortSignal;
}

/**
 * Has the TSA stamp a committed checkpoint's note and stores the verified
 * token. Call it after the checkpoint's transaction committed, without
 * awaiting it on any request's path: a TSA that is slow or away delays only
 * the stamp. A checkpoint stamped before keeps its first token (the row is
 * append-only); the stored one is returned.
 *
 * Throws what {@link requestTimestamp} throws (codes `TIMESTAMP_*`) and the
 * store's errors; nothing is stored then.
 *
 * @example
 * void stampCheckpoint({ db, settings, chainId, number, text: note }).catch((error) => log.warn({ code: error.code }, 'checkpoint not timestamped'));
 */
export async function stampCheckpoint(input: StampCheckpointInput): Promise<StoredTimestamp> {
  const { chainId, number } = input;
  const verified = await requestTimestamp(input.settings, input.text, input.signal ? { signal: input.signal } : {});
  const db = input.db.withTables<AccessLogTimestampTables>();
  await db
    .insertInto('access_log_timestamps')
    .values({ chain_id: chainId, number, token: Buffer.from(verified.token).toString('base64'), gen_time: verified.genTime, tsa: verified.tsa })
    .onConflict((conflict) => conflict.columns(['chain_id', 'number']).doNothing())
    .execute();
  const row = await db.selectFrom('access_log_timestamps').selectAll().where('chain_id', '=', chainId).where('number', '=', number).executeTakeFirstOrThrow();
  return { chainId, number, genTime: new Date(row.gen_time), tsa: row.tsa, token: new Uint8Array(Buffer.from(row.token, 'base64')) };
}

/** What {@link stampLatestCheckpoint} needs. */
export interface StampLatestCheckpointInput {
  readonly db: Kysely<StoreSchema>;
  readonly settings: TimestampSettings;
  readonly chainId: string;
  readonly signal?: AbortSignal;
}

/**
 * Stamps the chain's latest checkpoint in `access_log_tree_checkpoints`
 * unless it already has a stamp; `undefined` when the chain has no
 * checkpoint or the latest is stamped. The latest is enough: each
 * checkpoint names its predecessor's hash (`previous`), so a stamp of
 * checkpoint n vouches for every checkpoint before it too, and the ones a
 * TSA outage left unstamped are covered by the next that is stamped.
 */
export async function stampLatestCheckpoint(input: StampLatestCheckpointInput): Promise<StoredTimestamp | undefined> {
  const { rows } = await sql<{ number: number; note: string; stamped: boolean }>`
    select c.number, c.note, exists (select 1 from access_log_timestamps t where t.chain_id = c.chain_id and t.number = c.number) as stamped
    from access_log_tree_checkpoints c where c.chain_id = ${input.chainId} order by c.number desc limit 1`.execute(input.db);
  const latest = rows[0];
  if (latest === undefined || latest.stamped) return undefined;
  return stampCheckpoint({ ...input, number: Number(latest.number), text: latest.note });
}

/** One stored timestamp that does not prove what it should. */
export interface TimestampProblem {
  readonly chainId: string;
  readonly number: number;
  /** `TIMESTAMP_INVALID` / `TIMESTAMP_MALFORMED` for a bad token; `CHECKPOINT_MISSING` for a token whose checkpoint is gone. */
  readonly code: 'TIMESTAMP_INVALID' | 'TIMESTAMP_MALFORMED' | 'CHECKPOINT_MISSING';
  readonly message: string;
}

/** The latest verified stamp of a chain. */
export interface ChainTimestamp {
  readonly number: number;
  readonly genTime: Date;
  readonly tsa: string;
}

/** What {@link verifyStoredTimestamps} found. */
export interface TimestampReport {
  /** Checkpoints seen (rows of `access_log_tree_checkpoints` in scope). */
  readonly checkpoints: number;
  /** Checkpoints whose stored token verified against their note and a trusted CA. */
  readonly stamped: number;
  /** Checkpoints without a token (stamping is optional and may lag or have failed). */
  readonly unstamped: number;
  readonly problems: readonly TimestampProblem[];
  /** Per chain, the latest checkpoint with a verified stamp. */
  readonly latest: ReadonlyMap<string, ChainTimestamp>;
}

/** Options of {@link verifyStoredTimestamps}. */
export interface VerifyStoredTimestampsOptions {
  /** Only this chain. */
  readonly chainId?: string;
  /** Rows read per query. */
  readonly pageSize?: number;
}

interface PairRow {
  chain_id: string;
  number: number;
  note: string | null;
  token: string | null;
}

/**
 * Checks every stored timestamp against its checkpoint's note (the text it
 * must stamp) and the trusted TSA CA certificates, and counts checkpoints
 * with no stamp. A token left behind by a deleted checkpoint is reported as
 * `CHECKPOINT_MISSING`: the TSA's word that the checkpoint existed outlives
 * its row. Reads `access_log_tree_checkpoints` (migration 0007) in pages, in
 * (chain, number) order.
 *
 * @example
 * const report = await verifyStoredTimestamps(store.db, readTrustedCertificates(caPem));
 * for (const problem of report.problems) console.log(problem.chainId, problem.number, problem.message);
 */
export async function verifyStoredTimestamps(
  db: Kysely<StoreSchema>,
  trusted: readonly X509Certificate[],
  options: VerifyStoredTimestampsOptions = {},
): Promise<TimestampReport> {
  const pageSize = options.pageSize ?? 500;
  const chain = options.chainId ?? null;
  let checkpoints = 0;
  let stamped = 0;
  let unstamped = 0;
  const problems: TimestampProblem[] = [];
  const latest = new Map<string, ChainTimestamp>();
  let after: { chainId: string; number: number } = { chainId: '', number: -1 };
  for (;;) {
    const { rows } = await sql<PairRow>`
      select coalesce(c.chain_id, t.chain_id) as chain_id, coalesce(c.number, t.number) as number, c.note, t.token
      from access_log_tree_checkpoints c
      full outer join access_log_timestamps t on t.chain_id = c.chain_id and t.number = c.number
      where (${chain}::text is null or coalesce(c.chain_id, t.chain_id) = ${chain}::text)
        and (coalesce(c.chain_id, t.chain_id), coalesce(c.number, t.number)) > (${after.chainId}::text, ${after.number}::integer)
      order by 1, 2
      limit ${pageSize}`.execute(db);
    for (const row of rows) {
      const number = Number(row.number);
      if (row.note !== null) checkpoints += 1;
      if (row.token === null) unstamped += 1;
      else if (row.note === null) {
        problems.push({ chainId: row.chain_id, number, code: 'CHECKPOINT_MISSING', message: `checkpoint ${number} of chain ${row.chain_id} was timestamped but is not in the database` });
      } else {
        const checked = checkToken(row.token, row.note, trusted);
        if ('problem' in checked) problems.push({ chainId: row.chain_id, number, ...checked.problem });
        else {
          stamped += 1;
          latest.set(row.chain_id, { number, genTime: checked.verified.genTime, tsa: checked.verified.tsa });
        }
      }
    }
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    after = { chainId: last.chain_id, number: Number(last.number) };
  }
  return { checkpoints, stamped, unstamped, problems, latest };
}

function checkToken(
  token: string,
  note: string,
  trusted: readonly X509Certificate[],
): { verified: VerifiedTimestamp } | { problem: Pick<TimestampProblem, 'code' | 'message'> } {
  try {
    return { verified: verifyTimestampToken(parseTimestampToken(new Uint8Array(Buffer.from(token, 'base64'))), { text: note, trusted }) };
  } catch (error) {
    if (isTimestampError(error) && (error.code === 'TIMESTAMP_INVALID' || error.code === 'TIMESTAMP_MALFORMED')) {
      return { problem: { code: error.code, message: error.message } };
    }
    throw error;
  }
}
