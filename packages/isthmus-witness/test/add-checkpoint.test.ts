import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey, verifyCheckpoint } from '../../isthmus-log-proofs/src/index.ts';
import { startWitness, type RunningWitness } from '../src/index.ts';
import { addCheckpoint, createTestLog, forkTree, getJson, LOG_NAME, logKey, type CheckpointList, type TestLog } from './support/test-log.ts';

const WITNESS = 'audit-office.demo-city';
const trustedKey = logKey();
let dataDir: string;
let witness: RunningWitness;
let chains = 0;
const warnings: string[] = [];

/** A fresh chain of the trusted log, with its checkpoint #0 (size 0) already cosigned. */
async function startedChain(): Promise<TestLog> {
  chains += 1;
  const log = createTestLog(`chain-${chains}`, trustedKey);
  const answer = await addCheckpoint(witness.url, log.body(0, log.checkpoint()));
  expect(answer.status).toBe(200);
  return log;
}

/** Grows the log by `count` entries and has the witness cosign the honest next checkpoint. */
async function grow(log: TestLog, count: number): Promise<void> {
  const old = log.tree.size;
  log.append(count);
  const answer = await addCheckpoint(witness.url, log.body(old, log.checkpoint()));
  expect(answer.status, answer.text).toBe(200);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'isthmus-witness-'));
  witness = await startWitness({ dataDir, name: WITNESS, logKeys: [trustedKey.verifier.verifierKey], originPrefixes: [LOG_NAME], port: 0, log: (m) => warnings.push(m) });
});

