/** Why a sign-in through the identity provider did not complete; each has its own words on the console's page. */
export type OidcSignInFailure =
  /** The callback names no sign-in this console started (wrong or reused `state`, or one that took too long). */
  | 'STATE_MISMATCH'
  /** The provider answered the authorization request with an error (the person declined, or the provider refused the client). */
  | 'PROVIDER_REFUSED'
  /** The token endpoint refused the code: used already, expired, issued for another client or another PKCE verifier. */
  | 'CODE_REJECTED'
  /** The ID token is not for this console (audience, nonce, issuer), or the gateway's verification refused it. */
  | 'ID_TOKEN_INVALID'
  /** The provider's discovery, token endpoint or keys cannot be reached now. */
  | 'PROVIDER_UNAVAILABLE';

/**
 * A sign-in through the identity provider that did not complete. `message`
 * is English for the logs and never carries a code, a token or a claim's
 * value; the provider's own error code (`invalid_grant`) is kept in
 * `providerError` for the log, the library's failure in `cause`.
 */
export class OidcSignInError extends Error {
  readonly code: OidcSignInFailure;
  readonly providerError: string | undefined;
  constructor(code: OidcSignInFailure, message: string, details: { readonly cause?: unknown; readonly providerError?: string } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'OidcSignInError';
    this.code = code;
    this.providerError = details.providerError;
  }
}
