import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../connectors/connector-error.ts';
import { AccessLogUnavailableError } from '../access-log/access-log-error.ts';
import { KeysUnavailable } from '../auth/auth-error.ts';
import { documentError, HTTP_STATUS, requestError, toClientError } from './error-codes.ts';

/** An error as graphql-js wraps what a resolver or plugin threw. */
const thrown = (original: Error, path?: readonly string[]) => new GraphQLError(original.message, { originalError: original, ...(path ? { path } : {}) });

describe('toClientError', () => {
  it('takes the statuses of the one error table', () => {
    expect(HTTP_STATUS).toEqual({ UNAUTHENTICATED: 401, FORBIDDEN: 403, BAD_USER_INPUT: 400, LIMIT_EXCEEDED: 400, UPSTREAM_UNAVAILABLE: 200, INTERNAL: 500 });
    expect(toClientError(new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } })).extensions).toEqual({ code: 'FORBIDDEN', http: { status: 403 } });
    expect(toClientError(new GraphQLError('Syntax Error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })).extensions).toEqual({ code: 'BAD_USER_INPUT', http: { status: 400, spec: true } });
  });

  it('marks request errors of a well-formed request `spec` (200 for application/json), and nothing else', () => {
    const spec = (error: GraphQLError) => (toClientError(error).extensions.http as { spec?: boolean } | undefined)?.spec === true;
    // A document that does not parse (yoga's code and flag), that does not validate, an operation not determined, variables that do not coerce (graphql-js: no code).
    expect(spec(new GraphQLError('Syntax Error: Expected Name', { extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400, spec: true } } }))).toBe(true);
    expect(spec(new GraphQLError('Cannot query field "nickname"', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400, spec: true } } }))).toBe(true);
    expect(spec(new GraphQLError('Could not determine what operation to execute.', { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } }))).toBe(true);
    expect(spec(new GraphQLError('Variable "$id" of non-null type "ID!" must not be null.'))).toBe(true);
    expect(spec(documentError('LIMIT_EXCEEDED', 'too deep', { limit: 'depth', max: 2 }))).toBe(true);
    expect(toClientError(documentError('LIMIT_EXCEEDED', 'too deep', { limit: 'depth', max: 2 })).extensions).toEqual({ code: 'LIMIT_EXCEEDED', limit: 'depth', max: 2, http: { status: 400, spec: true } });
    // Yoga flags a body that is not JSON too, but the spec wants 400 for it: the flag is not passed on.
    expect(spec(new GraphQLError('POST body sent invalid JSON.', { extensions: { code: 'BAD_REQUEST', http: { status: 400, spec: true } } }))).toBe(false);
    expect(spec(new GraphQLError('Must provide query string.', { extensions: { code: 'BAD_REQUEST', http: { status: 400, spec: true } } }))).toBe(false);
    // The gateway's own refusals keep their status whatever the media type.
    expect(spec(requestError('BAD_USER_INPUT', 'x-isthmus-purpose is malformed', { reason: 'PURPOSE_INVALID' }))).toBe(false);
    expect(spec(requestError('TOKEN_MISSING', 'no token'))).toBe(false);
    expect(spec(requestError('QUOTA_EXCEEDED', 'quota'))).toBe(false);
    // A field's error rides along a partial result: no status, no flag.
    expect(toClientError(new GraphQLError('bad value', { path: ['person'] })).extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('keeps the status and headers a plugin set', () => {
    const refusal = new GraphQLError('log down', { extensions: { code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '2' } } } });
    expect(toClientError(refusal).extensions).toEqual({ code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '2' } } });
    expect(toClientError(new GraphQLError('too deep', { extensions: { code: 'LIMIT_EXCEEDED', limit: 'depth', http: { status: 400 } } })).extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', http: { status: 400 } });
  });

  it('answers a coded module error thrown by a plugin as the table says, and anything else as INTERNAL', () => {
    expect(toClientError(thrown(new AccessLogUnavailableError())).extensions).toEqual({ code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '2' } } });
    expect(toClientError(thrown(new KeysUnavailable('keys away'))).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'KEYS_UNAVAILABLE', http: { status: 503 } });
    // On a field, it rides along the partial result: no status of its own.
    expect(toClientError(thrown(new AccessLogUnavailableError(), ['person'])).extensions).toEqual({ code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE' });
    const unexpected = toClientError(thrown(new Error('connect ECONNREFUSED 10.0.0.5:5432')));
    expect(unexpected.message).toBe('Internal error. Quote the request id when you report it.');
    expect(unexpected.extensions).toEqual({ code: 'INTERNAL' });
    expect(toClientError(thrown(new UpstreamUnavailableError('public-security', 'timeout'))).extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', bureau: 'public-security', reason: 'timeout' });
  });
});
