import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER } from '../graphql/gateway-context.ts';

/** A caller's request id is kept only if it is short and plain, so it can be logged and echoed safely. */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id of a request as the gateway's listener assigned it (it puts its id
 * in the request's `x-request-id` before a route sees it). A request that did
 * not come through the listener (a test calling `app.request()`) gets one
 * drawn here and written into its headers, so that its error, its log line
 * and its access-log entry name the same id, even after middleware has
 * copied the request.
 */
export function requestIdOf(request: Request): string {
  const offered = request.headers.get(REQUEST_ID_HEADER);
  if (offered !== null && SAFE_REQUEST_ID.test(offered)) return offered;
  const id = randomUUID();
  try {
    request.headers.set(REQUEST_ID_HEADER, id);
  } catch {
    // Immutable headers (a request some runtime froze): the id still names this answer.
  }
  return id;
}
