import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { findConnectorError } from '../../connectors/connector-error.ts';
import type { UpstreamFailure } from '../../policies/access-record.ts';
import type { AgreementsInForce, Enforcer, RequestProblem, WithheldField } from '../../policies/enforce.ts';
import { CASE_ID_HEADER, PURPOSE_HEADER } from '../../policies/request-purpose.ts';
import type { GatewayContext } from './gateway-context.ts';
import { documentError, requestError } from './error-codes.ts';
import { httpStatusOf } from '../errors/error-table.ts';
import type { QuotaMeter, QuotaRefusal } from '../quotas/quota-meter.ts';
import { quotaExceededError } from '../quotas/quota-error.ts';
import { agreementsUsed, recordsByAgreement } from '../quotas/agreements-used.ts';
import { decisionSpanEnd } from '../observability/decision-span.ts';
import { startChildSpan } from '../observability/tracing.ts';
import { anyPinsOperations } from '../../policies/agreement-operations.ts';
import { createOperationHashes, type OperationHashes } from '../operations/operation-hashes.ts';

/** The headers this endpoint reads a request's purpose and case id from (their rules: `policies/request-purpose.ts`). */
export { CASE_ID_HEADER, PURPOSE_HEADER };

/** What enforcement reads on every request. */
export interface EnforcementOptions {
  /** The enforcer `explain` uses too (`policies/enforce.ts`), so the two cannot disagree. */
  readonly enforcer: Enforcer;
  /** The agreements in force now; read synchronously on every request, refreshed elsewhere. */
  readonly agreements: () => AgreementsInForce;
  readonly now?: () => Date;
  /** Agreement quotas (`quotas/quota-meter.ts`): admitted before any bureau is called, records spent after. Absent: none enforced. */
  readonly quotas?: QuotaMeter;
  /** The gateway's one hash per document (`operations/operation-hashes.ts`), for agreements that pin operations. */
  readonly hashes?: OperationHashes;
}

/**
 * Enforces sharing agreements on every operation, before any bureau is
 * called: a thin adapter over `policies/enforce.ts`, which plans, decides,
 * prunes, shapes, masks and builds the access log's record. This plugin
 * hands it the request's facts (the principal, the purpose headers, the
 * document, the variables, the agreements in force, the clock), runs yoga's
 * own executor on the document it returns, and turns its coded refusals and
 * withheld fields into GraphQL errors.
 *
 * It puts the decision in the context (for the consumer identity) and the
 * access record (for the access log), through `extendContext`.
 */
export function useEnforcement(options: EnforcementOptions): Plugin<GatewayContext> {
  const { enforcer } = options;
  const now = options.now ?? (() => new Date());
  const hashes = options.hashes ?? createOperationHashes();
  return {
    onExecute({ args, context, extendContext, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const { principal, request } = context;
      if (!principal) {
        // Authentication runs first and refuses requests without a principal; this is the backstop.
        setResultAndStopExecution({ errors: [new GraphQLError('The request has no verified identity.', { extensions: { code: 'FORBIDDEN' } })] });
        return;
      }
      const agreements = options.agreements();
      const span = startChildSpan(context.trace, 'plan and decide');
      const enforced = enforcer.enforce({
        principal,
        stated: { purpose: request.headers.get(PURPOSE_HEADER), caseId: request.headers.get(CASE_ID_HEADER) },
        document: args.document,
        operationName: args.operationName,
        variables: args.variableValues,
        agreements,
        now: now(),
        // Only when an agreement in force pins operations: otherwise no request needs the hash.
        ...(anyPinsOperations(agreements.agreements) ? { operationHash: hashes.ofDocument(args.document, request) } : {}),
      });
      if (span) decisionSpanEnd(span, enforced);
      switch (enforced.kind) {
        case 'invalid':
          setResultAndStopExecution({ errors: [problemError(enforced.problem)] });
          return;
        case 'refused':
          extendContext({ enforcement: enforced.decided, accessRecord: enforced.record });
          setResultAndStopExecution({ data: null, errors: enforced.withheld.map((withheld) => withheldError(withheld, httpStatusOf('FORBIDDEN'))) });
          return;
        case 'execute':
          extendContext({ enforcement: enforced.decided });
          setExecuteFn(async (executionArgs: ExecutionArgs) => {
            const used = agreementsUsed(enforced.decided, agreements);
            let overQuota: QuotaRefusal | undefined;
            try {
              overQuota = options.quotas && used.length > 0 ? await options.quotas.admit(used, now()) : undefined;
            } catch (error) {
              // The shared counters are the gateway's store: when it cannot answer, nothing is read (as when the log cannot be written).
              context.log.error({ err: error, requestId: context.requestId }, 'quota check failed: the store did not answer; nothing read');
              return { data: null, errors: [requestError('STORE_UNAVAILABLE', 'The quotas of the agreements this read uses could not be checked, so nothing is read. Try again shortly.')] };
            }
            if (overQuota) {
              const record = enforced.refuse('QUOTA_EXCEEDED', now());
              if (record) extendContext({ accessRecord: record });
              return { data: null, errors: [quotaExceededError(overQuota)] };
            }
            // Yoga's own executor (the one it would have run), on the pruned, subject-keyed document.
            const result = await executeFn({ ...executionArgs, document: enforced.document });
            // Queries never stream; a stream would have no single result to present.
            if (Symbol.asyncIterator in result) return result;
            const presented = enforced.present({ data: result.data, upstreamFailures: upstreamFailures(result.errors ?? []) }, now());
            // The record is known only now, after execution; the access log's after-hook reads it.
            if (presented.record) extendContext({ accessRecord: presented.record });
            if (options.quotas && presented.record && used.length > 0) options.quotas.spend(used, recordsByAgreement(used, presented.record), now());
            const errors = [...presented.withheld.map((withheld) => withheldError(withheld)), ...(result.errors ?? [])];
            return { ...result, data: presented.data, ...(errors.length > 0 ? { errors } : {}) };
          });
          return;
      }
    },
  };
}

/** One failure per bureau, from the connector errors among the execution's errors: the log says which bureau failed and why. */
function upstreamFailures(errors: readonly GraphQLError[]): UpstreamFailure[] {
  const failures = new Map<string, string>();
  for (const error of errors) {
    const connectorError = findConnectorError(error);
    if (connectorError && !failures.has(connectorError.bureau)) {
      failures.set(connectorError.bureau, 'failure' in connectorError ? String(connectorError.failure) : connectorError.code);
    }
  }
  return [...failures].map(([bureau, reason]) => ({ bureau, reason }));
}

/**
 * A problem with the operation itself (one the document does not name, variables that do not coerce) is a
 * GraphQL request error, answered 200 to an `application/json` client; a malformed purpose or case id header is 400 for every client.
 */
function problemError(problem: RequestProblem): GraphQLError {
  const raise = problem.field === 'query' || problem.field === 'variables' ? documentError : requestError;
  return raise(problem.code, problem.message, { reason: problem.reason });
}

/** A withheld field as a GraphQL error at its path; `status` when it refuses the whole operation. */
function withheldError(withheld: WithheldField, status?: number): GraphQLError {
  const { code, message, path, ...details } = withheld;
  return new GraphQLError(message, { path, extensions: { code, ...details, ...(status ? { http: { status } } : {}) } });
}
