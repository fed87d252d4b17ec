/** Why an import was refused: each code names one kind of bad input. */
export type BureauImportErrorCode =
  | 'IMPORT_UNREACHABLE'
  | 'IMPORT_BAD_DOCUMENT'
  | 'IMPORT_BAD_REF'
  | 'IMPORT_NO_PRIMARY_KEY'
  | 'IMPORT_BAD_NAME'
  | 'IMPORT_NOTHING_TO_IMPORT'
  | 'IMPORT_WRITE_FAILED';

/**
 * An import that wrote nothing. The message names the place (a URL's host, a
 * file and JSON pointer, `schema.table.column`) but never a password, a token
 * or a row of data; the underlying error is in `cause`.
 */
export class BureauImportError extends Error {
  readonly code: BureauImportErrorCode;
  /** Where the problem is: `public.orders`, `paths./pets.get`, `#/components/schemas/Nope`. */
  readonly at: string;
  constructor(code: BureauImportErrorCode, at: string, message: string, options?: ErrorOptions) {
    super(`${at}: ${message}`, options);
    this.name = 'BureauImportError';
    this.code = code;
    this.at = at;
  }
}
