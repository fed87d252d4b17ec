import type { AccessRecord } from '../../policies/access-record.ts';

export type { AccessOutcome, DataSubject } from '../../policies/access-record.ts';

/**
 * One access log entry as the gateway hands it to the log: the record that
 * enforcement built (`policies/access-record.ts`: who read what, about whom,
 * why, and how it ended), plus what only the gateway knows about the request.
 * The record's type is the policies' so that the entry and the record cannot
 * drift apart; the dependency points from the gateway to the policies.
 */
export interface AccessLogEntryInput extends AccessRecord {
  readonly requestId: string;
  /** What was done: a GraphQL read of bureau data, or a read of the access log itself. */
  readonly action: 'READ' | 'LOG_READ';
  readonly durationMs: number;
  /** SHA-256 of the operation's document text, hex. */
  readonly operationHash: string;
}
