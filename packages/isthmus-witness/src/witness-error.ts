/**
 * Why a witness refused a request. One code per failure, each with the HTTP
 * status the C2SP tlog-witness API gives it, so the HTTP layer maps errors in
 * one place and a client can `switch` over the codes:
 *
 * - 400 `MALFORMED` (the body, the note or the checkpoint does not parse),
 *   `SIZE_WENT_BACKWARDS` (the checkpoint is smaller than `old`);
 * - 403 `ORIGIN_NOT_ACCEPTED` (not under an accepted prefix), `LOG_KEY_UNKNOWN`
 *   (no signature by a trusted log key), `SIGNATURE_INVALID` (a trusted key's
 *   signature that does not verify);
 * - 404 `ORIGIN_UNKNOWN`, `NOT_FOUND`; 405 `METHOD_NOT_ALLOWED`; 413 `BODY_TOO_LARGE`;
 * - 409 `OLD_SIZE_MISMATCH` (`old` is not the witness's latest size; `latestSize` says it);
 * - 422 `INCONSISTENT` (the proof does not join the two trees), `PREVIOUS_MISMATCH`
 *   (the `previous` line does not name the witness's latest checkpoint),
 *   `ROOT_CONFLICT` (the same size with another root), `ALREADY_FINAL`;
 * - 500 `INTERNAL`.
 *
 * Messages name sizes, origins and key names (all public), never a secret.
 */
export type WitnessErrorCode =
  | 'MALFORMED'
  | 'SIZE_WENT_BACKWARDS'
  | 'ORIGIN_NOT_ACCEPTED'
  | 'LOG_KEY_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'ORIGIN_UNKNOWN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'OLD_SIZE_MISMATCH'
  | 'INCONSISTENT'
  | 'PREVIOUS_MISMATCH'
  | 'ROOT_CONFLICT'
  | 'ALREADY_FINAL'
  | 'INTERNAL';

/** The base of every refusal a witness answers with. */
export abstract class WitnessError extends Error {
  abstract readonly code: WitnessErrorCode;
  abstract readonly status: number;
  override readonly name: string = this.constructor.name;
}

/** The request body, the note in it, or the checkpoint it carries does not parse. */
export class RequestMalformed extends WitnessError {
  readonly code = 'MALFORMED';
  readonly status = 400;
}

/** The checkpoint commits to fewer entries than the `old` size the request states. */
export class SizeWentBackwards extends WitnessError {
  readonly code = 'SIZE_WENT_BACKWARDS';
  readonly status = 400;
}

/** The checkpoint's origin is not under any prefix this witness accepts. */
export class OriginNotAccepted extends WitnessError {
  readonly code = 'ORIGIN_NOT_ACCEPTED';
  readonly status = 403;
}

/** The note carries no signature by any log key this witness trusts. */
export class LogKeyUnknown extends WitnessError {
  readonly code = 'LOG_KEY_UNKNOWN';
  readonly status = 403;
}

/** A signature line claims a trusted log key and does not verify. */
export class SignatureInvalid extends WitnessError {
  readonly code = 'SIGNATURE_INVALID';
  readonly status = 403;
}

/** No checkpoint was ever cosigned for the origin asked about. */
export class OriginUnknown extends WitnessError {
  readonly code = 'ORIGIN_UNKNOWN';
  readonly status = 404;
}

/** No such route. */
export class NotFound extends WitnessError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

/** The route exists, not with this method. */
export class MethodNotAllowed extends WitnessError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly status = 405;
}

/** The request body is larger than the witness reads. */
export class BodyTooLarge extends WitnessError {
  readonly code = 'BODY_TOO_LARGE';
  readonly status = 413;
}

/** `old` is not the size of the last checkpoint this witness cosigned for the origin. */
export class OldSizeMismatch extends WitnessError {
  readonly code = 'OLD_SIZE_MISMATCH';
  readonly status = 409;
  /** The size of the witness's latest checkpoint for the origin (0 when it has none). */
  readonly latestSize: number;
  constructor(message: string, latestSize: number, options?: ErrorOptions) {
    super(message, options);
    this.latestSize = latestSize;
  }
}

/** The consistency proof does not show the witness's latest tree as a prefix of the new one. */
export class ProofInconsistent extends WitnessError {
  readonly code = 'INCONSISTENT';
  readonly status = 422;
}

/** The checkpoint's `previous` line does not name the witness's latest checkpoint (one was skipped, replaced or invented). */
export class PreviousMismatch extends WitnessError {
  readonly code = 'PREVIOUS_MISMATCH';
  readonly status = 422;
}

/** The same size as the witness's latest checkpoint, with another root: history was rewritten. */
export class RootConflict extends WitnessError {
  readonly code = 'ROOT_CONFLICT';
  readonly status = 422;
}

/** The origin already ended with a `final` checkpoint; nothing may follow it. */
export class AlreadyFinal extends WitnessError {
  readonly code = 'ALREADY_FINAL';
  readonly status = 422;
}

/** Anything unexpected; the cause is logged, never sent. */
export class WitnessInternal extends WitnessError {
  readonly code = 'INTERNAL';
  readonly status = 500;
}

/** Whether `error` is one of the witness's refusals. */
export function isWitnessError(error: unknown): error is WitnessError {
  return error instanceof WitnessError;
}
