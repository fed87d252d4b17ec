import type { Kysely } from 'kysely';
import type { Principal } from '../../policies/principal.ts';
import { AccessLogBadQueryError, AccessLogError, AccessLogForbiddenError } from '../access-log/access-log-error.ts';
import { readAccessLog, type AccessLogFilters, type AccessLogPageRequest, type AccessLogReadResult } from '../access-log/access-log-reader.ts';
import type { AccessLogWriter } from '../access-log/access-log-writer.ts';
import { logReadEntry } from '../access-log/log-read-entry.ts';
import { requestIdOf } from '../errors/request-id.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { ConsoleContext } from './console-env.ts';
import { ConsoleError } from './console-error.ts';

/** What reading the log from the console needs: the store and the log writer that records each read. */
export interface ConsoleLogReadDeps {
  readonly db: Kysely<StoreSchema>;
  readonly writer: Pick<AccessLogWriter, 'append'>;
  readonly now: () => Date;
}

/** Bound on reading one page of the log and committing its `LOG_READ` entry. */
const READ_TIMEOUT_MS = 10_000;

/** Reads one page of the log for a console page, recorded as the access log API records a read. */
export type ReadLogAsLogged = (c: ConsoleContext, viewer: Principal, filters: AccessLogFilters, page: AccessLogPageRequest, what: string) => Promise<AccessLogReadResult>;

/**
 * The console's one way to read the access log: the reader's own view rules
 * (`readAccessLog`, the same as the API's), and a `LOG_READ` entry naming the
 * viewer and every data subject shown, committed before the page is shown —
 * no log, no data. A refusal by the rules is recorded too (`DENIED`), as the
 * API does. `what` names the page in the entry (`console GET /audit/log`).
 */
export function createLogReads(deps: ConsoleLogReadDeps): ReadLogAsLogged {
  return async (c, viewer, filters, page, what) => {
    const started = performance.now();
    const at = deps.now();
    const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(READ_TIMEOUT_MS)]);
    const url = new URL(c.req.url);
    const record = async (outcome: 'ALLOWED' | 'DENIED', shown: AccessLogReadResult | undefined, reason?: string) => {
      const entry = logReadEntry({
        viewer,
        requestId: requestIdOf(c.req.raw),
        at,
        durationMs: performance.now() - started,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        outcome,
        shown,
        operationName: `console ${what}`,
        ...(reason !== undefined && { reason }),
      });
      try {
        await deps.writer.append(entry, signal);
      } catch (error) {
        if (error instanceof AccessLogError) throw new ConsoleError('LOG_UNAVAILABLE', 'the access log could not record this read', { cause: error });
        throw error;
      }
    };
    let result: AccessLogReadResult;
    try {
      result = await readAccessLog(deps.db, viewer, filters, page, { now: at, signal });
    } catch (error) {
      if (error instanceof AccessLogForbiddenError) {
        await record('DENIED', undefined, error.message);
        throw new ConsoleError('FORBIDDEN', error.message, { cause: error });
      }
      if (error instanceof AccessLogBadQueryError) throw new ConsoleError('BAD_USER_INPUT', error.message, { cause: error });
      throw error;
    }
    await record('ALLOWED', result);
    return result;
  };
}
