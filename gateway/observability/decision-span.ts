import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Enforcement } from '../../policies/enforce.ts';

/**
 * Ends the span of planning and deciding one operation with what was
 * decided: the outcome, the agreements that released data, the providing
 * bureaus, how many fields were denied and why (reason codes, sorted). No
 * field value, person or token: the decision names none.
 */
export function decisionSpanEnd(span: Span, enforced: Enforcement): void {
  if (enforced.kind === 'invalid') {
    span.setAttributes({ 'isthmus.decision.outcome': 'INVALID', 'error.type': enforced.problem.reason });
    span.setStatus({ code: SpanStatusCode.ERROR, message: enforced.problem.reason });
    span.end();
    return;
  }
  const { decided } = enforced;
  const { decision } = decided;
  const reasons = [...new Set(decision.denied.map((denied) => denied.reason))].sort();
  span.setAttributes({
    'isthmus.decision.outcome': decided.outcome,
    'isthmus.decision.refused_whole': decided.refusedWhole,
    'isthmus.decision.agreements': [...decision.agreementIds],
    'isthmus.decision.provider_bureaus': [...decision.providerBureaus],
    'isthmus.decision.denied_fields': decision.denied.length,
    'isthmus.decision.deny_reasons': reasons,
  });
  span.end();
}
