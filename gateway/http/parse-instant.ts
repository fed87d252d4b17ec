import { ApiError } from '../errors/api-error.ts';

/** A date, or an instant with its offset: `2026-03-01`, `2026-03-01T08:00:00Z`, `2026-03-01T16:00:00.000+08:00`. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
/** Years PostgreSQL's timestamptz and JavaScript's Date both hold, and that a person means. */
const YEARS = [1, 9999] as const;

/**
 * An ISO 8601 date or instant from a query parameter or body property.
 * `Date.parse` alone takes "May 5", a local time without offset, or a year
 * PostgreSQL cannot hold (which then failed as a 500); this takes only
 * what the API documents.
 *
 * @throws ApiError `BAD_USER_INPUT` naming `field`.
 * @example
 * parseInstant('2026-03-01T00:00:00Z', 'from'); // Date
 */
export function parseInstant(value: string, field: string): Date {
  const at = ISO_8601.test(value) ? new Date(value) : new Date(Number.NaN);
  const year = at.getUTCFullYear();
  if (Number.isNaN(at.getTime()) || year < YEARS[0] || year > YEARS[1]) {
    throw new ApiError('BAD_USER_INPUT', `${field} must be an ISO 8601 date or instant with its offset, e.g. 2026-03-01T00:00:00Z, in the years ${YEARS[0]}–${YEARS[1]}`, { field });
  }
  return at;
}
