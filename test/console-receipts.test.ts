import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cosignNote, generateNoteKey, parseSignerKey, verifyReceipt } from '../packages/isthmus-log-proofs/src/index.ts';
import { createAccessLogWriter, type AccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { createReceiptSource } from '../gateway/access-log/receipt-source.ts';
import { createAgreementStore } from '../gateway/agreements/agreement-store.ts';
import { openDevIssuer, type DevIssuer } from '../gateway/auth/dev-issuer.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { createConsole } from '../gateway/console/console-app.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import type { Store } from '../gateway/store/store.ts';
import type { Role } from '../policies/principal.ts';
import { sampleEntry } from './support/access-log-fixtures.ts';
import { demoCatalogue } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/**
 * Receipts in the console, in-process on each store: the citizen's cards and
 * the data officer's log and entry pages say in plain Chinese (and English)
 * that a record is provably in the city's log and cosigned by the witness as
 * the city names it, link a JSON receipt that `verifyReceipt` accepts with
 * the public keys alone, and say "not yet cosigned" with a time for a record
 * past the last cosigned checkpoint.
 */

const ORIGIN = 'http://127.0.0.1:4000';
const logName = 'isthmus.console-receipts/access-log';
const WITNESS = 'audit-office.console-receipts';

function persona(id: string, bureau: string, role: Role, citizen?: string): ConsolePersona {
  return { id, name: { zh: id, en: id }, claims: { bureau, app: 'isthmus-console', user: `u-${id}`, roles: [role], ...(citizen ? { citizen } : {}) } };
}

/** Cookies kept between requests, and the CSRF token of the last page. */
function browserOf(app: Hono, language?: string) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = async (path: string, init: RequestInit = {}) => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const headers = { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}), ...(language ? { 'accept-language': language } : {}) };
    const response = await app.request(`${ORIGIN}${path}`, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = line.split(';')[0]!.split('=') as [string, string];
      cookies.set(name, value);
    }
    const body = await response.text();
    csrf = /name="_csrf" value="([^"]*)"/.exec(body)?.[1] ?? csrf;
    return { status: response.status, body, headers: response.headers, location: response.headers.get('location') };
  };
  return {
    get: (path: string) => send(path),
    async signIn(id: string) {
      await send('/console/sign-in');
      const answer = await send('/console/sign-in/persona', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, persona: id }).toString() });
      expect(answer.status, answer.body).toBe(303);
    },
  };
}

/** The text of a page without its tags, to read it as a person would. */
const textOf = (body: string) =>
  body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

