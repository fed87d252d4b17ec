import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cosignNote, generateNoteKey, parseSignerKey, verifyReceipt, type LogReceipt } from '../../packages/isthmus-log-proofs/src/index.ts';
import { createAccessLogWriter, type AccessLogWriter } from './access-log-writer.ts';
import { createAccessLogApi } from './access-log-api.ts';
import { createReceiptSource, DEFAULT_RECEIPT_CHECK_AFTER_MS } from './receipt-source.ts';
import type { Principal } from '../../policies/principal.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';

const A = '110101199003074578';
const B = '110101198507150016';
const C = '440106199912011234';
const PS = 'public-security';
const HRSS = 'human-resources-social-security';
const logName = 'isthmus.receipts-test/access-log';

function principal(overrides: Partial<Principal>): Principal {
  return { issuer: 'https://idp.test', subject: randomUUID(), bureau: 'city-office', app: 'console', roles: [], scopes: [], expiresAt: 4_102_444_800, ...overrides };
}
const tokens: Record<string, Principal> = {
  citizenA: principal({ roles: ['citizen'], bureau: 'one-stop-service', app: 'citizen-app', citizen: A }),
  citizenC: principal({ roles: ['citizen'], bureau: 'one-stop-service', app: 'citizen-app', citizen: C }),
  hrss: principal({ roles: ['data_officer'], bureau: HRSS, user: 'officer-hrss' }),
  operator: principal({ roles: ['operator'], user: 'ops-wang' }),
};

/**
 * Receipts as the access log API hands them out, on entries the real writer
 * committed and checkpointed: every covered entry's receipt verifies with
 * `verifyReceipt` and nothing but the log's and the witness's public keys;
 * an entry past the last cosigned checkpoint says so, and when to look again.
 */
