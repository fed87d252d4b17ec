import type { Kysely } from 'kysely';
import type { Principal } from '../../policies/principal.ts';
import { AccessLogBadQueryError, AccessLogForbiddenError, AccessLogUnavailableError } from '../access-log/access-log-error.ts';
import type { AccessLogFilters, AccessLogPageRequest, AccessLogReadResult } from '../access-log/access-log-reader.ts';
import type { AccessLogWriter } from '../access-log/access-log-writer.ts';
import { readAccessLogRecorded } from '../access-log/read-access-log-recorded.ts';
import type { ReceiptSource } from '../access-log/receipt-source.ts';
import { requestIdOf } from '../errors/request-id.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { ConsoleContext } from './console-env.ts';
import { ConsoleError } from './console-error.ts';

/** What reading the log from the console needs: the store and the log writer that records each read. */
export interface ConsoleLogReadDeps {
  readonly db: Kysely<StoreSchema>;
  readonly writer: Pick<AccessLogWriter, 'append'>;
  readonly now: () => Date;
  /** Where entries' receipts come from, for the pages that show them. */
  readonly receipts?: ReceiptSource;
}

/** Bound on reading one page of the log and committing its `LOG_READ` entry. */
const READ_TIMEOUT_MS = 10_000;

/** Reads one page of the log for a console page, recorded as the access log API records a read; `withReceipts` gives each item its receipt. */
export type ReadLogAsLogged = (c: ConsoleContext, viewer: Principal, filters: AccessLogFilters, page: AccessLogPageRequest, what: string, withReceipts?: boolean) => Promise<AccessLogReadResult>;

/**
 * The console's one way to read the access log: `readAccessLogRecorded`, the
 * same read-then-record as the access log API's (the reader's view rules, a
 * `LOG_READ` entry committed before the page is shown — no log, no data; a
 * refusal recorded as `DENIED`), its errors as console pages. `what` names
 * the page in the entry (`console GET /audit/log`).
 */
export function createLogReads(deps: ConsoleLogReadDeps): ReadLogAsLogged {
  return async (c, viewer, filters, page, what, withReceipts = false) => {
    const started = performance.now();
    const at = deps.now();
    const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(READ_TIMEOUT_MS)]);
    const url = new URL(c.req.url);
    try {
      return await readAccessLogRecorded(deps, {
        viewer,
        filters,
        page,
        at,
        started,
        requestId: requestIdOf(c.req.raw),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        operationName: `console ${what}`,
        signal,
        withReceipts,
      });
    } catch (error) {
      if (error instanceof AccessLogForbiddenError) throw new ConsoleError('FORBIDDEN', error.message, { cause: error });
      if (error instanceof AccessLogBadQueryError) throw new ConsoleError('BAD_USER_INPUT', error.message, { cause: error });
      if (error instanceof AccessLogUnavailableError) throw new ConsoleError('LOG_UNAVAILABLE', 'the access log could not record this read', { cause: error });
      throw error;
    }
  };
}
