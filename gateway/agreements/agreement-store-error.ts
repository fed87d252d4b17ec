/** Every code an agreement store error can carry. */
export type AgreementStoreErrorCode =
  /** Someone else changed the agreement first (its version moved on), or the id is taken. */
  | 'CONFLICT'
  /** A page cursor that this store did not hand out. */
  | 'BAD_CURSOR';

/** A refusal of the agreement store. The message is safe to show; a driver error, if any, is in `cause`. */
export class AgreementStoreError extends Error {
  readonly code: AgreementStoreErrorCode;
  constructor(code: AgreementStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgreementStoreError';
    this.code = code;
  }
}