describeEachStore('receipts of the access log API on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  const logKey = generateNoteKey(logName);
  const auditOffice = generateNoteKey('audit-office.receipts-test');
  const chainId = `gw-${randomUUID()}`;
  const seqOf = new Map<string, number>();
  const t0 = new Date(Date.now() - 60 * 60_000);
  const window = `from=${encodeURIComponent(t0.toISOString())}&until=${encodeURIComponent(new Date(t0.getTime() + 30 * 60_000).toISOString())}`;

  /** What a witness does with each stored checkpoint up to `size`: cosign it; what the gateway's witness client then stores: the signature line. */
  async function cosignUpTo(size: number, witness = auditOffice): Promise<void> {
    const rows = await store.db.selectFrom('access_log_tree_checkpoints').select(['number', 'note']).where('chain_id', '=', chainId).where('size', '<=', size).execute();
    const done = new Set((await store.db.selectFrom('access_log_cosignatures').select(['number']).where('chain_id', '=', chainId).execute()).map((row) => row.number));
    for (const row of rows.filter((candidate) => !done.has(candidate.number))) {
      const line = cosignNote(row.note, [parseSignerKey(witness.signerKey)]).trimEnd().split('\n').at(-1)!;
      await store.db.insertInto('access_log_cosignatures').values({ chain_id: chainId, number: row.number, witness: parseSignerKey(witness.signerKey).name, signature: `${line}\n`, cosigned_at: new Date() }).execute();
    }
  }

  beforeAll(async () => {
    store = await target.open();
    writer = createAccessLogWriter({ db: store.db, chainId, logName, noteSigner: parseSignerKey(logKey.signerKey), checkpointEvery: 5, checkpointIntervalMs: 3_600_000 });
    await writer.ready();
    // Twelve reads: about A by HRSS, then about B by another bureau; checkpoints at 5 and 10 (and #0 at ready).
    for (let i = 0; i < 12; i += 1) {
      const entry = i % 3 === 2
        ? sampleEntry({ occurredAt: new Date(t0.getTime() + i * 60_000), consumerBureau: 'market-supervision', providerBureaus: [PS], subjects: [{ kind: 'person', id: B }] })
        : sampleEntry({ occurredAt: new Date(t0.getTime() + i * 60_000), consumerBureau: HRSS, providerBureaus: [PS], subjects: [{ kind: 'person', id: A }] });
      const appended = await writer.append(entry);
      seqOf.set(appended.id, appended.seq);
    }
    await cosignUpTo(10);
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  const api = (quorum = 1) => createAccessLogApi({ db: store.db, writer, receipts: createReceiptSource({ db: store.db, quorum }), authenticate: async (request) => tokens[request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''] });
  type Item = { id: string; receipt?: LogReceipt | null; receiptCheckAfter?: string; receiptUnavailable?: string };
  const items = async (token: string, quorum = 1, query = window): Promise<Item[]> => {
    const response = await api(quorum).request(`/access-log?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Item[] }).items;
  };
  const policy = { logKeys: [logKey.verifierKey], witnesses: [auditOffice.verifierKey], quorum: 1, logName };

  it('gives the citizen a receipt for each read about them that a cosigned checkpoint covers, which verifies with the public keys alone', async () => {
    const mine = await items('citizenA');
    expect(mine).toHaveLength(8);
    const covered = mine.filter((item) => seqOf.get(item.id)! <= 10);
    expect(covered).toHaveLength(7);
    for (const item of covered) {
      const stored = await store.db.selectFrom('access_log').select(['hash', 'seq']).where('id', '=', item.id).executeTakeFirstOrThrow();
      const proved = verifyReceipt(item.receipt, policy);
      expect(proved).toMatchObject({ origin: `${logName}/${chainId}`, leafIndex: Number(stored.seq) - 1, treeSize: 10, entryHash: stored.hash, cosignedBy: ['audit-office.receipts-test'] });
      expect(item.receipt!.witnesses).toEqual(['audit-office.receipts-test']);
    }
  });

  it('says an entry past the last cosigned checkpoint is not yet cosigned, and when to look again', async () => {
    const before = Date.now();
    const [latest] = await items('citizenA');
    expect(seqOf.get(latest!.id)).toBe(11);
    expect(latest!.receipt).toBeNull();
    const checkAfter = Date.parse(latest!.receiptCheckAfter!);
    expect(checkAfter).toBeGreaterThanOrEqual(before + DEFAULT_RECEIPT_CHECK_AFTER_MS - 1_000);
    expect(checkAfter).toBeLessThanOrEqual(Date.now() + DEFAULT_RECEIPT_CHECK_AFTER_MS);
  });

  it('a checkpoint counts only with the quorum: with two witnesses required and one cosignature, no entry has a receipt yet', async () => {
    const mine = await items('citizenA', 2);
    expect(mine.map((item) => item.receipt)).toEqual(mine.map(() => null));
  });

  it('gives the data officer receipts for the reads of their bureau, and the operator\'s view none', async () => {
    const officer = await items('hrss');
    expect(officer.length).toBe(8);
    for (const item of officer.filter((entry) => entry.receipt)) expect(verifyReceipt(item.receipt, policy).treeSize).toBe(10);
    expect(officer.filter((entry) => entry.receipt).length).toBe(7);
    const operator = await items('operator');
    expect(operator.length).toBe(12);
    expect(operator.every((item) => !('receipt' in item))).toBe(true);
  });

  it('a receipt whose entry was swapped for another, or checked against another log key, does not verify', async () => {
    const [first, second] = (await items('citizenA')).filter((item) => item.receipt);
    expect(() => verifyReceipt({ ...first!.receipt!, entryHash: second!.receipt!.entryHash }, policy)).toThrow(expect.objectContaining({ code: 'INCLUSION_FAILED' }));
    expect(() => verifyReceipt(first!.receipt, { ...policy, logKeys: [generateNoteKey(logName).verifierKey] })).toThrow(expect.objectContaining({ code: 'KEY_UNKNOWN' }));
  });

  it('once a later checkpoint is cosigned, the receipts move to it and still verify', async () => {
    await writer.flush();
    const last = await store.db.selectFrom('access_log_tree_checkpoints').select(['size']).where('chain_id', '=', chainId).orderBy('number', 'desc').executeTakeFirstOrThrow();
    await cosignUpTo(Number(last.size));
    const mine = await items('citizenA');
    expect(mine.every((item) => item.receipt)).toBe(true);
    for (const item of mine) expect(verifyReceipt(item.receipt, policy).treeSize).toBe(Number(last.size));
  });

  it('an entry of a chain older than the log\'s tree (no checkpoint of its own) says it will have no receipt, rather than "check again"', async () => {
    const oldChain = `gw-legacy-${randomUUID()}`;
    const old = createAccessLogWriter({ db: store.db, chainId: oldChain, logName, noteSigner: parseSignerKey(logKey.signerKey) });
    const earlier = new Date(t0.getTime() - 2 * 60 * 60_000);
    await old.append(sampleEntry({ occurredAt: earlier, consumerBureau: HRSS, providerBureaus: [PS], subjects: [{ kind: 'person', id: C }] }));
    await old.close();
    // What a chain written before migration 0007 looks like: entries, and no checkpoint of the tree.
    await store.db.connection().execute(async (connection) => {
      await sql`set session_replication_role = replica`.execute(connection);
      await sql`delete from access_log_tree_checkpoints where chain_id = ${oldChain}`.execute(connection);
      await sql`set session_replication_role = origin`.execute(connection);
    });
    const [item] = await items('citizenC', 1, `from=${encodeURIComponent(new Date(earlier.getTime() - 1_000).toISOString())}&until=${encodeURIComponent(t0.toISOString())}`);
    expect(item).toMatchObject({ receipt: null, receiptUnavailable: 'LEGACY_CHAIN' });
    expect(item).not.toHaveProperty('receiptCheckAfter');
  });
});
