import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { Store } from '../store/store.ts';
import type { Principal } from '../../policies/principal.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { demoCatalogue, people, principal, requestBody } from '../../test/support/agreement-fixtures.ts';
import { createAgreementStore } from '../agreements/agreement-store.ts';
import { createAdminApi } from './admin-api.ts';

/** Friday 6 March 2026, 10:00 UTC. */
const FRIDAY = new Date('2026-03-06T10:00:00Z');

/**
 * Stands in for `gateway/auth`: maps bearer tokens to principals, and fails
 * the way its errors do (a `code` and a message for the token's holder).
 */
function authenticateFrom(tokens: ReadonlyMap<string, Principal>) {
  return async (request: Request): Promise<Principal> => {
    const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    if (token === 'keys-down') throw Object.assign(new Error('the issuer keys cannot be fetched'), { code: 'KEYS_UNAVAILABLE' });
    const found = token === undefined ? undefined : tokens.get(token);
    if (!found) throw Object.assign(new Error(token === undefined ? 'no bearer token' : 'the token signature does not verify'), { code: token === undefined ? 'TOKEN_MISSING' : 'SIGNATURE_INVALID' });
    return found;
  };
}

const tokens = new Map<string, Principal>(Object.entries({ ...people, requesterAsProvider: principal('u-wang', 'public-security', ['data_officer']) }));
type Who = keyof typeof people | 'requesterAsProvider';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** The one error of a refusal, flattened: its message beside its extensions (`code`, `field`, `rule`, `requestId`). */
function refusal(reply: Reply): Record<string, unknown> {
  expect(reply.body.errors, JSON.stringify(reply.body)).toHaveLength(1);
  const [{ message, extensions }] = reply.body.errors;
  return { message, ...extensions };
}

