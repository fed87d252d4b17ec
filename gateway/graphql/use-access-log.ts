import type { Plugin } from 'graphql-yoga';
import type { AccessLogEntryInput } from '../access-log/access-log-entry.ts';
import type { AccessLogWriter } from '../access-log/access-log-writer.ts';
import type { EvidenceGate } from '../access-log/evidence-gate.ts';
import type { GatewayContext } from './gateway-context.ts';
import { requestError } from './error-codes.ts';
import type { CountAccessDecision } from '../observability/access-decision-metrics.ts';
import { failSpan, startChildSpan } from '../observability/tracing.ts';
import { createOperationHashes, type OperationHashes } from '../operations/operation-hashes.ts';

/** What the access log plugin needs. */
export interface AccessLogPluginOptions {
  readonly writer: Pick<AccessLogWriter, 'append'>;
  /** Witnesses silent past the grace period: no data is released (absent: no witnesses, always open). */
  readonly evidence?: Pick<EvidenceGate, 'state'>;
  /** Counts each committed record's decisions (`isthmus_access_decisions_total`). */
  readonly countDecision?: CountAccessDecision;
  /** The gateway's one hash per document (`operations/operation-hashes.ts`), shared with trusted operations and enforcement. */
  readonly hashes?: OperationHashes;
}

/**
 * No log, no data: every operation that touches another bureau's data —
 * allowed, partly allowed or denied — is written to the access log, and the
 * response waits until its entry is committed (group commit: it waits for
 * the batch its entry is in, not for a round trip of its own). If the entry
 * cannot be committed, the client gets an error and none of the data.
 *
 * The record itself is enforcement's (`policies/enforce.ts` builds it, and
 * decides whether there is one); this plugin adds what only the gateway
 * knows — the request id, the time taken, the document's hash — and appends.
 *
 * Placed before enforcement in the plugin order so that its `onExecuteDone`
 * also sees operations that enforcement refused as a whole.
 */
export function useAccessLog(options: AccessLogPluginOptions): Plugin<GatewayContext> {
  const hashes = options.hashes ?? createOperationHashes();

  return {
    onExecute({ args, context }) {
      return {
        async onExecuteDone({ setResult }) {
          const record = context.accessRecord;
          if (!record) return;
          const evidence = options.evidence?.state();
          if (evidence && !evidence.open) {
            // The log would record the read, but nothing outside the database would vouch for it: refuse, as when the log cannot record.
            context.log.warn({ requestId: context.requestId, since: evidence.oldestUncoveredAt }, 'access log not witnessed within the grace period; response withheld');
            setResult({
              data: null,
              errors: [
                requestError('EVIDENCE_UNWITNESSED', 'No witness has cosigned the access log for too long, so no data is released. Try again later.'),
              ],
            });
            return;
          }
          const entry: AccessLogEntryInput = {
            ...record,
            requestId: context.requestId,
            action: 'READ',
            durationMs: Math.round((performance.now() - context.startedAt) * 100) / 100,
            // The log has always kept the bare hex digest.
            operationHash: hashes.ofDocument(args.document, context.request).slice('sha256:'.length),
          };
          // The wait for the group commit this entry rides in, and how many entries that batch carried.
          const span = startChildSpan(context.trace, 'access log commit');
          try {
            const appended = await options.writer.append(entry, context.request.signal);
            options.countDecision?.(record);
            span?.setAttributes({ 'isthmus.access_log.batch_size': appended.batchSize, 'isthmus.access_log.seq': appended.seq });
            span?.end();
          } catch (error) {
            if (span) {
              failSpan(span, error);
              span.end();
            }
            context.log.error({ err: error, requestId: context.requestId }, 'access log entry not committed; response withheld');
            setResult({
              data: null,
              errors: [
                requestError('ACCESS_LOG_UNAVAILABLE', 'The access log could not record this read, so no data is released. Try again shortly.'),
              ],
            });
          }
        },
      };
    },
  };
}
