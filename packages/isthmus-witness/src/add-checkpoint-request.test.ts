import { describe, expect, it } from 'vitest';
import { MAX_PROOF_LINES, parseAddCheckpointRequest } from './add-checkpoint-request.ts';

const note = 'isthmus.demo-city/access-log/a1\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 isthmus.demo-city/access-log AAAA\n';
const hash = (n: number) => Buffer.alloc(32, n).toString('base64');

function codeOf(body: string): string {
  try {
    parseAddCheckpointRequest(body);
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('parseAddCheckpointRequest', () => {
  it('splits old, the proof and the note at the first empty line (the note keeps its own)', () => {
    const parsed = parseAddCheckpointRequest(`old 2\n${hash(1)}\n${hash(2)}\n\n${note}`);
    expect(parsed.oldSize).toBe(2);
    expect(parsed.proof.map((h) => Buffer.from(h).toString('base64'))).toEqual([hash(1), hash(2)]);
    expect(parsed.note).toBe(note);
  });

  it(`takes up to ${MAX_PROOF_LINES} proof lines and no more`, () => {
    expect(codeOf(`old 5\n${`${hash(3)}\n`.repeat(MAX_PROOF_LINES)}\n${note}`)).toBe('ok');
    expect(codeOf(`old 5\n${`${hash(3)}\n`.repeat(MAX_PROOF_LINES + 1)}\n${note}`)).toBe('MALFORMED');
  });

  it('refuses sizes and hashes with more than one spelling', () => {
    for (const body of [`old 1e3\n\n${note}`, `old +1\n\n${note}`, `old  1\n\n${note}`, `old 1\n${hash(1).slice(0, -1)}\n\n${note}`, `old 1\n ${hash(1)}\n\n${note}`, `old 9007199254740993\n\n${note}`]) {
      expect(codeOf(body), body.slice(0, 30)).toBe('MALFORMED');
    }
  });
});
