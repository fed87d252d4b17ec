import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Principal } from '../../policies/principal.ts';
import { AccessLogError, AccessLogForbiddenError, AccessLogUnavailableError } from './access-log-error.ts';
import { readAccessLog, type AccessLogFilters, type AccessLogPageRequest, type AccessLogReadResult } from './access-log-reader.ts';
import type { AccessLogWriter } from './access-log-writer.ts';
import { logReadEntry } from './log-read-entry.ts';
import type { EntryReceipt, ReceiptSource } from './receipt-source.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/** Where a recorded read reads from and records to. */
export interface RecordedReadDeps {
  readonly db: Kysely<StoreSchema>;
  readonly writer: Pick<AccessLogWriter, 'append'>;
  /** Where the receipts of the entries shown come from, for reads that ask for them; without it, none has one. */
  readonly receipts?: ReceiptSource;
}

/** One read of the log, and what its `LOG_READ` entry says about the request that made it. */
export interface RecordedRead {
  readonly viewer: Principal;
  readonly filters: AccessLogFilters;
  readonly page: AccessLogPageRequest;
  /** The reader's clock (disclosure delays end by it) and the entry's time. */
  readonly at: Date;
  /** `performance.now()` when the request began, for the entry's duration. */
  readonly started: number;
  readonly requestId: string;
  readonly path: string;
  /** The request's query as sent; the entry keeps only its hash. */
  readonly query: Readonly<Record<string, string>>;
  /** Default (`logReadEntry`'s): `GET /access-log`. */
  readonly operationName?: string;
  /** Bounds the read and the commit of its entry. */
  readonly signal: AbortSignal;
  /**
   * Give each item shown its receipt (`receipt`, or `null` and `receiptCheckAfter`)
   * when the deps have a receipt source: for the views whose reader is owed one
   * (the citizen, the data officer) and for single entries. Default false.
   */
  readonly withReceipts?: boolean | ((view: AccessLogReadResult['view']) => boolean);
}

/**
 * The one way the log is read by a person, for the access log API and the
 * console alike: the reader's view rules (`readAccessLog`), then a
 * `LOG_READ` entry naming the viewer and every data subject shown, committed
 * before the result is returned — no log, no data. A refusal by the rules is
 * recorded too (`DENIED`) and then rethrown (`AccessLogForbiddenError`); a
 * malformed query (`AccessLogBadQueryError`) is not recorded, as nothing was
 * read. An entry that cannot be committed, for whatever reason the writer
 * gives, is an {@link AccessLogUnavailableError}, and nothing is returned.
 *
 * @example
 * const result = await readAccessLogRecorded({ db, writer }, { viewer, filters, page: {}, at: new Date(), started: performance.now(), requestId, path: '/admin/api/access-log', query, signal });
 */
export async function readAccessLogRecorded(deps: RecordedReadDeps, read: RecordedRead): Promise<AccessLogReadResult> {
  const { viewer, at, signal } = read;
  const record = async (outcome: 'ALLOWED' | 'DENIED', shown: AccessLogReadResult | undefined, reason?: string) => {
    const entry = logReadEntry({
      viewer,
      requestId: read.requestId,
      at,
      durationMs: performance.now() - read.started,
      path: read.path,
      query: read.query,
      outcome,
      shown,
      ...(read.operationName !== undefined && { operationName: read.operationName }),
      ...(reason !== undefined && { reason }),
    });
    try {
      await deps.writer.append(entry, signal);
    } catch (error) {
      // Whatever kept the entry out (a failed batch, a closed writer), the read is not shown.
      if (error instanceof AccessLogError) throw new AccessLogUnavailableError('the access log could not record this read, so nothing is shown; try again shortly', { cause: error });
      throw error;
    }
  };
  let result: AccessLogReadResult;
  try {
    result = await readAccessLog(deps.db, viewer, read.filters, read.page, { now: at, signal });
  } catch (error) {
    if (error instanceof AccessLogForbiddenError) await record('DENIED', undefined, error.message);
    throw error;
  }
  await record('ALLOWED', result);
  const wanted = typeof read.withReceipts === 'function' ? read.withReceipts(result.view) : read.withReceipts === true;
  return wanted && deps.receipts ? withReceipts(result, await deps.receipts.receiptsFor(result.placements, at, signal)) : result;
}

/** The page with each item's receipt, or its `null` and when to look again. */
function withReceipts(result: AccessLogReadResult, receipts: readonly EntryReceipt[]): AccessLogReadResult {
  const fields = (index: number) => {
    const found = receipts[index]!;
    if (found.receipt) return { receipt: found.receipt };
    return 'unavailable' in found ? { receipt: null, receiptUnavailable: found.unavailable } : { receipt: null, receiptCheckAfter: found.checkAfter };
  };
  // The same mapping twice: once per view, so each page keeps its own item type.
  return result.view === 'citizen'
    ? { ...result, items: result.items.map((item, index) => ({ ...item, ...fields(index) })) }
    : { ...result, items: result.items.map((item, index) => ({ ...item, ...fields(index) })) };
}