describeEachStore('receipts in the console on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  let dev: DevIssuer;
  let app: Hono;
  const run = randomUUID().slice(0, 8);
  const citizen = `9900${String(Math.floor(Math.random() * 1e13)).padStart(13, '0')}X`;
  const consumer = `receipt-test-consumer-${run}`;
  const chainId = `console-receipts-${run}`;
  const logKey = generateNoteKey(logName);
  const witness = generateNoteKey(WITNESS);
  const ids: string[] = [];

  beforeAll(async () => {
    store = await target.open();
    writer = createAccessLogWriter({ db: store.db, chainId, logName, noteSigner: parseSignerKey(logKey.signerKey), checkpointEvery: 2, checkpointIntervalMs: 3_600_000 });
    await writer.ready();
    const now = Date.now();
    // Three reads about the citizen by public security's data: the first two under the checkpoint at 2, which the witness cosigns; the third past it.
    for (let i = 0; i < 3; i += 1) {
      ids.push((await writer.append(sampleEntry({ occurredAt: new Date(now - 3_000 + i * 1_000), consumerBureau: consumer, subjects: [{ kind: 'person', id: citizen }] }))).id);
    }
    const checkpoint = await store.db.selectFrom('access_log_tree_checkpoints').select(['number', 'note']).where('chain_id', '=', chainId).where('size', '=', 2).executeTakeFirstOrThrow();
    const line = cosignNote(checkpoint.note, [parseSignerKey(witness.signerKey)]).trimEnd().split('\n').at(-1)!;
    await store.db.insertInto('access_log_cosignatures').values({ chain_id: chainId, number: checkpoint.number, witness: WITNESS, signature: `${line}\n`, cosigned_at: new Date() }).execute();

    dev = await openDevIssuer({ keysDir: undefined });
    const personas = [persona('citizen', 'government-service-centre', 'citizen', citizen), persona('ps-officer', 'public-security', 'data_officer'), persona('auditor', 'audit-office', 'auditor')];
    app = new Hono().route(
      '/console',
      createConsole({
        agreements: createAgreementStore(store.db),
        catalogue: demoCatalogue(),
        verifier: createTokenVerifier({ issuers: [dev.issuerConfig] }),
        personas: { issuer: dev, list: personas },
        witnessNames: new Map([[WITNESS, { zh: '市审计局', en: 'Municipal Audit Office' }]]),
        accessLog: { db: store.db, writer, receipts: createReceiptSource({ db: store.db, quorum: 1 }) },
      }),
    );
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  const policy = { logKeys: [logKey.verifierKey], witnesses: [witness.verifierKey], quorum: 1, logName };

  it('each citizen card says the read is provably in the city\'s log and cosigned by 市审计局, with a receipt to download that verifies', async () => {
    const resident = browserOf(app);
    await resident.signIn('citizen');
    const page = await resident.get('/console/citizen/reads');
    expect(page.status).toBe(200);
    const cards = page.body.split('<li class="read').slice(1);
    expect(cards).toHaveLength(3);
    // Newest first: the third read is past the cosigned checkpoint.
    expect(textOf(cards[0]!)).toMatch(/这条记录尚未经见证方共同签署，请在\d{4}年\d+月\d+日 \d{2}:\d{2}之后再来查看。/);
    expect(cards[0]).not.toContain('/receipt');
    for (const [card, id] of [[cards[1]!, ids[1]!], [cards[2]!, ids[0]!]] as const) {
      expect(textOf(card)).toContain('可以证明这条记录已记入本市的访问日志，并已由市审计局共同签署确认。');
      expect(card).toContain(`href="/console/citizen/reads/${id}/receipt" download`);
      const download = await resident.get(`/console/citizen/reads/${id}/receipt`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(download.headers.get('content-disposition')).toBe(`attachment; filename="isthmus-receipt-${id}.json"`);
      expect(verifyReceipt(JSON.parse(download.body), policy).cosignedBy).toEqual([WITNESS]);
    }
    // Not yet cosigned: nothing to download. Another person's entry: nothing at all.
    expect((await resident.get(`/console/citizen/reads/${ids[2]}/receipt`)).status).toBe(404);
    expect((await resident.get(`/console/citizen/reads/${randomUUID()}/receipt`)).status).toBe(404);
  });

  it('says the same in English, naming the witness as the city calls it', async () => {
    const resident = browserOf(app, 'en');
    await resident.signIn('citizen');
    const text = textOf((await resident.get('/console/citizen/reads')).body);
    expect(text).toContain("This record is provably in the city's access log, and Municipal Audit Office cosigned it.");
    expect(text).toMatch(/Not yet cosigned by the witnesses; check again after \w+ \d+, \d{4} at \d{2}:\d{2}\./);
    expect(text).toContain('Download the receipt (JSON)');
  });

  it('a data officer sees each of their bureau\'s reads with its receipt state in the log, and the receipt in full on the entry\'s page', async () => {
    const officer = browserOf(app);
    await officer.signIn('ps-officer');
    const log = await officer.get(`/console/audit/log?consumer=${consumer}`);
    expect(log.status).toBe(200);
    const rows = log.body.split('<tr>').slice(2);
    expect(rows).toHaveLength(3);
    expect(textOf(rows[0]!)).toContain('尚未共同签署');
    expect(rows[1]).toContain(`href="/console/audit/log/${ids[1]}/receipt" download`);
    const entry = await officer.get(`/console/audit/log/${ids[0]}`);
    const text = textOf(entry.body);
    expect(text).toContain('可以证明这条记录已记入本市的访问日志，并已由市审计局共同签署确认。');
    expect(text).toContain(`日志 ${logName}/${chainId} 中共 2 条记录的第 1 条`);
    const download = await officer.get(`/console/audit/log/${ids[0]}/receipt`);
    expect(verifyReceipt(JSON.parse(download.body), policy)).toMatchObject({ leafIndex: 0, treeSize: 2 });
  });

  it('the auditor\'s log pages stay as they were (no receipt column); the entry page still has the receipt', async () => {
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    const log = await auditor.get(`/console/audit/log?consumer=${consumer}`);
    expect(log.status).toBe(200);
    expect(log.body).not.toContain('/receipt"');
    expect(textOf((await auditor.get(`/console/audit/log/${ids[1]}`)).body)).toContain('并已由市审计局共同签署确认');
  });
});
