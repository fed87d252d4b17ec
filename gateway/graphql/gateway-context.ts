import type { Logger } from '../observability/logger.ts';
import type { Principal } from '../../policies/principal.ts';
import type { DecidedOperation } from '../../policies/enforce.ts';
import type { AccessRecord } from '../../policies/access-record.ts';
import type { RequestTrace } from '../observability/tracing.ts';

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
  /** Where the request came from (`http/client-address.ts`): the peer, or the first untrusted hop behind a trusted proxy. */
  readonly clientAddress: string;
  /** The request's span and trace context (`observability/tracing.ts`); absent when tracing is off, so every stage's check is one read. */
  readonly trace?: RequestTrace;
}

/**
 * The GraphQL context of one request: the one place it is declared. Each
 * plugin fills its part through yoga's `extendContext`, in plugin order
 * (`yoga.ts`), and the ones after it read it; nothing else writes to it.
 */
export interface GatewayContext extends GatewayServerContext {
  /** Who is asking; `useAuthentication`, while yoga builds the context. */
  readonly principal?: Principal;
  /** The purpose, plan and decision; `useEnforcement`, before execution. Read by the consumer identity. */
  readonly enforcement?: DecidedOperation;
  /** The signed consumer assertion per providing bureau; `useConsumerIdentity`. Read by the connectors' upstream headers. */
  readonly consumerIdentities?: ReadonlyMap<string, string>;
  /** The consumer settings per providing database bureau (`CONSUMER_SETTINGS`); `useConsumerIdentity`. Read by the `sql` connectors' session settings. */
  readonly consumerSettings?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * What the access log appends for this operation; `useEnforcement`, once
   * the operation was refused or executed. Absent for an operation that
   * touched only the caller's own bureau, or that could not be decided.
   */
  readonly accessRecord?: AccessRecord;
}
