import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createAdminApi } from '../gateway/admin/admin-api.ts';
import { createAccessLogApi } from '../gateway/access-log/access-log-api.ts';
import { createAccessLogWriter, type AccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { createAgreementStore } from '../gateway/agreements/agreement-store.ts';
import { createApp } from '../gateway/http/app.ts';
import { createLogger } from '../gateway/observability/logger.ts';
import { createMetrics } from '../gateway/observability/metrics.ts';
import type { Store } from '../gateway/store/store.ts';
import type { Principal } from '../policies/principal.ts';
import { createTestSigner } from './support/access-log-fixtures.ts';
import { demoCatalogue, people, requestBody } from './support/agreement-fixtures.ts';
import { storeTargets } from './support/test-stores.ts';
import { demoClientSchema } from './support/policy-fixtures.ts';

/** Friday 6 March 2026, 10:00 UTC: inside the fixtures' validity window. */
const FRIDAY = new Date('2026-03-06T10:00:00Z');
const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

interface Case {
  readonly who: keyof typeof people;
  readonly method: 'GET' | 'POST';
  /** `:id` is replaced by a stored agreement's id. */
  readonly path: string;
  readonly body?: (id: string) => unknown;
  readonly field: string;
}

/**
 * Malformed input that once reached PostgreSQL and came back as 500
 * INTERNAL. Each is a client's mistake: 400 `BAD_USER_INPUT` naming the
 * parameter, and nothing stored.
 */
const CASES: Readonly<Record<string, Case>> = {
  'a NUL byte in a query parameter of the listing': { who: 'operator', method: 'GET', path: '/agreements?provider=public%00security', field: 'provider' },
  'a NUL byte in a query parameter of the audit': { who: 'operator', method: 'GET', path: '/audit?actor=u%00wang', field: 'actor' },
  'a NUL byte in a path id': { who: 'operator', method: 'GET', path: '/agreements/agr-%00', field: 'id' },
  'a NUL byte in the path id of a step': { who: 'providerOfficer', method: 'POST', path: '/agreements/agr-%00/approve', body: () => ({}), field: 'id' },
  'a NUL byte in a listing cursor': { who: 'operator', method: 'GET', path: `/agreements?cursor=${cursorOf(['2026-03-06T10:00:00.000Z', 'agr-\u0000'])}`, field: 'cursor' },
  'an audit cursor past the integer range': { who: 'operator', method: 'GET', path: `/audit?cursor=${cursorOf([2 ** 31])}`, field: 'cursor' },
  'a listing cursor past the timestamp range': { who: 'operator', method: 'GET', path: `/agreements?cursor=${cursorOf(['-200000-01-01T00:00:00.000Z', 'agr-1'])}`, field: 'cursor' },
  'an audit window before year 1': { who: 'operator', method: 'GET', path: '/audit?from=0000-01-01T00:00:00Z', field: 'from' },
  'a NUL byte in a legal basis': { who: 'requester', method: 'POST', path: '/agreements', body: () => requestBody({ legalBasis: '《社会保险法》第七十三条\u0000 and the regulation' }), field: 'legalBasis' },
  'a lone surrogate in a legal basis': { who: 'requester', method: 'POST', path: '/agreements', body: () => requestBody({ legalBasis: '《社会保险法》第七十三条 \ud800 and the regulation' }), field: 'legalBasis' },
  'a NUL byte in a reason': { who: 'providerOfficer', method: 'POST', path: '/agreements/:id/reject', body: () => ({ reason: 'Addresses are not needed\u0000 for this check.' }), field: 'reason' },
  'a lone surrogate in a reason': { who: 'providerOfficer', method: 'POST', path: '/agreements/:id/reject', body: () => ({ reason: 'Addresses are not needed \udc00 for this check.' }), field: 'reason' },
  'a NUL byte in a draft': {
    who: 'requester',
    method: 'POST',
    path: '/explain',
    body: () => ({ query: '{ person(idNumber: "1") { name } }', purpose: 'pension-eligibility-check', draft: { legalBasis: '《社会保险法》第七十三条\u0000 and the regulation' } }),
    field: 'draft.legalBasis',
  },
  'a validity window that PostgreSQL cannot read': { who: 'requester', method: 'POST', path: '/agreements', body: () => requestBody({ validFrom: '2026-03-01 00:00:00 GMT+0000 (x)' }), field: 'validFrom' },
  'an access-log cursor id of uuid characters that is no uuid': {
    who: 'operator',
    method: 'GET',
    path: `/access-log?cursor=${cursorOf(['2026-03-06T10:00:00.000Z', '-'.repeat(36)])}`,
    field: 'cursor',
  },
  'an access-log cursor past the timestamp range': { who: 'operator', method: 'GET', path: `/access-log?cursor=${cursorOf(['-200000-01-01T00:00:00.000Z', randomUUID()])}`, field: 'cursor' },
  'a NUL byte in an access-log parameter': { who: 'operator', method: 'GET', path: '/access-log?subject=person:1%00', field: 'subject' },
  'an access-log window before year 1': { who: 'operator', method: 'GET', path: '/access-log?from=0000-01-01', field: 'from' },
};

/** The gateway's HTTP app with the admin and access-log APIs, mounted in the order given. */
function apisUnder(store: Store, writer: AccessLogWriter, tokens: ReadonlyMap<string, Principal>, order: 'admin-first' | 'log-first', now: () => Date): Hono {
  const authenticate = async (request: Request): Promise<Principal> => {
    const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    const found = token === undefined ? undefined : tokens.get(token);
    if (!found) throw Object.assign(new Error('the token signature does not verify'), { code: 'SIGNATURE_INVALID' });
    return found;
  };
  const app = createApp({ metrics: createMetrics(), log: createLogger('silent'), pingStore: async () => {}, breakers: () => new Map(), draining: () => false });
  const admin = createAdminApi({
    authenticate,
    agreements: createAgreementStore(store.db),
    catalogue: demoCatalogue(),
    now,
    workingDaysToReply: 10,
    log: createLogger('silent'),
    explain: { schema: demoClientSchema(), inForce: () => ({ agreements: [] }) },
  });
  const log = createAccessLogApi({ authenticate, db: store.db, writer });
  if (order === 'admin-first') app.route('/admin/api', admin).route('/admin/api', log);
  else app.route('/admin/api', log).route('/admin/api', admin);
  return app;
}

describe.each(storeTargets())('admin and access-log APIs refuse malformed input on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  let app: Hono;
  let pendingId: string;
  const tokens = new Map<string, Principal>(Object.entries(people));

  const call = async (who: keyof typeof people, method: string, path: string, body?: unknown) => {
    const response = await app.request(`/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${who}`, 'x-request-id': `req-${randomUUID()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  beforeAll(async () => {
    store = await target.open();
    writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner() });
    app = apisUnder(store, writer, tokens, 'admin-first', () => FRIDAY);
    const created = await call('requester', 'POST', '/agreements', { ...requestBody(), submit: true });
    expect(created.status, created.text).toBe(201);
    pendingId = JSON.parse(created.text).agreement.id;
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  it.each(Object.entries(CASES))('answers 400 naming the parameter for %s', async (_what, { who, method, path, body, field }) => {
    const before = await store.db.selectFrom('agreement_events').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const reply = await call(who, method, path.replace(':id', pendingId), body?.(pendingId));
    expect(reply.status, reply.text).toBe(400);
    const parsed = JSON.parse(reply.text);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, requestId: expect.stringMatching(/^req-/) });
    // The input is not quoted back: neither the NUL nor the lone surrogate, escaped or raw.
    expect(reply.text).not.toMatch(/\\u0000|\\ud[89ab]|\\udc/i);
    const after = await store.db.selectFrom('agreement_events').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
