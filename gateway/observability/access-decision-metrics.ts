import { Counter } from 'prom-client';
import type { AccessRecord } from '../../policies/access-record.ts';
import type { Metrics } from './metrics.ts';

/** Counts the access log's decisions as their records are committed. */
export type CountAccessDecision = (record: Pick<AccessRecord, 'outcome' | 'denied' | 'fieldsReturned'>) => void;

/**
 * `isthmus_access_decisions_total{outcome,reason}`: one per committed record
 * with its outcome (reason `NONE`), one per denied field with the decision's
 * deny reason (outcome `DENIED_FIELD`), one per masked field (outcome
 * `MASKED`, reason the mask). Every label value is from a closed set.
 */
export function createAccessDecisionCounter(metrics: Pick<Metrics, 'registry'>): CountAccessDecision {
  const counter = new Counter({
    name: 'isthmus_access_decisions_total',
    help: 'Access decisions committed to the access log: per record its outcome, per denied field its reason, per masked field its mask.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [metrics.registry],
  });
  return (record) => {
    counter.inc({ outcome: record.outcome, reason: 'NONE' });
    for (const field of record.denied) counter.inc({ outcome: 'DENIED_FIELD', reason: field.reason });
    for (const field of record.fieldsReturned) if (field.mask !== undefined) counter.inc({ outcome: 'MASKED', reason: field.mask });
  };
}
