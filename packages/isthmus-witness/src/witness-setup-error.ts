/**
 * Why a witness would not start (or a key command would not run):
 * `OPTIONS_INVALID` (flags or options), `KEY_FILE_INVALID` (the key file is
 * unreadable, for another name, or readable by others), `KEY_HISTORY_INVALID`
 * (`keys.json`), `JOURNAL_CORRUPT` (a journal line other than a torn last one
 * does not read, or the journal contradicts itself), `DATA_DIR_LOCKED`
 * (another live witness process holds the data directory).
 * The message says what to fix; it never quotes a private key.
 */
export type WitnessSetupErrorCode = 'OPTIONS_INVALID' | 'KEY_FILE_INVALID' | 'KEY_HISTORY_INVALID' | 'JOURNAL_CORRUPT' | 'DATA_DIR_LOCKED';

/** A witness that cannot start, and why; the CLI prints `<code>: <message>` and exits. */
export class WitnessSetupError extends Error {
  override readonly name = 'WitnessSetupError';
  readonly code: WitnessSetupErrorCode;
  constructor(code: WitnessSetupErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
