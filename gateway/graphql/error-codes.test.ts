import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../connectors/connector-error.ts';
import { AccessLogUnavailableError } from '../access-log/access-log-error.ts';
import { KeysUnavailable } from '../auth/auth-error.ts';
import { HTTP_STATUS, toClientError } from './error-codes.ts';

/** An error as graphql-js wraps what a resolver or plugin threw. */
const thrown = (original: Error, path?: readonly string[]) => new GraphQLError(original.message, { originalError: original, ...(path ? { path } : {}) });

describe('toClientError', () => {
  it('takes the statuses of the one error table', () => {
    expect(HTTP_STATUS).toEqual({ UNAUTHENTICATED: 401, FORBIDDEN: 403, BAD_USER_INPUT: 400, LIMIT_EXCEEDED: 400, UPSTREAM_UNAVAILABLE: 200, INTERNAL: 500 });
    expect(toClientError(new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } })).extensions).toEqual({ code: 'FORBIDDEN', http: { status: 403 } });
    expect(toClientError(new GraphQLError('Syntax Error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })).extensions).toEqual({ code: 'BAD_USER_INPUT', http: { status: 400 } });
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
