import { describe, expect, it } from 'vitest';
import { AccessLogBadQueryError, AccessLogUnavailableError } from '../access-log/access-log-error.ts';
import { EvidenceUnwitnessedError } from '../access-log/evidence-gate.ts';
import { AgreementStoreError } from '../agreements/agreement-store-error.ts';
import { KeysUnavailable, TokenExpired } from '../auth/auth-error.ts';
import { CatalogueError } from '../catalogue/catalogue-error.ts';
import { StoreError } from '../store/store-error.ts';
import { ApiError } from './api-error.ts';
import { errorHeaders, errorPayload } from './error-response.ts';
import { answerHeaders, answerOf, httpStatusOf, isErrorCode, type ErrorCode } from './error-table.ts';
import { toApiError } from './to-api-error.ts';

describe('the error table', () => {
  it('keeps the documented contract', () => {
    const contract: Record<string, [ErrorCode, string, number]> = {
      'a missing or bad token': ['TOKEN_EXPIRED', 'UNAUTHENTICATED', 401],
      'a malformed request': ['BAD_USER_INPUT', 'BAD_USER_INPUT', 400],
      'a query that does not parse': ['GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT', 400],
      'the whole operation refused': ['FORBIDDEN', 'FORBIDDEN', 403],
      'a quota': ['QUOTA_EXCEEDED', 'LIMIT_EXCEEDED', 429],
      'a depth or cost limit': ['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 400],
      'a body too large': ['BODY_TOO_LARGE', 'LIMIT_EXCEEDED', 413],
      'a body without a length': ['LENGTH_REQUIRED', 'BAD_USER_INPUT', 411],
      'a wrong method': ['METHOD_NOT_ALLOWED', 'BAD_USER_INPUT', 405],
      'a bureau that failed': ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE', 200],
      'the log cannot record': ['ACCESS_LOG_UNAVAILABLE', 'INTERNAL', 503],
      'no witness cosigned within the grace period': ['EVIDENCE_UNWITNESSED', 'INTERNAL', 503],
      'anything unexpected': ['INTERNAL', 'INTERNAL', 500],
    };
    for (const [what, [code, client, status]] of Object.entries(contract)) expect({ code: answerOf(code).code, status: httpStatusOf(code) }, what).toEqual({ code: client, status });
    expect(answerHeaders(answerOf('ACCESS_LOG_UNAVAILABLE'))).toEqual({ 'retry-after': '2' });
    expect(answerHeaders(answerOf('KEYS_UNAVAILABLE'))).toEqual({ 'retry-after': '5' });
    expect(answerHeaders(answerOf('EVIDENCE_UNWITNESSED'))).toEqual({ 'retry-after': '30' });
    expect(answerHeaders(answerOf('SIGNATURE_INVALID'))).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('knows only the gateway codes', () => {
    expect(isErrorCode('CATALOGUE_INVALID')).toBe(true);
    for (const foreign of ['23505', 'ECONNRESET', 'toString', '__proto__', undefined, 42]) expect(isErrorCode(foreign), String(foreign)).toBe(false);
  });

  it('turns module errors into refusals that keep their code, and anything else into INTERNAL', () => {
    expect(toApiError(new TokenExpired('the token expired at 2026-03-01T10:00:00.000Z', new Date()))).toMatchObject({ code: 'TOKEN_EXPIRED', status: 401 });
    expect(toApiError(new KeysUnavailable('keys away'))).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503 });
    expect(toApiError(new AccessLogBadQueryError('cursor', 'is not a cursor this API returned'))).toMatchObject({ code: 'ACCESS_LOG_BAD_QUERY', field: 'cursor', status: 400 });
    expect(toApiError(new AgreementStoreError('BAD_CURSOR', 'the cursor is not one this listing handed out'))).toMatchObject({ field: 'cursor', status: 400 });
    expect(toApiError(new AccessLogUnavailableError())).toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE', status: 503 });
    expect(toApiError(new EvidenceUnwitnessedError(new Date()))).toMatchObject({ code: 'EVIDENCE_UNWITNESSED', status: 503 });
    expect(toApiError(new StoreError('MIGRATIONS_PENDING', 'run the migrations'))).toMatchObject({ status: 500, message: expect.stringContaining('request id') });
    expect(toApiError(new CatalogueError([{ file: 'a/schema.graphql', message: 'bad' }])).message).not.toContain('schema.graphql');
    const unexpected = new Error('select * from agreements where id = $1');
    expect(toApiError(unexpected)).toMatchObject({ code: 'INTERNAL', status: 500, cause: unexpected });
  });

  it('answers in the shape of GraphQL errors, saying nothing but the request id for a 500', () => {
    expect(errorPayload(new ApiError('TOKEN_EXPIRED', 'the token expired'), 'req-1')).toEqual({
      errors: [{ message: 'the token expired', extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED', requestId: 'req-1' } }],
    });
    expect(errorPayload(new ApiError('BAD_USER_INPUT', 'limit is too large', { field: 'limit' }), 'req-2').errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'limit', requestId: 'req-2' });
    expect(errorPayload(new ApiError('MIGRATION_FAILED', 'migration 0004 failed: relation x', { field: 'x' }), 'req-3')).toEqual({
      errors: [{ message: 'Internal error. Quote the request id when you report it.', extensions: { code: 'INTERNAL', requestId: 'req-3' } }],
    });
    expect(errorHeaders(new ApiError('METHOD_NOT_ALLOWED', 'this path takes GET, HEAD', { allow: ['GET', 'HEAD'] }))).toEqual({ allow: 'GET, HEAD' });
  });
});
