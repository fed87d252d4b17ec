import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignNote, generateNoteKey, parseNote, parseSignerKey, signCheckpoint, emptyRootHash } from '../../packages/isthmus-log-proofs/src/index.ts';
import { addCheckpoint } from './witness-client.ts';
import { parseWitnessList } from './witness-config.ts';

/**
 * The witness client against a witness that misbehaves on purpose (a real
 * HTTP server of the test's): what a well-behaved one answers is covered by
 * witness-publisher.test.ts against the real `isthmus-witness`.
 */
describe('addCheckpoint', () => {
  const log = parseSignerKey(generateNoteKey('isthmus.test-city/access-log').signerKey);
  const witnessKey = parseSignerKey(generateNoteKey('audit-office.test').signerKey);
  const stranger = parseSignerKey(generateNoteKey('audit-office.test').signerKey);
  const note = signCheckpoint({ origin: 'isthmus.test-city/access-log/gw-1', size: 0, rootHash: emptyRootHash() }, log);
  const signatureLine = (signer: typeof witnessKey) => cosignNote(note, [signer]).slice(note.length);
  let answer: (body: string) => { status: number; type?: string; body: string; delayMs?: number };
  const bodies: string[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        const reply = answer(body);
        setTimeout(() => response.writeHead(reply.status, { 'content-type': reply.type ?? 'text/plain' }).end(reply.body), reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const witness = () => parseWitnessList(`${witnessKey.verifierKey}@${url}`)[0]!;

  it('sends old, the proof lines, a blank line and the note, and returns the signature lines a witness signed with its key', async () => {
    answer = () => ({ status: 200, body: signatureLine(witnessKey) });
    const proof = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    expect(await addCheckpoint(witness(), { old: 3, proof, note })).toEqual({ kind: 'cosigned', signature: signatureLine(witnessKey) });
    expect(bodies.at(-1)).toBe(`old 3\n${Buffer.from(proof[0]!).toString('base64')}\n${Buffer.from(proof[1]!).toString('base64')}\n\n${note}`);
    expect(parseNote(note + signatureLine(witnessKey)).signatures.map((s) => s.name)).toEqual([log.name, 'audit-office.test']);
  });

  it('refuses a 200 whose cosignature is by another key of the same name, or is no signature line at all', async () => {
    answer = () => ({ status: 200, body: signatureLine(stranger) });
    await expect(addCheckpoint(witness(), { old: 0, proof: [], note })).rejects.toMatchObject({ code: 'WITNESS_ANSWER_INVALID', witness: 'audit-office.test' });
    answer = () => ({ status: 200, body: 'ok\n' });
    await expect(addCheckpoint(witness(), { old: 0, proof: [], note })).rejects.toMatchObject({ code: 'WITNESS_ANSWER_INVALID' });
  });

  it('reads a 409 as the witness telling its size, and any other refusal as its code and message', async () => {
    answer = () => ({ status: 409, type: 'text/x.tlog.size', body: '42\n' });
    expect(await addCheckpoint(witness(), { old: 0, proof: [], note })).toEqual({ kind: 'size-mismatch', size: 42 });
    answer = () => ({ status: 422, body: 'INCONSISTENT: the proof does not prove consistency\n' });
    expect(await addCheckpoint(witness(), { old: 0, proof: [], note })).toEqual({ kind: 'refused', status: 422, code: 'INCONSISTENT', message: 'the proof does not prove consistency' });
    answer = () => ({ status: 409, body: 'not a size' });
    await expect(addCheckpoint(witness(), { old: 0, proof: [], note })).rejects.toMatchObject({ code: 'WITNESS_ANSWER_INVALID' });
  });

  it('gives up on a witness that does not answer in time, and on one that is not there', async () => {
    answer = () => ({ status: 200, body: signatureLine(witnessKey), delayMs: 2_000 });
    await expect(addCheckpoint(witness(), { old: 0, proof: [], note }, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'WITNESS_TIMEOUT' });
    const gone = parseWitnessList(`${witnessKey.verifierKey}@http://127.0.0.1:1`)[0]!;
    await expect(addCheckpoint(gone, { old: 0, proof: [], note })).rejects.toMatchObject({ code: 'WITNESS_UNREACHABLE', message: 'witness audit-office.test could not be reached' });
  });
});
