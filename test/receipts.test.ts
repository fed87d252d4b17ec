import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyReceipt, type LogReceipt } from '../packages/isthmus-log-proofs/src/index.ts';
import { startWitness, type RunningWitness } from '../packages/isthmus-witness/src/index.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_WITNESS_NAME } from '../examples/demo-witness.ts';
import { openLogNoteKey } from '../gateway/access-log/log-tree-note-key.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Issue 12, item 5, end to end: a gateway whose checkpoints an audit office's
 * witness cosigns. The citizen's view of the access log API hands out a
 * receipt for the read about them; `verifyReceipt` accepts it with nothing
 * but the keys the gateway publishes (and, as well, the keys the witness
 * publishes itself); the console's citizen page says so in Chinese, naming
 * the witness as the city calls it, and its download is the same receipt.
 */

const LOG_NAME = 'isthmus.receipts-city/access-log';
const LOAN_CHECK = 'query LoanCheck($id: ID!) { person(idNumber: $id) { name socialInsurance { monthlyBase } } }';
const me = sampleResident();

interface KeysDocument {
  readonly logName: string;
  readonly keys: readonly { readonly vkey: string }[];
  readonly witnesses: readonly { readonly name: string; readonly vkey: string }[];
  readonly quorum: number;
}

describeEachStore('receipts from a gateway whose witness is the audit office, on $name', (target) => {
  let dir: string;
  let witness: RunningWitness;
  let city: TestCity;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-receipts-'));
    // The gateway's note key, made before it starts, so the witness can be told to trust it.
    const vkey = (await openLogNoteKey({ dir: join(dir, 'keys'), logName: LOG_NAME })).signer.verifierKey;
    witness = await startWitness({ dataDir: join(dir, 'witness'), name: DEMO_WITNESS_NAME, logKeys: [vkey], originPrefixes: [LOG_NAME], port: 0, log: () => {} });
    city = await startTestCity(
      { ISTHMUS_KEYS_DIR: join(dir, 'keys'), ISTHMUS_LOG_NAME: LOG_NAME, ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}` },
      { store: target, witnessTiming: { checkpointIntervalMs: 100, retryMinMs: 20, retryMaxMs: 100, requestTimeoutMs: 1_000, closeWaitMs: 1_000 } },
    );
    const reply = await city.graphql(LOAN_CHECK, { id: me.idNumber });
    expect(reply.status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await city?.close();
    await witness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The citizen's view of the log, polled until the read about them has its receipt (a checkpoint every 100 ms, then the witness). */
  async function myReads(): Promise<Array<{ id: string; consumerBureau: string; receipt: LogReceipt | null }>> {
    const headers = await city.citizen(me.idNumber);
    let items: Array<{ id: string; consumerBureau: string; receipt: LogReceipt | null }> = [];
    await expect
      .poll(
        async () => {
          const response = await fetch(`${city.gateway.url}/admin/api/access-log`, { headers: { authorization: headers.authorization! } });
          items = ((await response.json()) as { items: typeof items }).items;
          return items.length > 0 && items.every((item) => item.receipt !== null);
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    return items;
  }

  it('the citizen\'s receipt verifies against the keys the gateway publishes, and against the witness\'s own', async () => {
    const items = await myReads();
    const published = (await (await fetch(`${city.gateway.url}/.well-known/isthmus-log-keys`)).json()) as KeysDocument;
    expect(published).toMatchObject({ logName: LOG_NAME, witnesses: [{ name: DEMO_WITNESS_NAME }], quorum: 1 });
    const own = (await (await fetch(`${witness.url}/.well-known/isthmus-witness-keys`)).json()) as { name: string; keys: { vkey: string }[] };
    for (const item of items) {
      const fromGateway = verifyReceipt(item.receipt, { logKeys: published.keys.map((key) => key.vkey), witnesses: published.witnesses.map((w) => w.vkey), quorum: published.quorum, logName: published.logName });
      expect(fromGateway.cosignedBy).toEqual([DEMO_WITNESS_NAME]);
      expect(fromGateway.origin).toBe(`${LOG_NAME}/${city.gateway.accessLog.chainId}`);
      const fromWitness = verifyReceipt(item.receipt, { logKeys: published.keys.map((key) => key.vkey), witnesses: own.keys.map((key) => key.vkey), quorum: 1 });
      expect(fromWitness.treeSize).toBe(item.receipt!.treeSize);
    }
  });

  it('the console\'s citizen page says the read is provably in the city\'s log and cosigned by 市审计局, and its download is the same receipt', async () => {
    const items = await myReads();
    const cookies = new Map<string, string>();
    const send = async (path: string, init: RequestInit = {}) => {
      const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const response = await fetch(`${city.gateway.url}${path}`, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
      for (const line of response.headers.getSetCookie()) {
        const [name, value] = line.split(';')[0]!.split('=') as [string, string];
        cookies.set(name, value);
      }
      return { response, body: await response.text() };
    };
    const signIn = await send('/console/sign-in');
    const csrf = /name="_csrf" value="([^"]*)"/.exec(signIn.body)![1]!;
    const picked = await send('/console/sign-in/persona', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, persona: 'citizen' }).toString() });
    expect(picked.response.status).toBe(303);
    const page = await send('/console/citizen/reads');
    expect(page.response.status).toBe(200);
    expect(page.body.replace(/<[^>]*>/g, '')).toContain('可以证明这条记录已记入本市的访问日志，并已由市审计局共同签署确认。');
    const first = items[0]!;
    expect(page.body).toContain(`/console/citizen/reads/${first.id}/receipt`);
    const download = await send(`/console/citizen/reads/${first.id}/receipt`);
    expect(download.response.headers.get('content-disposition')).toContain('attachment');
    const receipt = JSON.parse(download.body) as LogReceipt;
    expect(receipt.entryHash).toBe(first.receipt!.entryHash);
    expect(receipt.leafIndex).toBe(first.receipt!.leafIndex);
  });
});