describeEachStore('admin API on $name', (target) => {
  let store: Store;
  let app: Hono<any>;
  let clock = FRIDAY;

  async function call(who: Who | undefined, method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = who ? { authorization: `Bearer ${who}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  async function requested(overrides: Record<string, unknown> = {}, who: Who = 'requester'): Promise<string> {
    // A window may not start before its request: from the test's clock, unless the test says otherwise.
    const reply = await call(who, 'POST', '/agreements', { ...requestBody(), validFrom: clock.toISOString(), submit: true, ...overrides });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.agreement.id;
  }

  beforeAll(async () => {
    store = await target.open();
    app = createAdminApi({
      authenticate: authenticateFrom(tokens),
      agreements: createAgreementStore(store.db),
      catalogue: demoCatalogue(),
      now: () => clock,
      workingDaysToReply: 10,
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('takes an agreement through its whole life, with an event for every step', async () => {
    clock = FRIDAY;
    const created = await call('requester', 'POST', '/agreements', { ...requestBody(), validFrom: clock.toISOString() });
    expect(created.status).toBe(201);
    const id: string = created.body.agreement.id;
    expect(id).toMatch(/^agr-[0-9a-f]{12}$/);
    expect(created.headers.get('location')).toBe(`/agreements/${id}`);
    expect(created.body.agreement).toMatchObject({ status: 'DRAFT', version: 1, requestedBy: 'u-wang', scope: `agreement:${id}`, consumerBureau: 'human-resources-social-security' });
    expect(created.body.event).toMatchObject({ action: 'CREATE', version: 1 });

    const submitted = await call('consumerOfficer', 'POST', `/agreements/${id}/submit`);
    expect(submitted.status).toBe(200);
    expect(submitted.body.agreement).toMatchObject({ status: 'PENDING', version: 2, replyBy: '2026-03-20T10:00:00.000Z', overdue: false });

    const approved = await call('providerOfficer', 'POST', `/agreements/${id}/approve`, { version: 2 });
    expect(approved.status).toBe(200);
    expect(approved.body.agreement).toMatchObject({ status: 'ACTIVE', approvedBy: 'u-li', inForce: true, effectiveStatus: 'ACTIVE' });

    const reason = 'The pension fund reported reads outside the stated purpose.';
    const revoked = await call('otherProviderOfficer', 'POST', `/agreements/${id}/revoke`, { reason });
    expect(revoked.status).toBe(200);
    expect(revoked.body.agreement).toMatchObject({ status: 'REVOKED', revocationReason: reason, inForce: false });

    const seen = await call('requester', 'GET', `/agreements/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.agreement.revocationReason).toBe(reason);
    expect(seen.body.events.map((event: any) => [event.version, event.action, event.actor.user])).toEqual([
      [1, 'CREATE', 'u-wang'],
      [2, 'SUBMIT', 'u-zhao'],
      [3, 'APPROVE', 'u-li'],
      [4, 'REVOKE', 'u-sun'],
    ]);
    expect(seen.body.events[3]).toMatchObject({ reason, agreement: { status: 'REVOKED' } });

    const audit = await call('providerOfficer', 'GET', `/audit?agreement=${id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.events.map((event: any) => event.action)).toEqual(['REVOKE', 'APPROVE', 'SUBMIT', 'CREATE']);
    const byActor = await call('operator', 'GET', `/audit?actor=u-sun&agreement=${id}`);
    expect(byActor.body.events).toHaveLength(1);
  });

  it('answers 401 without a valid token, 503 when keys are unavailable, 403 to citizens', async () => {
    const missing = await call(undefined, 'GET', '/agreements');
    expect(missing.status).toBe(401);
    // The shape of GraphQL errors, with the auth module's code as the reason and the request's id.
    expect(missing.body).toEqual({ errors: [{ message: 'no bearer token', extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING', requestId: expect.any(String) } }] });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await app.request('/agreements', { headers: { authorization: 'Bearer forged' } })).status).toBe(401);
    const keysDown = await call('keys-down' as Who, 'GET', '/agreements');
    expect(keysDown.status).toBe(503);
    expect(keysDown.headers.get('retry-after')).toBe('5');
    expect(refusal(keysDown)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'KEYS_UNAVAILABLE' });
    const citizen = await call('citizen', 'GET', '/agreements');
    expect(citizen.status).toBe(403);
    expect(refusal(citizen)).toMatchObject({ code: 'FORBIDDEN', rule: 'STAFF_ONLY' });
  });

  it('answers every refusal in one shape: 405 with Allow, 411, 413, 404, with the request id', async () => {
    const shapeOf = async (response: Response) => {
      const body = (await response.json()) as any;
      expect(body.errors).toHaveLength(1);
      return { status: response.status, ...body.errors[0].extensions };
    };
    const headers = { authorization: 'Bearer operator', 'x-request-id': 'req-shape-1' };
    // The method is refused before anything else, the token included.
    const put = await app.request('/agreements', { method: 'PUT' });
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(await shapeOf(put)).toMatchObject({ status: 405, code: 'BAD_USER_INPUT', reason: 'METHOD_NOT_ALLOWED' });
    const deleted = await app.request('/agreements/agr-1', { method: 'DELETE', headers });
    expect(deleted.headers.get('allow')).toBe('GET, HEAD');
    expect(await shapeOf(deleted)).toEqual({ status: 405, code: 'BAD_USER_INPUT', reason: 'METHOD_NOT_ALLOWED', requestId: 'req-shape-1' });
    expect((await app.request('/agreements/agr-1/approve', { method: 'GET', headers })).headers.get('allow')).toBe('POST');

    const chunked = await app.request('/agreements', { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' }, body: JSON.stringify(requestBody()) });
    expect(await shapeOf(chunked)).toMatchObject({ status: 411, code: 'BAD_USER_INPUT', reason: 'LENGTH_REQUIRED' });
    const huge = JSON.stringify({ ...requestBody(), legalBasis: 'x'.repeat(70_000) });
    const declared = await app.request('/agreements', { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(huge)) }, body: huge });
    expect(await shapeOf(declared)).toMatchObject({ status: 413, code: 'LIMIT_EXCEEDED', reason: 'BODY_TOO_LARGE' });
    // No length given (a request made in-process): the body is still read only up to the bound.
    expect(await shapeOf(await app.request('/agreements', { method: 'POST', headers, body: huge }))).toMatchObject({ status: 413, code: 'LIMIT_EXCEEDED' });

    const nowhere = await app.request('/agreements/agr-1/frobnicate', { method: 'POST', headers });
    expect(await shapeOf(nowhere)).toEqual({ status: 404, code: 'NOT_FOUND', reason: 'ROUTE_NOT_FOUND', requestId: 'req-shape-1' });
    // Without a request id of the caller's, the answer still names one.
    expect((await shapeOf(await app.request('/agreements'))).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('separates duties: neither the requester, nor the consumer officer, nor a provider developer approves', async () => {
    clock = FRIDAY;
    const id = await requested();
    for (const [who, rule] of [
      ['requesterAsProvider', 'SEPARATION_OF_DUTIES'],
      ['consumerOfficer', 'PROVIDER_DATA_OFFICER'],
      ['providerDeveloper', 'PROVIDER_DATA_OFFICER'],
      ['operator', 'PROVIDER_DATA_OFFICER'],
    ] as const) {
      const reply = await call(who, 'POST', `/agreements/${id}/approve`);
      expect(reply.status, who).toBe(403);
      expect(refusal(reply), who).toMatchObject({ code: 'FORBIDDEN', rule });
    }
    const still = await call('requester', 'GET', `/agreements/${id}`);
    expect(still.body.agreement.status).toBe('PENDING');
    expect(still.body.events).toHaveLength(1);
  });

  it('refuses a NONE field at submission, naming it, and a field of another bureau', async () => {
    const none = await call('requester', 'POST', '/agreements', { ...requestBody({ fields: ['Person.name', 'Person.householdId'], masks: {} }), submit: true });
    expect(none.status).toBe(400);
    expect(refusal(none)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fields[1]' });
    expect(refusal(none).message).toContain('Person.householdId');
    const foreign = await call('requester', 'POST', '/agreements', { ...requestBody({ fields: ['Person.name', 'Enterprise.registeredCapital'], masks: {} }), submit: true });
    expect(foreign.status).toBe(400);
    expect(refusal(foreign)).toMatchObject({ field: 'fields[1]', message: "Enterprise.registeredCapital is provided by 'market-supervision', not by 'public-security'" });
  });

  it.each([
    ['invalid JSON', '{"purpose": ', undefined],
    ['a missing legal basis', { ...requestBody(), legalBasis: undefined }, 'legalBasis'],
    ['a trivial legal basis', { ...requestBody(), legalBasis: 'tbd' }, 'legalBasis'],
    ['an unknown property', { ...requestBody(), legal_basis: 'x' }, 'legal_basis'],
    ['fields that are not a list', { ...requestBody(), fields: 'Person.name' }, 'fields'],
    ['a non-boolean submit', { ...requestBody(), submit: 'yes' }, 'submit'],
    ['a window over three years', { ...requestBody(), validUntil: '2030-01-01T00:00:00Z' }, 'validUntil'],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const reply = await call('requester', 'POST', '/agreements', body);
    expect(reply.status).toBe(400);
    expect(refusal(reply).code).toBe('BAD_USER_INPUT');
    expect(refusal(reply).field).toBe(field);
  });

  it('requires reasons to reject, and shows them to the requester', async () => {
    clock = FRIDAY;
    const id = await requested();
    const bare = await call('providerOfficer', 'POST', `/agreements/${id}/reject`, {});
    expect(bare.status).toBe(400);
    expect(refusal(bare)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const reason = 'Addresses are not needed to check pension eligibility; ask for Person.name only.';
    const rejected = await call('providerOfficer', 'POST', `/agreements/${id}/reject`, { reason });
    expect(rejected.status).toBe(200);
    const seen = await call('requester', 'GET', `/agreements/${id}`);
    expect(seen.body.agreement).toMatchObject({ status: 'REJECTED', rejectionReason: reason });
    expect(seen.body.events.at(-1)).toMatchObject({ action: 'REJECT', reason, actor: { user: 'u-li', bureau: 'public-security' } });
  });

  it('gives a reply-by date over the weekend and reports the request overdue after it', async () => {
    clock = FRIDAY;
    const id = await requested();
    const replyBy = '2026-03-20T10:00:00.000Z';
    expect((await call('providerOfficer', 'GET', `/agreements/${id}`)).body.agreement).toMatchObject({ replyBy, overdue: false });
    clock = new Date('2026-03-20T10:00:01Z');
    expect((await call('providerOfficer', 'GET', `/agreements/${id}`)).body.agreement.overdue).toBe(true);
    const overdue = await call('providerOfficer', 'GET', '/agreements?overdue=true&limit=200');
    expect(overdue.body.agreements.map((agreement: any) => agreement.id)).toContain(id);
    clock = new Date('2026-03-20T09:59:59Z');
    const notYet = await call('providerOfficer', 'GET', '/agreements?overdue=true&limit=200');
    expect(notYet.body.agreements.map((agreement: any) => agreement.id)).not.toContain(id);
  });

  it('refuses with 409 a step on a version the caller did not see, or from the wrong state', async () => {
    clock = FRIDAY;
    const id = await requested();
    const stale = await call('providerOfficer', 'POST', `/agreements/${id}/approve`, { version: 7 });
    expect(stale.status).toBe(409);
    expect(refusal(stale).code).toBe('CONFLICT');
    expect((await call('providerOfficer', 'POST', `/agreements/${id}/approve`, { version: 1 })).status).toBe(200);
    const twice = await call('otherProviderOfficer', 'POST', `/agreements/${id}/approve`);
    expect(twice.status).toBe(409);
    expect((await call('requester', 'GET', `/agreements/${id}`)).body.events).toHaveLength(2);
  });

  it('shows agreements only to their bureaus and to operators', async () => {
    clock = FRIDAY;
    const id = await requested();
    expect((await call('bystander', 'GET', `/agreements/${id}`)).status).toBe(404);
    expect((await call('bystander', 'POST', `/agreements/${id}/approve`)).status).toBe(404);
    const theirs = await call('bystander', 'GET', '/agreements?limit=200');
    expect(theirs.body.agreements).toEqual([]);
    const all = await call('operator', 'GET', '/agreements?limit=200');
    expect(all.body.agreements.map((agreement: any) => agreement.id)).toContain(id);
    const providers = await call('providerDeveloper', 'GET', '/agreements?status=PENDING&limit=200');
    expect(providers.body.agreements.map((agreement: any) => agreement.id)).toContain(id);
    expect((await call('operator', 'GET', '/agreements/agr-nope')).status).toBe(404);
    expect(refusal(await call('operator', 'GET', '/agreements?status=LIVE'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
  });

  it('pages the listing with an opaque cursor', async () => {
    clock = FRIDAY;
    await requested();
    await requested();
    const first = await call('operator', 'GET', '/agreements?limit=1');
    expect(first.body.agreements).toHaveLength(1);
    const second = await call('operator', 'GET', `/agreements?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.agreements[0].id).not.toBe(first.body.agreements[0].id);
    expect(refusal(await call('operator', 'GET', '/agreements?cursor=garbage'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cursor' });
  });

  it('keeps the audit to data officers of the bureau and operators', async () => {
    expect(refusal(await call('requester', 'GET', '/audit'))).toMatchObject({ code: 'FORBIDDEN', rule: 'AUDIT_ROLE' });
    expect(refusal(await call('providerOfficer', 'GET', '/audit?bureau=market-supervision'))).toMatchObject({ code: 'FORBIDDEN', rule: 'OWN_BUREAU' });
    expect((await call('bystander', 'GET', '/audit')).body.events).toEqual([]);
    expect(refusal(await call('providerOfficer', 'GET', '/audit?from=yesterday'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    const window = await call('operator', 'GET', '/audit?from=2026-03-06T10:00:00Z&until=2026-03-06T10:00:01Z&limit=200');
    expect(window.body.events.length).toBeGreaterThan(0);
    expect(window.body.events.every((event: any) => event.at === FRIDAY.toISOString())).toBe(true);
  });

  it('treats an active agreement past its window as expired', async () => {
    clock = FRIDAY;
    const id = await requested({ validUntil: '2026-04-01T00:00:00Z' });
    expect((await call('providerOfficer', 'POST', `/agreements/${id}/approve`)).status).toBe(200);
    clock = new Date('2026-04-01T00:00:00Z');
    const seen = await call('requester', 'GET', `/agreements/${id}`);
    expect(seen.body.agreement).toMatchObject({ status: 'ACTIVE', effectiveStatus: 'EXPIRED', inForce: false });
    const revoke = await call('providerOfficer', 'POST', `/agreements/${id}/revoke`, { reason: 'Closing the file on this agreement now.' });
    expect(revoke.status).toBe(409);
  });
});
