import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config.ts';

/**
 * The gateway's structured JSON logger. Tokens, personal data and SQL never
 * go into log fields: errors are logged with their class, code and message,
 * and causes are logged only at debug level.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
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
