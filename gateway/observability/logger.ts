import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config.ts';

/** Bytes of log lines gathered before one write to stdout. */
const STDOUT_BUFFER_BYTES = 4_096;
/** …and the longest a line waits in that buffer. */
const STDOUT_FLUSH_MS = 1_000;

/**
 * The gateway's structured JSON logger. Tokens, personal data and SQL never
 * go into log fields: errors are logged with their class, code and message,
 * and causes are logged only at debug level.
 *
 * To stdout (the default) lines are gathered and written together, at most
 * {@link STDOUT_FLUSH_MS} late: one write per request line was 1.3% of the
 * gateway's busy time under load (issue #5), where a write is a system call.
 * Buffered lines are flushed on `logger.flush()` (the gateway's `close()`
 * calls it) and, synchronously, when the process exits. The access log, not
 * this one, is the audit record: it is committed before a response leaves.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  if (destination === undefined) {
    const stdout = pino.destination({ dest: 1, sync: false, minLength: STDOUT_BUFFER_BYTES });
    setInterval(() => stdout.flush(), STDOUT_FLUSH_MS).unref();
    destination = stdout;
  }
  return pino(
    {
      level,
      base: { service: 'isthmus' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['req.headers.authorization', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
