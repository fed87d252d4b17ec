import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey, verifyCheckpoint } from '../packages/isthmus-log-proofs/src/index.ts';
import { startWitness, type RunningWitness } from '../packages/isthmus-witness/src/index.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { openLogNoteKey } from '../gateway/access-log/log-tree-note-key.ts';
import { originOf } from '../gateway/access-log/log-tree-checkpoint.ts';
import { latestCosignedCheckpoint } from '../gateway/access-log/log-tree-store.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Issue 12, item 2: checkpoints go to an independent witness; while it is
 * briefly away the gateway keeps serving, and once the grace period has
 * passed without a cosignature it releases no data (EVIDENCE_UNWITNESSED,
 * 503 + retry-after, /readyz not ready), until the witness is back.
 */

const LOG_NAME = 'isthmus.test-city/access-log';
const LOAN_CHECK = 'query LoanCheck($id: ID!) { person(idNumber: $id) { name socialInsurance { monthlyBase } } }';
const me = sampleResident();

describe('the evidence gate, with a witness run by the test', () => {
  let dir: string;
  let witness: RunningWitness;
  let port: number;
  let city: TestCity;
  let vkey: string;
  const startAuditOffice = (listenOn = 0) =>
    startWitness({ dataDir: join(dir, 'witness'), name: 'audit-office.test-city', logKeys: [vkey], originPrefixes: [LOG_NAME], port: listenOn, log: () => {} });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-gate-'));
    // The gateway's note key, made before it starts, so the witness can be told to trust it.
    vkey = (await openLogNoteKey({ dir: join(dir, 'keys'), logName: LOG_NAME })).signer.verifierKey;
    witness = await startAuditOffice();
    port = Number(new URL(witness.url).port);
    city = await startTestCity(
      {
        ISTHMUS_KEYS_DIR: join(dir, 'keys'),
        ISTHMUS_LOG_NAME: LOG_NAME,
        ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}`,
        ISTHMUS_WITNESS_GRACE_SECONDS: '1',
      },
      { witnessTiming: { checkpointIntervalMs: 100, retryMinMs: 20, retryMaxMs: 100, requestTimeoutMs: 1_000, closeWaitMs: 1_000 } },
    );
  }, 120_000);
  afterAll(async () => {
    await city?.close();
    await witness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const readyz = async () => {
    const response = await fetch(`${city.gateway.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { status: string; reasons?: string[]; evidence: { witnessed: boolean; witnesses: { name: string; lastError?: string }[] } } };
  };

  it('publishes its log keys and witnesses, and serves once checkpoint #0 is cosigned', async () => {
    const keys = (await (await fetch(`${city.gateway.url}/.well-known/isthmus-log-keys`)).json()) as { logName: string; keys: { vkey: string; current: boolean }[]; witnesses: { name: string; url: string }[]; quorum: number };
    expect(keys).toMatchObject({ logName: LOG_NAME, keys: [{ vkey, current: true }], witnesses: [{ name: 'audit-office.test-city', url: witness.url }], quorum: 1 });
    const cosigned = await latestCosignedCheckpoint(city.gateway.store.db, city.gateway.accessLog.chainId, 1);
    expect(cosigned).toMatchObject({ number: 0, size: 0, witnesses: ['audit-office.test-city'] });
    const reply = await city.graphql(LOAN_CHECK, { id: me.idNumber });
    expect(reply.status).toBe(200);
    expect(reply.body.data.person.name).toBeTruthy();
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', evidence: { witnessed: true } } });
  });

  it('cosigns the entries within a checkpoint interval, verifiable against the witness key', async () => {
    await city.graphql(LOAN_CHECK, { id: me.idNumber });
    const chainId = city.gateway.accessLog.chainId;
    const committed = city.gateway.accessLog.status().committedSeq!;
    await expect.poll(async () => (await latestCosignedCheckpoint(city.gateway.store.db, chainId, 1))?.size ?? -1, { timeout: 10_000 }).toBeGreaterThanOrEqual(committed);
    const cosigned = await latestCosignedCheckpoint(city.gateway.store.db, chainId, 1);
    const policy = { origin: originOf(LOG_NAME, chainId), logKeys: [parseVerifierKey(vkey)], witnesses: [parseVerifierKey(witness.verifierKey)] };
    expect(verifyCheckpoint(cosigned!.note, policy).cosignedBy).toEqual(['audit-office.test-city']);
  });

  it('refuses data with EVIDENCE_UNWITNESSED once the grace period passes with the witness away, and serves again when it is back', async () => {
    await witness.close();
    // Committed while the witness is away: nothing covers it.
    expect((await city.graphql(LOAN_CHECK, { id: me.idNumber })).status).toBe(200);
    await expect.poll(async () => (await city.graphql(LOAN_CHECK, { id: me.idNumber })).status, { timeout: 10_000, interval: 200 }).toBe(503);
    const refused = await city.graphql(LOAN_CHECK, { id: me.idNumber });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'EVIDENCE_UNWITNESSED' });
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body.reasons?.join(' ')).toMatch(/^EVIDENCE_UNWITNESSED: no quorum of witnesses has cosigned the access log for \d+ s/);
    expect(notReady.body.evidence.witnesses[0]).toMatchObject({ name: 'audit-office.test-city', lastError: 'WITNESS_UNREACHABLE' });

    witness = await startAuditOffice(port);
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000, interval: 100 }).toBe(200);
    const served = await city.graphql(LOAN_CHECK, { id: me.idNumber });
    expect(served.status).toBe(200);
    expect(served.body.data.person.name).toBeTruthy();
  });
});

describe('witness settings', () => {
  it('default to no witnesses, a quorum of all, fifteen minutes of grace and the demo log name', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ witnesses: [], witnessQuorum: 0, witnessGraceSeconds: 900, logName: 'isthmus.demo-city/access-log' });
  });

  it('refuse a bad witness list, a quorum above the witnesses and a log name with spaces, each named', () => {
    expect(() => loadConfig({ ISTHMUS_WITNESSES: 'nonsense' })).toThrow(/ISTHMUS_WITNESSES: witness 1 of 1 is not/);
    expect(() => loadConfig({ ISTHMUS_WITNESS_QUORUM: '1' })).toThrow(/ISTHMUS_WITNESS_QUORUM/);
    expect(() => loadConfig({ ISTHMUS_LOG_NAME: 'a log' })).toThrow(/ISTHMUS_LOG_NAME/);
    expect(() => loadConfig({ ISTHMUS_WITNESS_GRACE_SECONDS: '0' })).toThrow(/ISTHMUS_WITNESS_GRACE_SECONDS/);
  });
});
