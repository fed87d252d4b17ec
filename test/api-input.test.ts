import { createEnforcer } from '../policies/enforce.ts';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
import { demoCatalogue, people, requestBody as fixtureRequestBody } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { demoClientSchema } from './support/policy-fixtures.ts';

/** Friday 6 March 2026, 10:00 UTC: inside the fixtures' validity window. */
const FRIDAY = new Date('2026-03-06T10:00:00Z');
/** The fixtures' request, its window starting when the request is made (a window may not start in the past). */
const requestBody = (overrides: Parameters<typeof fixtureRequestBody>[0] = {}) => fixtureRequestBody({ validFrom: FRIDAY.toISOString(), ...overrides });
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
    explain: { enforcer: () => createEnforcer({ schema: demoClientSchema(), catalogue: demoCatalogue(), denyWholeOperation: false }), inForce: () => ({ agreements: [], byId: new Map() }) },
  });
  const log = createAccessLogApi({ authenticate, db: store.db, writer });
  if (order === 'admin-first') app.route('/admin/api', admin).route('/admin/api', log);
  else app.route('/admin/api', log).route('/admin/api', admin);
  return app;
}

describeEachStore('admin and access-log APIs refuse malformed input on $name', (target) => {
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

  it.each(['admin-first', 'log-first'] as const)('serves both APIs whichever is mounted first (%s)', async (order) => {
    const resident = { ...people.citizen, citizen: '110101199003074578' };
    const mounted = apisUnder(store, writer, new Map([...tokens, ['resident', resident]]), order, () => FRIDAY);
    const get = async (token: string, path: string, method = 'GET') => {
      const response = await mounted.request(`/admin/api${path}`, { method, headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-order' } });
      return { status: response.status, allow: response.headers.get('allow'), body: (await response.json()) as any };
    };
    // A citizen reads the log about themselves, and is turned away from the agreements.
    expect(await get('resident', '/access-log')).toMatchObject({ status: 200, body: { view: 'citizen' } });
    expect(await get('resident', '/agreements')).toMatchObject({ status: 403, body: { errors: [{ extensions: { code: 'FORBIDDEN', rule: 'STAFF_ONLY' } }] } });
    expect(await get('requester', '/agreements')).toMatchObject({ status: 200, body: { agreements: expect.any(Array) } });
    // What neither API serves: 404, or 405 with what the path takes, in the same shape.
    expect(await get('operator', '/nowhere')).toMatchObject({ status: 404, body: { errors: [{ extensions: { code: 'NOT_FOUND', reason: 'ROUTE_NOT_FOUND', requestId: 'req-order' } }] } });
    expect(await get('operator', '/access-log', 'DELETE')).toMatchObject({ status: 405, allow: 'GET, HEAD', body: { errors: [{ extensions: { reason: 'METHOD_NOT_ALLOWED' } }] } });
    expect(await get('operator', '/audit', 'POST')).toMatchObject({ status: 405, allow: 'GET, HEAD' });
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

/** One code unit of text a client might send: any code point, a lone surrogate, a NUL, a control character. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '%', '"', '\\') },
);
/** A uuid with one character changed, dropped or added: it matches the uuid alphabet, or nearly. */
const nearUuid = fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom('-', 'g', 'A', '0', '', '00')).map(([uuid, at, put]) => uuid.slice(0, at) + put + uuid.slice(at + 1));
const hugeNumber = fc.oneof(fc.constantFrom(2 ** 31, 2 ** 53, -(2 ** 31) - 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2), fc.double({ noNaN: true }), fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(Number));
const instantText = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((at) => at.toISOString()),
  fc.constantFrom('0000-01-01', '9999-12-31T23:59:59Z', '2026-02-30', '2026-03-01T25:00:00Z', '+275760-09-13T00:00:00.000Z', 'yesterday'),
);
/** Text a client might send for any parameter: arbitrary, with NULs and lone surrogates, huge numbers, near-uuids, instants. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 40 }) },
  { weight: 1, arbitrary: hugeNumber.map(String) },
  { weight: 1, arbitrary: nearUuid },
  { weight: 1, arbitrary: instantText },
  { weight: 1, arbitrary: fc.string({ unit, minLength: 300, maxLength: 2_000 }) },
);
const toCursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
/** Cursors: what the APIs hand out, with every part replaced by something a client made up. */
const cursor = fc.oneof(
  text,
  fc.tuple(fc.oneof(instantText, text), fc.oneof(nearUuid, text, fc.uuid())).map(toCursor),
  fc.oneof(hugeNumber, fc.integer()).map((id) => toCursor([id])),
  fc.jsonValue().map(toCursor),
);
/** A JSON value a client might put in a body property. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: hugeNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('Person.name', 'Person.address', 'days', 'legalReason', 'legalBasis'), text, { maxKeys: 3 }) },
);

/** Some of the named properties, each either a sound value or a made-up one; the made-up ones are what must not come back. */
function some<T extends Record<string, unknown>>(sound: T, made: fc.Arbitrary<unknown> = jsonValue): fc.Arbitrary<{ values: Partial<Record<keyof T, unknown>>; madeUp: unknown[] }> {
  const keys = Object.keys(sound) as (keyof T & string)[];
  return fc.tuple(...keys.map(() => fc.oneof(fc.constant({ kind: 'omit' as const }), fc.constant({ kind: 'sound' as const }), made.map((value) => ({ kind: 'made' as const, value }))))).map((choices) => {
    const values: Partial<Record<keyof T, unknown>> = {};
    const madeUp: unknown[] = [];
    choices.forEach((choice, index) => {
      const key = keys[index]!;
      if (choice.kind === 'sound') values[key] = sound[key];
      if (choice.kind === 'made') {
        values[key] = choice.value;
        madeUp.push(choice.value);
      }
    });
    return { values, madeUp };
  });
}

interface MadeRequest {
  readonly who: keyof typeof people;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** Every value the client made up: none may be quoted back in a refusal. */
  readonly madeUp: readonly unknown[];
}

/**
 * Percent-encoding that, unlike `encodeURIComponent`, also takes a lone
 * surrogate: as the bytes a careless client would send for it (WTF-8).
 */
function percentEncode(text: string): string {
  let encoded = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    encoded +=
      code >= 0xd800 && code <= 0xdfff
        ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('')
        : encodeURIComponent(char);
  }
  return encoded;
}

const query = (values: Record<string, unknown>) =>
  Object.entries(values)
    .map(([name, value]) => `${name}=${percentEncode(String(value))}`)
    .join('&');

/** Requests to every route of the two APIs, with any of their query parameters, path parameters and body properties made up. */
function requests(pendingId: () => string): fc.Arbitrary<MadeRequest> {
  const pathId = fc.oneof(fc.constant(undefined), text);
  const idOf = (made: string | undefined) => percentEncode(made ?? pendingId());
  const sound = requestBody();
  return fc.oneof(
    some({ status: 'PENDING', provider: 'public-security', consumer: 'human-resources-social-security', overdue: 'true', limit: '5', cursor: '' }, fc.oneof(text, cursor)).map(({ values, madeUp }) => ({
      who: 'operator' as const,
      method: 'GET' as const,
      path: `/agreements?${query(values)}`,
      madeUp,
    })),
    some({ actor: 'u-wang', agreement: 'agr-1', bureau: 'public-security', from: '2026-03-01T00:00:00Z', until: '2026-04-01T00:00:00Z', limit: '5', cursor: '' }, fc.oneof(text, cursor)).map(
      ({ values, madeUp }) => ({ who: 'operator' as const, method: 'GET' as const, path: `/audit?${query(values)}`, madeUp }),
    ),
    pathId.map((made) => ({ who: 'operator' as const, method: 'GET' as const, path: `/agreements/${idOf(made)}`, madeUp: made === undefined ? [] : [made] })),
    some({ ...sound, submit: true }).map(({ values, madeUp }) => ({ who: 'requester' as const, method: 'POST' as const, path: '/agreements', body: values, madeUp })),
    fc.tuple(pathId, fc.constantFrom('submit', 'approve', 'reject', 'revoke'), some({ reason: 'Addresses are not needed for this check.', version: 1 })).map(([made, step, { values, madeUp }]) => ({
      who: 'providerOfficer' as const,
      method: 'POST' as const,
      path: `/agreements/${idOf(made)}/${step}`,
      body: values,
      madeUp: made === undefined ? madeUp : [...madeUp, made],
    })),
    fc
      .tuple(some({ variables: { id: '1' }, purpose: 'pension-eligibility-check' }), some({ legalBasis: sound.legalBasis, validUntil: '2026-12-01T00:00:00Z' }), fc.option(text, { nil: undefined }))
      .map(([{ values, madeUp }, draft, operationName]) => ({
        who: 'requester' as const,
        method: 'POST' as const,
        path: '/explain',
        // The document and its operation name are GraphQL's, whose errors quote them ("no operation named …") as
        // /graphql's do: they are made up too, but not held to the rule of not being quoted.
        body: { query: 'query Q($id: ID!) { person(idNumber: $id) { name } }', ...values, ...(operationName === undefined ? {} : { operationName }), draft: draft.values },
        madeUp: [...madeUp, ...draft.madeUp],
      })),
    some({ from: '2026-03-01', until: '2026-04-01T00:00:00Z', consumer: 'market-supervision', provider: 'public-security', purpose: 'licence', subject: 'person:1', outcome: 'ALLOWED', limit: '5', cursor: '' }, fc.oneof(text, cursor)).map(
      ({ values, madeUp }) => ({ who: 'operator' as const, method: 'GET' as const, path: `/access-log?${query(values)}`, madeUp }),
    ),
  );
}

/** The forms a made-up value takes in a JSON answer: as it is, and JSON-escaped. Short ones are left out: "ANY" or "1" may well be in any answer. */
function quoted(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(quoted);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(quoted);
  const textOf = typeof value === 'string' ? value : String(value);
  return textOf.length < 8 ? [] : [textOf, JSON.stringify(textOf).slice(1, -1)];
}

describeEachStore('admin and access-log APIs over made-up input on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  let app: Hono;
  let pendingId = '';
  const tokens = new Map<string, Principal>(Object.entries(people));

  beforeAll(async () => {
    store = await target.open();
    writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner() });
    app = apisUnder(store, writer, tokens, 'log-first', () => FRIDAY);
    const created = await app.request('/admin/api/agreements', {
      method: 'POST',
      headers: { authorization: 'Bearer requester', 'content-type': 'application/json' },
      body: JSON.stringify({ ...requestBody(), submit: true }),
    });
    pendingId = ((await created.json()) as { agreement: { id: string } }).agreement.id;
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  it('never answers 5xx, always in the one error shape, and never quotes a made-up value back in a refusal', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(requests(() => pendingId), async (request) => {
        const response = await app.request(`/admin/api${request.path}`, {
          method: request.method,
          headers: { authorization: `Bearer ${request.who}`, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        });
        const answer = await response.text();
        expect(response.status, answer).toBeLessThan(500);
        if (response.status < 400) return;
        const body = JSON.parse(answer) as { errors: { message: string; extensions: { code: string; requestId: string } }[] };
        expect(body.errors).toHaveLength(1);
        expect(body.errors[0]!.extensions).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
        for (const value of request.madeUp) for (const form of quoted(value)) expect(answer, `quotes ${JSON.stringify(value)}`).not.toContain(form);
      }),
      { numRuns: 400 },
    );
  });
});
