/**
 * Who is asking: the identity a verified token speaks for, mapped from the
 * issuer's own claim names onto one shape.
 */

/**
 * Roles a principal may hold. `auditor` (审计员) reads and verifies, and
 * changes nothing: level-3 protection keeps audit apart from the operator's
 * and the data officer's duties.
 */
export type Role = 'developer' | 'data_officer' | 'citizen' | 'operator' | 'auditor';

/** All roles, for validation. */
export const ROLES: readonly Role[] = ['developer', 'data_officer', 'citizen', 'operator', 'auditor'];

/** A verified caller. */
export interface Principal {
  /** The token's `iss`. */
  readonly issuer: string;
  /** The token's `sub`. */
  readonly subject: string;
  /** The consumer bureau the caller acts for (`market-supervision`). */
  readonly bureau: string;
  /** The client application (`one-stop-service-app`). */
  readonly app: string;
  /** The person at the keyboard, when the token names one. */
  readonly user?: string;
  readonly roles: readonly Role[];
  /** Scopes the token grants; each active agreement names the scope that exercises it. */
  readonly scopes: readonly string[];
  /** For citizen apps: the signed-in citizen's resident ID number, the data subject `SELF` agreements allow. */
  readonly citizen?: string;
  /** Purpose and case id carried by the token itself, if its issuer puts them there. */
  readonly purpose?: string;
  readonly caseId?: string;
  /** The token's `exp`, seconds since the epoch. */
  readonly expiresAt: number;
}

/** Why this request reads data: its purpose and, when it serves a citizen's application, the case file number. */
export interface RequestPurpose {
  readonly purpose?: string;
  readonly caseId?: string;
}
