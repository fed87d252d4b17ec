import { encodeBase64Proof, verifyCosignature } from './witness-cosignature.ts';
import type { WitnessConfig } from './witness-config.ts';

/** How long one request to a witness may take, connection included. */
export const DEFAULT_WITNESS_REQUEST_TIMEOUT_MS = 5_000;
/** The most of a witness's answer the gateway reads: signature lines and one-line errors are small. */
const MAX_ANSWER_BYTES = 64 * 1_024;

/** What a witness answered to `POST /add-checkpoint`. */
export type AddCheckpointAnswer =
  /** 200: its signature line(s), exactly as returned, already checked against its key. */
  | { readonly kind: 'cosigned'; readonly signature: string }
  /** 409: `old` was not the size of the last checkpoint it cosigned for the origin; this is. */
  | { readonly kind: 'size-mismatch'; readonly size: number }
  /** 4xx/5xx otherwise: refused (a proof that does not hold, a rewritten history, an unknown key…), or broken. */
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string };

/** A witness the gateway could not reach, or whose answer made no sense; `code` says which. */
export class WitnessUnreachableError extends Error {
  override readonly name = 'WitnessUnreachableError';
  readonly code: 'WITNESS_UNREACHABLE' | 'WITNESS_TIMEOUT' | 'WITNESS_ANSWER_INVALID';
  readonly witness: string;
  constructor(code: WitnessUnreachableError['code'], witness: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.witness = witness;
  }
}

/**
 * Sends one signed checkpoint to a witness (C2SP tlog-witness
 * `add-checkpoint`): `old <size>`, the consistency proof from that size, a
 * blank line, the note. A 200's signature lines are checked against the
 * witness's own key before they are returned: a cosignature that does not
 * verify is worth nothing and is reported as an invalid answer.
 *
 * @example
 * const answer = await addCheckpoint(witness, { old: 0, proof: [], note });
 */
export async function addCheckpoint(
  witness: WitnessConfig,
  request: { readonly old: number; readonly proof: readonly Uint8Array[]; readonly note: string },
  options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
): Promise<AddCheckpointAnswer> {
  const body = `old ${request.old}\n${encodeBase64Proof(request.proof)}\n${request.note}`;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_WITNESS_REQUEST_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body, signal, redirect: 'error' });
    text = await readBounded(response);
  } catch (cause) {
    if (timeout.aborted) throw new WitnessUnreachableError('WITNESS_TIMEOUT', witness.name, `witness ${witness.name} did not answer within the timeout`, { cause });
    throw new WitnessUnreachableError('WITNESS_UNREACHABLE', witness.name, `witness ${witness.name} could not be reached`, { cause });
  }
  if (response.status === 200) {
    if (!verifyCosignature(request.note, text, witness.verifier)) {
      throw new WitnessUnreachableError('WITNESS_ANSWER_INVALID', witness.name, `witness ${witness.name} answered with no valid cosignature by its key`);
    }
    return { kind: 'cosigned', signature: text };
  }
  if (response.status === 409) {
    const size = /^(0|[1-9][0-9]*)\n?$/.exec(text);
    if (!size || !Number.isSafeInteger(Number(size[1]))) throw new WitnessUnreachableError('WITNESS_ANSWER_INVALID', witness.name, `witness ${witness.name} answered 409 without its size`);
    return { kind: 'size-mismatch', size: Number(size[1]) };
  }
  const line = text.split('\n')[0] ?? '';
  const colon = line.indexOf(': ');
  return {
    kind: 'refused',
    status: response.status,
    code: colon > 0 && /^[A-Z0-9_]+$/.test(line.slice(0, colon)) ? line.slice(0, colon) : 'UNKNOWN',
    message: (colon > 0 ? line.slice(colon + 2) : line).slice(0, 300),
  };
}

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error('answer too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
