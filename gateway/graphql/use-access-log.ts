import { createHash } from 'node:crypto';
import { GraphQLError, getOperationAST, print, type DocumentNode, type ExecutionResult, type GraphQLError as GraphQLErrorType } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Agreement } from '../../policies/agreement.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import { findConnectorError } from '../../connectors/connector-error.ts';
import type { AccessLogEntryInput, AccessOutcome } from '../access-log/access-log-entry.ts';
import type { AccessLogWriter } from '../access-log/access-log-writer.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayContext } from './gateway-context.ts';

/** What the access log plugin needs. */
export interface AccessLogPluginOptions {
  readonly writer: Pick<AccessLogWriter, 'append'>;
  readonly catalogue: Catalogue;
  /** The agreements in force by id, to find a disclosure delay among those a request used. */
  readonly agreements: () => { readonly byId: ReadonlyMap<string, Agreement> };
  readonly log: Logger;
  readonly now?: () => Date;
}

const DAY_MS = 86_400_000;

/**
 * No log, no data: every operation that touches another bureau's data —
 * allowed, partly allowed or denied — is written to the access log, and the
 * response waits until its entry is committed (group commit: it waits for
 * the batch its entry is in, not for a round trip of its own). If the entry
 * cannot be committed, the client gets an error and none of the data.
 *
 * Placed before enforcement in the plugin order so that its `onExecuteDone`
 * also sees operations that enforcement refused as a whole.
 */
export function useAccessLog(options: AccessLogPluginOptions): Plugin<GatewayContext> {
  const now = options.now ?? (() => new Date());
  const hashes = new WeakMap<DocumentNode, string>();
  const operationHash = (document: DocumentNode): string => {
    let hash = hashes.get(document);
    if (hash === undefined) {
      hash = createHash('sha256').update(document.loc?.source.body ?? print(document)).digest('hex');
      hashes.set(document, hash);
    }
    return hash;
  };

  return {
    onExecute({ args }) {
      return {
        async onExecuteDone({ result, setResult }) {
          const context = args.contextValue as GatewayContext & { request?: Request };
          const { principal, enforcement } = context;
          if (!principal || !enforcement || Symbol.asyncIterator in result) return;
          const { decision } = enforcement;
          const crossBureau = decision.denied.length > 0 || decision.providerBureaus.some((bureau) => bureau !== principal.bureau);
          if (!crossBureau) return;

          const executed = result as ExecutionResult;
          const upstreamErrors = upstreamFailures(executed.errors ?? []);
          const failedBureaus = new Set(upstreamErrors.map((failure) => failure.bureau));
          const at = now();
          const { byId } = options.agreements();
          const delays = decision.agreementIds.flatMap((id) => byId.get(id)?.disclosureDelay ?? []);
          const longest = delays.sort((a, b) => b.days - a.days)[0];
          const entry: AccessLogEntryInput = {
            requestId: context.requestId,
            occurredAt: at,
            action: 'READ',
            consumerBureau: principal.bureau,
            clientApp: principal.app,
            ...(principal.user ? { user: principal.user } : {}),
            roles: principal.roles,
            ...(principal.citizen ? { citizen: principal.citizen } : {}),
            ...(enforcement.purpose.purpose ? { purpose: enforcement.purpose.purpose } : {}),
            ...(enforcement.purpose.caseId ? { caseId: enforcement.purpose.caseId } : {}),
            agreementIds: decision.agreementIds,
            // The bureaus whose data was released or refused: a refused attempt is audited by the bureau it targeted.
            providerBureaus: [...new Set([...decision.providerBureaus, ...decision.denied.flatMap((denial) => (denial.bureau ? [denial.bureau] : []))])].sort(),
            fieldsRequested: decision.requested,
            // Released by the decision and actually delivered: a failed bureau's fields came back null.
            fieldsReturned: decision.released.filter((field) => !failedBureaus.has(options.catalogue.fields.get(field.coordinate)?.bureau ?? '')),
            denied: decision.denied.map((denial) => ({ coordinate: denial.coordinate, path: denial.path.join('.'), reason: denial.reason })),
            subjects: enforcement.records?.subjects ?? [],
            rowCounts: enforcement.records?.rowCounts ?? {},
            upstreamErrors,
            durationMs: Math.round((performance.now() - context.startedAt) * 100) / 100,
            operationHash: operationHash(args.document),
            ...operationNameOf(args.document, args.operationName),
            outcome: outcomeOf(decision.outcome, enforcement.records === undefined, failedBureaus.size > 0 && executed.data == null),
            ...(longest ? { disclosure: { hiddenUntil: new Date(at.getTime() + longest.days * DAY_MS), legalReason: longest.legalReason } } : {}),
          };
          try {
            await options.writer.append(entry, context.request?.signal);
          } catch (error) {
            context.log.error({ err: error, requestId: context.requestId }, 'access log entry not committed; response withheld');
            setResult({
              data: null,
              errors: [
                new GraphQLError('The access log could not record this read, so no data is released. Try again shortly.', {
                  extensions: { code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '2' } } },
                }),
              ],
            });
          }
        },
      };
    },
  };
}

/** The executed operation's own name: most clients send none beside the document. */
function operationNameOf(document: DocumentNode, requested: string | null | undefined): { operationName?: string } {
  const name = getOperationAST(document, requested ?? undefined)?.name?.value;
  return name ? { operationName: name } : {};
}

function upstreamFailures(errors: readonly GraphQLErrorType[]): { bureau: string; reason: string }[] {
  const failures = new Map<string, string>();
  for (const error of errors) {
    const connectorError = findConnectorError(error);
    if (connectorError && !failures.has(connectorError.bureau)) {
      failures.set(connectorError.bureau, 'failure' in connectorError ? String(connectorError.failure) : connectorError.code);
    }
  }
  return [...failures].map(([bureau, reason]) => ({ bureau, reason }));
}

/** Refused before execution counts as DENIED; an execution that returned nothing because bureaus failed, FAILED. */
function outcomeOf(decided: 'ALLOWED' | 'PARTIAL' | 'DENIED', notExecuted: boolean, failed: boolean): AccessOutcome {
  if (notExecuted && decided !== 'ALLOWED') return 'DENIED';
  if (failed) return 'FAILED';
  return decided;
}
