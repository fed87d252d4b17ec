import type { Logger } from '../observability/logger.ts';

/** What the HTTP layer hands graphql-yoga with every request. */
export interface GatewayServerContext {
  /** The id in the `x-request-id` response header and in every log line of the request. */
  readonly requestId: string;
  readonly log: Logger;
}
