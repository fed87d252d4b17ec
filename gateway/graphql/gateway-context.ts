import type { Logger } from '../observability/logger.ts';
import type { Principal, RequestPurpose } from '../../policies/principal.ts';
import type { OperationPlan } from '../../policies/field-plan.ts';
import type { OperationDecision } from '../../policies/decide.ts';
import type { RecordsRead } from './subject-keys.ts';

/** The header that carries a request's id: echoed to the client, and sent to the bureaus with every upstream call. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What the HTTP layer hands graphql-yoga with every request. */
export interface GatewayServerContext {
  /** The id in the `x-request-id` response header and in every log line of the request. */
  readonly requestId: string;
  /** The gateway's logger; a line about this request names `requestId` itself. */
  readonly log: Logger;
  /** When the request arrived (`performance.now()`), for the access log's duration. */
  readonly startedAt: number;
}

/** What enforcement decided for this operation, for the plugins after it (masks, access log, upstream identity). */
export interface Enforcement {
  readonly plan: OperationPlan;
  readonly decision: OperationDecision;
  readonly purpose: RequestPurpose;
  /** Whose records the executed operation returned and how many per bureau; set once it has run. */
  records?: RecordsRead;
}

/**
 * The GraphQL context of one request, filled in plugin order:
 * authentication sets `principal`, enforcement sets `enforcement`.
 */
export interface GatewayContext extends GatewayServerContext {
  principal?: Principal;
  enforcement?: Enforcement;
}
