import { Counter } from 'prom-client';
import type { Metrics } from './metrics.ts';
import type { Logger } from './logger.ts';
import type { SecurityEvent, SecurityEventStore } from './security-event-store.ts';

/**
 * Events held in memory at most, waiting for their batch: a flood of bad
 * tokens (thousands a second) must not grow the heap without bound; past
 * this, events are counted as dropped instead of kept.
 */
export const DEFAULT_SECURITY_EVENTS_QUEUE = 10_000;
/** Events per insert: one statement of a few hundred rows is cheap, and a flood becomes a few inserts a second rather than one per event. */
export const DEFAULT_SECURITY_EVENTS_BATCH = 500;
/** How long an event may wait for its batch: short enough that an operator sees a refusal within a second or so. */
export const DEFAULT_SECURITY_EVENTS_FLUSH_MS = 250;
/** Longest text kept of anything a caller controls (a claimed issuer, a key id): bounded rows whatever the caller sends. */
export const MAX_SECURITY_EVENT_TEXT = 200;

/** Records security events off the request's path. */
export interface SecurityEventRecorder {
  /** Queues one event and returns at once; never throws, never waits for the database. */
  record(event: SecurityEvent): void;
  /** Writes what is queued now (tests, and closing). */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/** Options of {@link createSecurityEventRecorder}. */
export interface SecurityEventRecorderOptions {
  readonly store: Pick<SecurityEventStore, 'insert'>;
  readonly metrics: Pick<Metrics, 'registry'>;
  readonly log: Pick<Logger, 'warn'>;
  readonly maxQueue?: number;
  readonly maxBatch?: number;
  readonly flushMs?: number;
  readonly now?: () => Date;
}

/**
 * The recorder: a bounded queue, written in batches by a timer (one insert
 * in flight at a time). Each event is counted in
 * `isthmus_security_events_total{kind,reason}` as it is recorded, whether or
 * not it reaches the table; dropped ones in `isthmus_security_events_dropped_total`,
 * and logged once per flush with their number, not once each.
 *
 * @example
 * const events = createSecurityEventRecorder({ store: createSecurityEventStore(db), metrics, log });
 * events.record({ kind: 'TOKEN_REFUSED', reason: 'TOKEN_EXPIRED', outcome: 'REFUSED', route: 'POST /graphql' });
 */
export function createSecurityEventRecorder(options: SecurityEventRecorderOptions): SecurityEventRecorder {
  const maxQueue = options.maxQueue ?? DEFAULT_SECURITY_EVENTS_QUEUE;
  const maxBatch = options.maxBatch ?? DEFAULT_SECURITY_EVENTS_BATCH;
  const flushMs = options.flushMs ?? DEFAULT_SECURITY_EVENTS_FLUSH_MS;
  const now = options.now ?? (() => new Date());
  const registers = [options.metrics.registry];
  const total = new Counter({ name: 'isthmus_security_events_total', help: 'Security events recorded, by kind and reason (the module code, or the admin action).', labelNames: ['kind', 'reason'] as const, registers });
  const dropped = new Counter({ name: 'isthmus_security_events_dropped_total', help: 'Security events not stored: the queue was full, or their batch failed to insert.', registers });
  let queue: { at: Date; event: SecurityEvent }[] = [];
  let droppedSinceLog = 0;
  let writing: Promise<void> | undefined;

  const write = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await options.store.insert(batch);
      } catch (error) {
        dropped.inc(batch.length);
        options.log.warn({ err: error, events: batch.length }, 'security events not stored');
      }
    }
    if (droppedSinceLog > 0) {
      options.log.warn({ dropped: droppedSinceLog, maxQueue }, 'security events dropped: the queue was full');
      droppedSinceLog = 0;
    }
  };
  const flush = (): Promise<void> => (writing ??= write().finally(() => (writing = undefined)));
  const timer = setInterval(() => void flush(), flushMs).unref();

  return {
    record(event) {
      total.inc({ kind: event.kind, reason: event.reason });
      if (queue.length >= maxQueue) {
        dropped.inc();
        droppedSinceLog += 1;
        return;
      }
      queue.push({ at: now(), event: bounded(event) });
    },
    async flush() {
      await writing;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await writing;
      await flush();
    },
  };
}

/** Cuts every caller-controlled text to {@link MAX_SECURITY_EVENT_TEXT}. */
function bounded(event: SecurityEvent): SecurityEvent {
  const cut = (text: string | undefined) => (text === undefined || text.length <= MAX_SECURITY_EVENT_TEXT ? text : text.slice(0, MAX_SECURITY_EVENT_TEXT));
  const { issuer, keyId, subject, user, app, bureau, clientAddress, requestId } = event;
  return {
    ...event,
    ...(issuer !== undefined && { issuer: cut(issuer) }),
    ...(keyId !== undefined && { keyId: cut(keyId) }),
    ...(subject !== undefined && { subject: cut(subject) }),
    ...(user !== undefined && { user: cut(user) }),
    ...(app !== undefined && { app: cut(app) }),
    ...(bureau !== undefined && { bureau: cut(bureau) }),
    ...(clientAddress !== undefined && { clientAddress: cut(clientAddress) }),
    ...(requestId !== undefined && { requestId: cut(requestId) }),
  };
}
