import type { SecurityEventKind } from './security-event-store.ts';

/** Client codes whose refusal of a whole request is a security event; the others (bad input, upstream trouble, our faults) are not. */
export const REFUSAL_CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'LIMIT_EXCEEDED']);

/**
 * The kind of a refusal from its client code and module reason: a refused
 * token, a quota, a throttle, else `otherwise` (an operation on `/graphql`,
 * an access on the JSON APIs).
 */
export function refusalKind(code: string, reason: string, otherwise: SecurityEventKind): SecurityEventKind {
  if (code === 'UNAUTHENTICATED') return 'TOKEN_REFUSED';
  if (reason === 'QUOTA_EXCEEDED') return 'QUOTA_REFUSED';
  if (reason === 'AUTH_THROTTLED') return 'THROTTLED';
  return otherwise;
}
