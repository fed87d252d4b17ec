/**
 * How a step of an agreement's life is refused: a code the gateway maps to
 * a status, the field or rule at fault, and a message safe to show.
 */

/** Codes a refused step carries; the admin API maps them to 400, 403 and 409. */
export type LifecycleErrorCode = 'BAD_USER_INPUT' | 'FORBIDDEN' | 'CONFLICT';

/** Which authorization rule a `FORBIDDEN` refusal broke, so clients and tests can tell them apart. */
export type LifecycleRule =
  /** Requests are made by a developer or data officer (not a citizen app, not an operator). */
  | 'REQUESTER_ROLE'
  /** Only people of the consumer bureau request or submit its agreements. */
  | 'CONSUMER_BUREAU'
  /** Only a data officer of the providing bureau approves, rejects or revokes. */
  | 'PROVIDER_DATA_OFFICER'
  /** The person who requested an agreement never decides on it. */
  | 'SEPARATION_OF_DUTIES';

/** A step that was refused, and why. The message names the field or rule and is safe to show. */
export interface LifecycleRefusal {
  readonly ok: false;
  readonly code: LifecycleErrorCode;
  readonly message: string;
  /** For `BAD_USER_INPUT`: the input field at fault, e.g. `fields[2]` or `validUntil`. */
  readonly field?: string;
  /** For `FORBIDDEN`: the rule broken. */
  readonly rule?: LifecycleRule;
}

/** The input `field` is at fault. */
export function badInput(field: string, message: string): LifecycleRefusal {
  return { ok: false, code: 'BAD_USER_INPUT', message, field };
}

/** The person may not take the step: `rule` says why. */
export function forbidden(rule: LifecycleRule, message: string): LifecycleRefusal {
  return { ok: false, code: 'FORBIDDEN', message, rule };
}

/** The agreement is not in a state the step applies to. */
export function conflict(message: string): LifecycleRefusal {
  return { ok: false, code: 'CONFLICT', message };
}
