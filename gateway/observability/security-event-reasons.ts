import type { DenyReason } from '../../policies/decision.ts';
import type { RefusalErrorCode } from '../errors/error-table.ts';

/**
 * The admin and console actions the API edge records when done
 * (`actionOf` in `http/record-api-events.ts`: the route's pattern in words),
 * one per route that changes something. A new route's action is shown by
 * its code until it is listed here and given words (the console's
 * `secevents.reason.*`).
 */
export const ADMIN_ACTIONS = [
  'AGREEMENTS_CREATE',
  'AGREEMENTS_SUBMIT',
  'AGREEMENTS_APPROVE',
  'AGREEMENTS_REJECT',
  'AGREEMENTS_REVOKE',
  'CATALOGUE_RELOAD',
  'EXPLAIN_CREATE',
  'OPERATIONS',
  'CONSOLE_SIGN_IN_PERSONA',
  'CONSOLE_SIGN_OUT',
  'CONSOLE_LANGUAGE',
  'CONSOLE_AGREEMENTS',
  'CONSOLE_REQUESTS',
  'CONSOLE_REQUESTS_SUBMIT',
  'CONSOLE_AUDIT_VERIFY',
] as const;

/** A done action's reason. */
export type AdminActionReason = (typeof ADMIN_ACTIONS)[number];

/**
 * Every reason a security event can carry: a refusal's module code (the
 * error table's refusing codes, or a field's deny reason when a whole
 * operation is refused), or a done action. Tables keyed by it
 * (`Record<SecurityEventReason, …>`) do not compile until a new code has
 * its entry.
 */
export type SecurityEventReason = RefusalErrorCode | DenyReason | AdminActionReason;
