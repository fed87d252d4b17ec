import { Counter, Gauge, type Registry } from 'prom-client';
import type { Agreement } from '../../policies/agreement.ts';
import { QUOTA_KINDS, type QuotaKind } from '../../policies/agreement-quota.ts';
import type { QuotaStore } from './quota-store.ts';

/** The quota metrics the gateway updates. */
export interface QuotaMetrics {
  /** Counts one refusal (`isthmus_quota_refusals_total{kind}`). */
  refused(kind: QuotaKind): void;
}

/**
 * Registers `isthmus_agreement_quota_limit{agreement,kind}` and
 * `isthmus_agreement_quota_used{agreement,kind}` (read at scrape time from
 * the agreements in force and the shared counters: every replica shows the
 * same use) and `isthmus_quota_refusals_total{kind}`. Agreement ids are
 * bounded by the store, so the labels are too.
 */
export function registerQuotaMetrics(registry: Registry, inForce: () => readonly Agreement[], store: Pick<QuotaStore, 'use'>, now: () => Date = () => new Date()): QuotaMetrics {
  const withQuota = () => inForce().filter((agreement) => agreement.quota);
  new Gauge({
    name: 'isthmus_agreement_quota_limit',
    help: 'The quota an agreement in force sets, per kind (requestsPerMinute, recordsPerDay).',
    labelNames: ['agreement', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const agreement of withQuota()) {
        for (const kind of QUOTA_KINDS) {
          const limit = agreement.quota?.[kind];
          if (limit !== undefined) this.set({ agreement: agreement.id, kind }, limit);
        }
      }
    },
  });
  new Gauge({
    name: 'isthmus_agreement_quota_used',
    help: 'Units of an agreement quota leased by all replicas in the current window (minute, or day in Asia/Shanghai).',
    labelNames: ['agreement', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const at = now();
      for (const agreement of withQuota()) {
        const use = await store.use(agreement.id, at);
        for (const kind of QUOTA_KINDS) {
          const limit = agreement.quota?.[kind];
          if (limit !== undefined) this.set({ agreement: agreement.id, kind }, Math.min(use[kind], limit));
        }
      }
    },
  });
  const refusals = new Counter({ name: 'isthmus_quota_refusals_total', help: 'Requests refused over an agreement quota, per kind.', labelNames: ['kind'], registers: [registry] });
  return { refused: (kind) => refusals.inc({ kind }) };
}
