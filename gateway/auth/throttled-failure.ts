import { answerOf, type ErrorCode } from '../errors/error-table.ts';

/**
 * Whether a failed authentication counts against the client's address in
 * the throttle: a token was presented and refused as the holder's fault
 * (401). No token at all (`TOKEN_MISSING`: a browser's first visit, a
 * GraphiQL page) guesses nothing, and a failure of ours (keys away, 503; an
 * issuer that cannot work, 500) says nothing of the client.
 */
export function countsAsFailure(code: ErrorCode): boolean {
  return code !== 'TOKEN_MISSING' && answerOf(code).status === 401;
}
