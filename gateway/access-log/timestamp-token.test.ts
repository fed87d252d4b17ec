import { execFileSync } from 'node:child_process';
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, OPENSSL, startLocalTsa, type TestPki } from '../../test/support/local-tsa.ts';
import { requestTimestamp } from './timestamp-client.ts';
import { derConstructed, derEncode, derInteger, derOid, parseDer, readGeneralizedTime, readInteger, readOid, TAG } from './timestamp-der.ts';
import { isTimestampError } from './timestamp-error.ts';
import { createTimestampRequest } from './timestamp-request.ts';
import { readTrustedCertificates } from './timestamp-settings.ts';
import { parseTimestampToken } from './timestamp-token.ts';
import { verifyTimestampToken } from './timestamp-verify.ts';

describe('timestamp DER', () => {
  it('round-trips integers and object identifiers, and refuses non-minimal forms', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }), (value) => {
      expect(readInteger(parseDer(derInteger(value), 'x'), 'x', 'n')).toBe(value);
    }));
    for (const oid of ['1.2.840.113549.1.9.16.1.4', '2.16.840.1.101.3.4.2.1', '2.999.3', '1.3.6.1.4.1.99999.1']) {
      expect(readOid(parseDer(derOid(oid), 'x'), 'x', 'oid')).toBe(oid);
    }
    expect(() => readInteger(parseDer(Uint8Array.of(0x02, 0x02, 0x00, 0x01), 'x'), 'x', 'n')).toThrow(/not a minimal integer/u);
    expect(() => parseDer(Uint8Array.of(0x04, 0x81, 0x01, 0x00), 'x')).toThrow(/minimal form/u);
    expect(() => parseDer(Uint8Array.of(0x30, 0x80, 0x00, 0x00), 'x')).toThrow(/indefinite/u);
    expect(() => parseDer(Uint8Array.of(0x04, 0x01, 0x00, 0x00), 'x')).toThrow(/trailing/u);
    const time = (text: string) => readGeneralizedTime(parseDer(derEncode(TAG.GENERALIZED_TIME, new TextEncoder().encode(text)), 'x'), 'x', 't');
    expect(time('20261204184122.5Z')).toEqual(new Date('2026-12-04T18:41:22.500Z'));
    expect(() => time('20261204184122.50Z')).toThrow(/GeneralizedTime/u);
    expect(() => time('20260231000000Z')).toThrow(/real date/u);
    expect(derConstructed([derInteger(1n)])).toEqual(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01));
  });

  it('writes a TimeStampReq that openssl reads as asked', () => {
    const request = createTimestampRequest('a checkpoint', 0x1234567890abcdefn);
    const dir = createTestPki();
    try {
      writeFileSync(join(dir.dir, 'q.tsq'), request.der);
      const text = execFileSync(OPENSSL, ['ts', '-query', '-in', join(dir.dir, 'q.tsq'), '-text'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      expect(text).toContain('Hash Algorithm: sha256');
      expect(text).toContain('Nonce: 0x1234567890ABCDEF');
      expect(text).toContain('Certificate required: yes');
      const imprint = createHash('sha256').update('a checkpoint').digest('hex');
      expect(text.replace(/\s+/gu, ' ')).toContain(imprint.slice(0, 16).replace(/(..)(?!$)/gu, '$1 ').slice(0, 23));
      expect(Buffer.from(request.imprint).toString('hex')).toBe(imprint);
    } finally {
      dir.remove();
    }
  });
});

describe('a mutated timestamp token', () => {
  let pki: TestPki;
  let token: Uint8Array;
  let trusted: X509Certificate[];
  const text = 'checkpoint text';

  beforeAll(async () => {
    pki = createTestPki();
    const ca = await pki.createCa('Mutation CA');
    const tsa = await startLocalTsa(pki, await pki.createTsa(ca, 'Mutation TSA', 'rsa'));
    trusted = readTrustedCertificates(readFileSync(ca.certFile, 'utf8'));
    try {
      token = (await requestTimestamp({ url: tsa.url, trusted, timeoutMs: 5_000, maxResponseBytes: 65_536 }, text)).token;
    } finally {
      await tsa.close();
    }
  });
  afterAll(() => pki?.remove());

  it('never verifies, and fails only with a timestamp error, whichever byte is changed or wherever it is cut', () => {
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (offset, xor, cut) => {
        const bytes = cut ? token.subarray(0, offset) : Uint8Array.from(token);
        if (!cut) bytes[offset]! ^= xor;
        let outcome: unknown;
        try {
          verifyTimestampToken(parseTimestampToken(bytes), { text, trusted });
          outcome = 'verified';
        } catch (error) {
          outcome = error;
        }
        expect(outcome).not.toBe('verified');
        expect(isTimestampError(outcome), String(outcome)).toBe(true);
      }),
      { numRuns: 600 },
    );
  });
});
