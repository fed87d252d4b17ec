/** Every code a store error can carry. */
export type StoreErrorCode = 'STORE_UNAVAILABLE' | 'MIGRATION_FAILED' | 'MIGRATIONS_PENDING';

/** An error of the gateway's own database. The message is safe to show; the driver's error is in `cause`. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
