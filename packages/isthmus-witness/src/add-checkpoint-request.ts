import { RequestMalformed } from './witness-error.ts';

/** The most consistency-proof lines a request may carry: a proof between two trees of up to 2^63 leaves has fewer. */
export const MAX_PROOF_LINES = 64;

/** A parsed `POST /add-checkpoint` body (C2SP tlog-witness). */
export interface AddCheckpointRequest {
  /** The size of the last checkpoint the client believes this witness cosigned for the origin (0 for none). */
  readonly oldSize: number;
  /** The consistency proof from `oldSize` to the new checkpoint's size, in order. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, exactly as sent. */
  readonly note: string;
}

const SIZE_PATTERN = /^(0|[1-9][0-9]*)$/u;
const HASH_SIZE = 32;

function decodeHash(line: string): Uint8Array | undefined {
  // Node's decoder skips what it does not know; one spelling only, or two bodies would mean the same proof.
  const bytes = Buffer.from(line, 'base64');
  return bytes.length === HASH_SIZE && bytes.toString('base64') === line ? new Uint8Array(bytes) : undefined;
}

/**
 * Parses the body of `POST /add-checkpoint`: `old <N>\n`, one base64 proof
 * hash a line, an empty line, then the signed checkpoint note. Throws
 * `RequestMalformed`; checks nothing the note says (that is the witness's job).
 *
 * @example
 * parseAddCheckpointRequest('old 0\n\nisthmus.demo-city/access-log/a1\n0\n47DEQpj8…=\n…\n\n— isthmus.demo-city/access-log …\n');
 */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const split = body.indexOf('\n\n');
  if (split < 0) throw new RequestMalformed('the body is "old <size>", the proof lines, an empty line, then the checkpoint note');
  const [oldLine = '', ...proofLines] = body.slice(0, split).split('\n');
  const match = /^old (.*)$/u.exec(oldLine);
  const oldText = match?.[1] ?? '';
  if (!SIZE_PATTERN.test(oldText) || !Number.isSafeInteger(Number(oldText))) throw new RequestMalformed('the first line is "old <size>", the size in decimal');
  if (proofLines.length > MAX_PROOF_LINES) throw new RequestMalformed(`a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  const proof = proofLines.map((line, index) => {
    const hash = decodeHash(line);
    if (hash === undefined) throw new RequestMalformed(`proof line ${index + 1} is not a base64 SHA-256 hash`);
    return hash;
  });
  const oldSize = Number(oldText);
  if (oldSize === 0 && proof.length > 0) throw new RequestMalformed('a checkpoint sent with "old 0" carries no proof');
  return { oldSize, proof, note: body.slice(split + 2) };
}
