import { isLogProofError, parseVerifierKey, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';

/** One witness the gateway sends its checkpoints to, and whose cosignatures count. */
export interface WitnessConfig {
  /** The witness key's name: its identity in cosignatures (e.g. `audit-office.demo-city`). */
  readonly name: string;
  /** The verifier key as written (`<name>+<8 hex>+<base64>`), for publication. */
  readonly vkey: string;
  readonly verifier: NoteVerifier;
  /** The witness's base URL, without a trailing slash. */
  readonly url: string;
}

/** Thrown for an unreadable `ISTHMUS_WITNESSES` value; the message names the entry by position, never echoes a key. */
export class WitnessListInvalid extends Error {
  override readonly name = 'WitnessListInvalid';
  readonly code = 'WITNESS_LIST_INVALID';
}

/**
 * Parses `ISTHMUS_WITNESSES` (or a `--witness` flag): comma-separated
 * `<witness vkey>@<base URL>`. A vkey's base64 has no `@` or `,`, so the
 * split is unambiguous. URLs must be http(s), http only on a loopback host;
 * a witness named twice is refused (its cosignature would count twice).
 *
 * @example
 * parseWitnessList('audit-office.demo-city+1a2b3c4d+AQ…@http://127.0.0.1:4100');
 */
export function parseWitnessList(text: string): WitnessConfig[] {
  const entries = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const witnesses: WitnessConfig[] = [];
  entries.forEach((entry, index) => {
    const position = `witness ${index + 1} of ${entries.length}`;
    const at = entry.indexOf('@');
    if (at <= 0) throw new WitnessListInvalid(`${position} is not "<verifier key>@<URL>"`);
    const vkey = entry.slice(0, at);
    const url = entry.slice(at + 1).replace(/\/+$/u, '');
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(vkey);
    } catch (error) {
      if (isLogProofError(error)) throw new WitnessListInvalid(`${position}: the verifier key is not "<name>+<8 hex id>+<base64 key>"`);
      throw error;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new WitnessListInvalid(`${position}: the URL does not parse`);
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
      throw new WitnessListInvalid(`${position}: the URL must be https:// (http:// only on a loopback host)`);
    }
    if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
      throw new WitnessListInvalid(`${position}: the URL must not carry a query, fragment or credentials`);
    }
    if (witnesses.some((witness) => witness.name === verifier.name)) throw new WitnessListInvalid(`${position}: witness ${verifier.name} is listed twice`);
    witnesses.push({ name: verifier.name, vkey, verifier, url });
  });
  return witnesses;
}
