import { describe, expect, it } from 'vitest';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from './note-key.ts';
import { cosignNote, formatNote, parseNote, signNote, verifyNote } from './signed-note.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';

function codeOf(check: () => unknown): LogProofErrorCode | 'ok' {
  try {
    check();
    return 'ok';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}

describe('note keys', () => {
  it('reads the example key of Go\'s golang.org/x/mod/sumdb/note, and verifies its example note', () => {
    const signer = parseSignerKey('PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz');
    expect(signer.verifierKey).toBe('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
    const verifier = parseVerifierKey(signer.verifierKey);
    expect(verifier.keyId).toBe(0xc74f20a3);
    const text = 'If you think cryptography is the answer to your problem,\nthen you don\'t know what your problem is.\n';
    const message = `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(verifyNote(message, [verifier]).verifiedBy.map((v) => v.name)).toEqual(['PeterNeumann']);
    // Ed25519 is deterministic: our signer writes the very same note.
    expect(signNote(text, [signer])).toBe(message);
  });

  it('generates keys whose strings parse back, and refuses malformed ones', () => {
    const key = generateNoteKey('audit-office.city.example');
    const signer = parseSignerKey(key.signerKey);
    expect(signer.verifierKey).toBe(key.verifierKey);
    expect(key.verifierKey).toMatch(/^audit-office\.city\.example\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    // The base64 key may itself hold "+".
    const [name, id, ...base64] = key.verifierKey.split('+') as [string, string, ...string[]];
    const encoded = base64.join('+');
    const otherId = ((Number.parseInt(id, 16) + 1) >>> 0).toString(16).padStart(8, '0');
    expect(codeOf(() => parseVerifierKey(`${name}+${otherId}+${encoded}`))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parseVerifierKey(`other+${id}+${encoded}`))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parseVerifierKey(`${name}+${id}`))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parseVerifierKey(`${name}+${id}+${encoded.slice(0, -4)}`))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parseSignerKey(key.verifierKey))).toBe('KEY_MALFORMED');
    expect(codeOf(() => generateNoteKey('two words'))).toBe('KEY_MALFORMED');
    expect(codeOf(() => generateNoteKey(''))).toBe('KEY_MALFORMED');
  });

  it('never puts a signer key into an error message', () => {
    const { signerKey } = generateNoteKey('log');
    const secret = signerKey.split('+').slice(4).join('+');
    try {
      parseSignerKey(signerKey.replace('+log+', '+log+0'));
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});

describe('signed notes', () => {
  const log = generateNoteKey('isthmus.city.example/log');
  const witnessA = generateNoteKey('audit-office.city.example');
  const witnessB = generateNoteKey('hrss.city.example');
  const [logSigner, aSigner, bSigner] = [log, witnessA, witnessB].map((k) => parseSignerKey(k.signerKey)) as [
    ReturnType<typeof parseSignerKey>,
    ReturnType<typeof parseSignerKey>,
    ReturnType<typeof parseSignerKey>,
  ];
  const [logKey, aKey, bKey] = [log, witnessA, witnessB].map((k) => parseVerifierKey(k.verifierKey)) as [
    ReturnType<typeof parseVerifierKey>,
    ReturnType<typeof parseVerifierKey>,
    ReturnType<typeof parseVerifierKey>,
  ];
  const text = 'isthmus.city.example/log/chain-1\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('round-trips: sign, parse, format, verify', () => {
    const message = signNote(text, [logSigner]);
    expect(message.startsWith(`${text}\n— isthmus.city.example/log `)).toBe(true);
    const note = parseNote(message);
    expect(note.text).toBe(text);
    expect(formatNote(note)).toBe(message);
    expect(verifyNote(message, [logKey]).verifiedBy).toEqual([logKey]);
  });

  it('keeps every signature when witnesses cosign, and replaces a witness\'s own earlier one', () => {
    const once = cosignNote(cosignNote(signNote(text, [logSigner]), [aSigner]), [bSigner]);
    const twice = cosignNote(once, [aSigner]);
    expect(parseNote(twice).signatures.map((s) => s.name)).toEqual(['isthmus.city.example/log', 'hrss.city.example', 'audit-office.city.example']);
    expect(verifyNote(twice, [logKey, aKey, bKey]).verifiedBy.map((v) => v.name).sort()).toEqual([
      'audit-office.city.example',
      'hrss.city.example',
      'isthmus.city.example/log',
    ]);
  });

  it('refuses an edited body, a swapped signature and a note no known key signed', () => {
    const message = cosignNote(signNote(text, [logSigner]), [aSigner]);
    expect(codeOf(() => verifyNote(message.replace('\n3\n', '\n4\n'), [logKey]))).toBe('SIGNATURE_INVALID');
    // The log's signature line carried over onto another note's text.
    const other = signNote(text.replace('chain-1', 'chain-2'), [logSigner]);
    const swapped = `${text}\n${other.split('\n\n')[1]}`;
    expect(codeOf(() => verifyNote(swapped, [logKey]))).toBe('SIGNATURE_INVALID');
    // The witness's signature relabelled as the log's: same name and id, wrong key.
    const [logLine, witnessLine] = message.split('\n\n')[1]!.trimEnd().split('\n') as [string, string];
    const relabelled = `${text}\n${logLine.split(' ').slice(0, 2).join(' ')} ${Buffer.concat([
      Buffer.from(logLine.split(' ')[2]!, 'base64').subarray(0, 4),
      Buffer.from(witnessLine.split(' ')[2]!, 'base64').subarray(4),
    ]).toString('base64')}\n`;
    expect(codeOf(() => verifyNote(relabelled, [logKey]))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifyNote(message, [bKey]))).toBe('KEY_UNKNOWN');
    // Another key under the log's name is another key: its signatures are unknown, not valid.
    const impostor = parseSignerKey(generateNoteKey('isthmus.city.example/log').signerKey);
    expect(codeOf(() => verifyNote(signNote(text, [impostor]), [logKey]))).toBe('KEY_UNKNOWN');
  });

  it.each([
    ['no blank line', `${text}— log AAAA\n`],
    ['no newline after the signatures', `${text}\n— log AAAAAAAA`],
    ['a signature line without the dash', `${text}\n- log AAAAAAAA\n`],
    ['bad base64', `${text}\n— log A*AAAAAA\n`],
    ['a signature too short to hold a key id', `${text}\n— log AAAA\n`],
    ['a control character in the text', `a\tb\n\n— log AAAAAAAA\n`],
  ])('refuses a note with %s', (_, message) => {
    expect(codeOf(() => parseNote(message))).toBe('NOTE_MALFORMED');
  });
});