afterAll(async () => {
  await witness.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('POST /add-checkpoint accepts a chain that grows', () => {
  it('cosigns checkpoint #0 and each consistent successor, with real consistency proofs', async () => {
    const log = await startedChain();
    for (const count of [1, 2, 5, 8, 13, 1, 34]) await grow(log, count);
    const old = log.tree.size;
    log.append(3);
    const next = log.checkpoint();
    const answer = await addCheckpoint(witness.url, log.body(old, next));
    expect(answer).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8' });
    expect(answer.text).toMatch(new RegExp(`^\u2014 ${WITNESS.replaceAll('.', '\\.')} [A-Za-z0-9+/]+=*\n$`, 'u'));
    // The signature line, appended to the log's note, is a cosignature the gateway's verifier counts.
    const cosigned = `${next.note}${answer.text}`;
    const verified = verifyCheckpoint(cosigned, { origin: log.origin, logKeys: [log.verifier], witnesses: [parseVerifierKey(witness.verifierKey)], quorum: 1 });
    expect(verified).toMatchObject({ size: 67, cosignedBy: [WITNESS] });
  });

  it('answers a resend of its latest checkpoint with the same cosignature, whatever old it states', async () => {
    const log = await startedChain();
    log.append(4);
    const next = log.checkpoint();
    const first = await addCheckpoint(witness.url, log.body(0, next));
    const again = await addCheckpoint(witness.url, log.body(0, next));
    const withNewOld = await addCheckpoint(witness.url, log.body(4, next));
    expect([first.status, again.status, withNewOld.status]).toEqual([200, 200, 200]);
    expect(again.text).toBe(first.text);
    expect(withNewOld.text).toBe(first.text);
    const history = await getJson<CheckpointList>(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(log.origin)}`);
    expect(history.body.checkpoints.map((c) => c.size)).toEqual([0, 4]);
  });

  it('accepts a checkpoint of the same size and root that names its latest (e.g. the final one)', async () => {
    const log = await startedChain();
    await grow(log, 6);
    const final = await addCheckpoint(witness.url, log.body(6, log.checkpoint({ final: true })));
    expect(final.status).toBe(200);
  });
});

describe('POST /add-checkpoint refuses', () => {
  it('409 text/x.tlog.size with its latest size when old is stale, and 0 for an origin it does not know', async () => {
    const log = await startedChain();
    await grow(log, 8);
    log.append(4);
    const stale = await addCheckpoint(witness.url, log.body(4, log.checkpoint({}, false)));
    expect(stale).toEqual({ status: 409, type: 'text/x.tlog.size', text: '8\n' });
    const fresh = createTestLog(`chain-unseen-${chains}`, trustedKey);
    fresh.append(5);
    const unknown = await addCheckpoint(witness.url, fresh.body(2, fresh.checkpoint({ previous: null })));
    expect(unknown).toEqual({ status: 409, type: 'text/x.tlog.size', text: '0\n' });
  });

  it('422 INCONSISTENT when the history the witness saw was rewritten and grown', async () => {
    const log = await startedChain();
    await grow(log, 8);
    const rewritten = forkTree(log.tree, 5, 7);
    const forged = log.checkpoint({ tree: rewritten }, false);
    const answer = await addCheckpoint(witness.url, log.body(8, forged, rewritten));
    expect(answer.status).toBe(422);
    expect(answer.text).toMatch(/^INCONSISTENT: /u);
  });

  it('422 INCONSISTENT for a proof that does not join the trees (a hash changed)', async () => {
    const log = await startedChain();
    await grow(log, 5);
    log.append(6);
    const body = log.body(5, log.checkpoint({}, false));
    const [oldLine, firstHash, ...rest] = body.split('\n');
    const flipped = Buffer.from(firstHash!, 'base64');
    flipped[0]! ^= 1;
    const answer = await addCheckpoint(witness.url, [oldLine, flipped.toString('base64'), ...rest].join('\n'));
    expect(answer.text).toMatch(/^INCONSISTENT: /u);
  });

  it('422 PREVIOUS_MISMATCH when a middle checkpoint was deleted, or none is named', async () => {
    const log = await startedChain();
    await grow(log, 4);
    log.append(4);
    log.checkpoint(); // at 8: never sent, as if deleted
    log.append(4);
    const skipping = await addCheckpoint(witness.url, log.body(4, log.checkpoint({}, false)));
    expect(skipping.status).toBe(422);
    expect(skipping.text).toMatch(/^PREVIOUS_MISMATCH: /u);
    const orphan = await addCheckpoint(witness.url, log.body(4, log.checkpoint({ previous: null }, false)));
    expect(orphan.text).toMatch(/^PREVIOUS_MISMATCH: /u);
  });

  it('422 PREVIOUS_MISMATCH for a new origin whose first checkpoint names a previous one', async () => {
    const fresh = createTestLog(`chain-late-${chains}`, trustedKey);
    const zero = fresh.checkpoint();
    fresh.append(3);
    const answer = await addCheckpoint(witness.url, fresh.body(0, fresh.checkpoint({ previous: zero })));
    expect(answer.text).toMatch(/^PREVIOUS_MISMATCH: /u);
  });

  it('422 ROOT_CONFLICT for the same size with another root', async () => {
    const log = await startedChain();
    await grow(log, 8);
    const other = forkTree(log.tree, 3, 5);
    const answer = await addCheckpoint(witness.url, log.body(8, log.checkpoint({ tree: other }, false), other));
    expect(answer.status).toBe(422);
    expect(answer.text).toMatch(/^ROOT_CONFLICT: /u);
  });

  it('422 ALREADY_FINAL after a final checkpoint, though its resend still answers', async () => {
    const log = await startedChain();
    log.append(3);
    const final = log.checkpoint({ final: true });
    const cosigned = await addCheckpoint(witness.url, log.body(0, final));
    expect(cosigned.status).toBe(200);
    log.append(2);
    const after = await addCheckpoint(witness.url, log.body(3, log.checkpoint()));
    expect(after.status).toBe(422);
    expect(after.text).toMatch(/^ALREADY_FINAL: /u);
    expect(await addCheckpoint(witness.url, log.body(0, final))).toMatchObject({ status: 200, text: cosigned.text });
  });

  it('403 LOG_KEY_UNKNOWN for a checkpoint signed with a foreign key, SIGNATURE_INVALID for a forged signature', async () => {
    const log = await startedChain();
    log.append(2);
    const foreign = await addCheckpoint(witness.url, log.body(0, log.checkpoint({ signer: logKey().signer }, false)));
    expect(foreign.status).toBe(403);
    expect(foreign.text).toMatch(/^LOG_KEY_UNKNOWN: /u);
    const honest = log.checkpoint({}, false);
    const lines = honest.note.split('\n');
    const signatureLine = lines.at(-2)!;
    const bytes = Buffer.from(signatureLine.split(' ').at(-1)!, 'base64');
    bytes[10]! ^= 1;
    lines[lines.length - 2] = `${signatureLine.split(' ').slice(0, -1).join(' ')} ${bytes.toString('base64')}`;
    const forged = await addCheckpoint(witness.url, `old 0\n\n${lines.join('\n')}`);
    expect(forged.status).toBe(403);
    expect(forged.text).toMatch(/^SIGNATURE_INVALID: /u);
  });

  it('403 ORIGIN_NOT_ACCEPTED for an origin outside its prefixes, at a "/" boundary', async () => {
    for (const origin of ['other-city/access-log/a1', `${LOG_NAME}-2/a1`]) {
      const log = createTestLog('x', trustedKey);
      const answer = await addCheckpoint(witness.url, log.body(0, log.checkpoint({ origin })));
      expect(answer.status, origin).toBe(403);
      expect(answer.text).toMatch(/^ORIGIN_NOT_ACCEPTED: /u);
    }
  });

  it('400 MALFORMED for bodies that do not parse, 400 SIZE_WENT_BACKWARDS, 413 for a body too large', async () => {
    const log = await startedChain();
    await grow(log, 8);
    const note = log.checkpoint({}, false).note;
    const hash = Buffer.alloc(32, 7).toString('base64');
    const malformed = [
      'old 0',
      `old -1\n\n${note}`,
      `old 08\n\n${note}`,
      `new 8\n\n${note}`,
      `old 8\nnot-base64!\n\n${note}`,
      `old 8\n${Buffer.alloc(31).toString('base64')}\n\n${note}`,
      `old 8\n${`${hash}\n`.repeat(65)}\n${note}`,
      `old 0\n${hash}\n\n${note}`,
      'old 8\n\nnot a note\n',
      `old 8\n\n${note.replace(`\n${log.tree.size}\n`, '\nmany\n')}`,
    ];
    for (const body of malformed) {
      const answer = await addCheckpoint(witness.url, body);
      expect(answer.status, JSON.stringify(body.slice(0, 40))).toBe(400);
      expect(answer.text).toMatch(/^MALFORMED: [^\n]+\n$/u);
    }
    const smaller = await addCheckpoint(witness.url, `old 8\n\n${log.checkpoint({ size: 4 }, false).note}`);
    expect(smaller.status).toBe(400);
    expect(smaller.text).toMatch(/^SIZE_WENT_BACKWARDS: /u);
    const large = await addCheckpoint(witness.url, `old 8\n\n${'x'.repeat(1_100_000)}`);
    expect(large.status).toBe(413);
    expect(large.text).toMatch(/^BODY_TOO_LARGE: /u);
    expect(warnings).toEqual([]);
  });
});

describe('concurrent submissions for one origin', () => {
  it('are taken one at a time: of ten successors of one checkpoint, exactly one is cosigned', async () => {
    const log = await startedChain();
    await grow(log, 4);
    log.append(10);
    const latest = (await getJson<CheckpointList>(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(log.origin)}`)).body.checkpoints.at(-1)!;
    expect(latest.size).toBe(4);
    const candidates = Array.from({ length: 10 }, (_, i) => log.checkpoint({ size: 5 + i }, false));
    const answers = await Promise.all(candidates.map((c) => addCheckpoint(witness.url, log.body(4, c))));
    const accepted = answers.flatMap((a, i) => (a.status === 200 ? [candidates[i]!] : []));
    expect(accepted).toHaveLength(1);
    const winner = accepted[0]!.checkpoint.size;
    for (const answer of answers.filter((a) => a.status !== 200)) expect(answer).toMatchObject({ status: 409, text: `${winner}\n` });
    const history = await getJson<CheckpointList>(`${witness.url}/checkpoints/history?origin=${encodeURIComponent(log.origin)}`);
    expect(history.body.checkpoints.map((c) => c.size)).toEqual([0, 4, winner]);
  });
});
