import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, startLocalTsa, type LocalTsa, type TestCa, type TestPki } from '../../test/support/local-tsa.ts';
import { requestTimestamp } from './timestamp-client.ts';
import { parseDer } from './timestamp-der.ts';
import { TimestampInvalid, TimestampRefused, type TimestampError } from './timestamp-error.ts';
import { OID } from './timestamp-oids.ts';
import { readTimestampSettings, readTrustedCertificates, type TimestampSettings } from './timestamp-settings.ts';
import { parseTimestampResponse, parseTimestampToken } from './timestamp-token.ts';
import { verifyTimestampToken } from './timestamp-verify.ts';

const NOTE = 'isthmus.demo-city/access-log/chain-1\n3\nq0XHPLoSUtgKNQ8PBPgAIH4jmoGz0xs2nqEdBgzNl1E=\ntime 2026-12-04T18:00:00.000Z\n\n— isthmus.demo-city/access-log AbCdEf==\n';

async function failure(promise: Promise<unknown>): Promise<TimestampError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error as TimestampError;
}

function thrown(run: () => unknown): TimestampError {
  try {
    run();
  } catch (error) {
    return error as TimestampError;
  }
  throw new Error('expected a throw');
}

describe('RFC 3161 timestamps against a local openssl TSA', () => {
  let pki: TestPki;
  let ca: TestCa;
  let rsaTsa: LocalTsa;
  let ecTsa: LocalTsa;
  let rogueTsa: LocalTsa;
  let settings: TimestampSettings;

  beforeAll(async () => {
    pki = createTestPki();
    ca = await pki.createCa('Demo City Root CA');
    const rogueCa = await pki.createCa('Rogue CA');
    const [rsa, ec, rogue] = await Promise.all([
      pki.createTsa(ca, 'Demo City TSA', 'rsa'),
      pki.createTsa(ca, 'Demo City EC TSA', 'ec'),
      pki.createTsa(rogueCa, 'Rogue TSA', 'rsa'),
    ]);
    [rsaTsa, ecTsa, rogueTsa] = await Promise.all([startLocalTsa(pki, rsa), startLocalTsa(pki, ec, { signerDigest: 'sha384' }), startLocalTsa(pki, rogue)]);
    const caFile = join(pki.dir, 'trusted.pem');
    writeFileSync(caFile, ca.pem);
    settings = readTimestampSettings({ ISTHMUS_TSA_URL: rsaTsa.url, ISTHMUS_TSA_CA_FILE: caFile, ISTHMUS_TSA_TIMEOUT_MS: '5000' })!;
  });
  afterAll(async () => {
    await Promise.all([rsaTsa, ecTsa, rogueTsa].map((tsa) => tsa?.close()));
    pki?.remove();
  });

  it('stamps a checkpoint note, and the stored token verifies again on its own (RSA with SHA-256, ECDSA with SHA-384)', async () => {
    for (const tsa of [rsaTsa, ecTsa]) {
      const before = Date.now();
      const stamp = await requestTimestamp({ ...settings, url: tsa.url }, NOTE);
      expect(stamp.genTime.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(stamp.genTime.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(stamp.tsa).toBe(tsa === rsaTsa ? 'CN=Demo City TSA' : 'CN=Demo City EC TSA');
      expect(stamp.policy).toBe('1.3.6.1.4.1.99999.1');
      expect(stamp.serial).toMatch(/^[0-9a-f]+$/u);
      const parsed = parseTimestampToken(stamp.token);
      expect([parsed.signer.digestAlgorithm, parsed.signer.signatureAlgorithm]).toEqual(
        tsa === rsaTsa ? [OID.sha256, OID.rsaEncryption] : [OID.sha384, '1.2.840.10045.4.3.3'],
      );
      const again = verifyTimestampToken(parsed, { text: NOTE, trusted: settings.trusted });
      expect(again).toEqual(stamp);
    }
  });

  it('refuses a token for other text', async () => {
    const stamp = await requestTimestamp(settings, NOTE);
    const error = thrown(() => verifyTimestampToken(parseTimestampToken(stamp.token), { text: `${NOTE} `, trusted: settings.trusted }));
    expect(error).toBeInstanceOf(TimestampInvalid);
    expect(error).toMatchObject({ code: 'TIMESTAMP_INVALID', reason: 'IMPRINT_MISMATCH' });
  });

  it('refuses a tampered token: an altered TSTInfo, signature or signed attribute', async () => {
    const stamp = await requestTimestamp(settings, NOTE);
    const token = parseTimestampToken(stamp.token);
    const at = (part: Uint8Array): number => part.byteOffset - token.der.byteOffset;
    const tamper = (offset: number): Uint8Array => {
      const copy = Uint8Array.from(token.der);
      copy[offset] ^= 0x01;
      return copy;
    };
    const genTime = parseDer(token.content, 'TSTInfo').children[4]!;
    const cases: [Uint8Array, string][] = [
      // the last digit of genTime's seconds: still a valid time, but not what was signed
      [tamper(at(genTime.bytes) + 2 + 13), 'DIGEST_MISMATCH'],
      [tamper(at(token.signer.signature) + 20), 'SIGNATURE'],
    ];
    for (const [bytes, reason] of cases) {
      const error = thrown(() => verifyTimestampToken(parseTimestampToken(bytes), { text: NOTE, trusted: settings.trusted }));
      expect(error).toMatchObject({ code: 'TIMESTAMP_INVALID', reason });
    }
    expect(thrown(() => parseTimestampToken(stamp.token.subarray(0, stamp.token.length - 1)))).toMatchObject({ code: 'TIMESTAMP_MALFORMED' });
    expect(thrown(() => parseTimestampResponse(Uint8Array.of(0x30, 0x03, 0x02, 0x01)))).toMatchObject({ code: 'TIMESTAMP_MALFORMED' });
  });

  it('refuses a token from a TSA that does not chain to the trusted CA', async () => {
    const error = await failure(requestTimestamp({ ...settings, url: rogueTsa.url }, NOTE));
    expect(error).toMatchObject({ code: 'TIMESTAMP_INVALID', reason: 'UNTRUSTED' });
    expect(error.message).not.toContain(NOTE);
    // trusting the TSA certificate itself instead of a CA is refused when the trust is configured
    expect(thrown(() => readTrustedCertificates(`${ca.pem}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`))).toMatchObject({ code: 'TIMESTAMP_SETTINGS_INVALID' });
  });

  it('follows the chain through an intermediate CA the token carries, and only then', async () => {
    const intermediate = await pki.createSubCa(ca, 'Demo City Issuing CA');
    const identity = await pki.createTsa(intermediate, 'Demo City Issued TSA', 'ec');
    const withChain = await startLocalTsa(pki, identity, { chainFile: intermediate.certFile });
    const withoutChain = await startLocalTsa(pki, { ...identity, name: 'Demo City Issued TSA bare' });
    try {
      const stamp = await requestTimestamp({ ...settings, url: withChain.url }, NOTE);
      expect(stamp.tsa).toBe('CN=Demo City Issued TSA');
      expect(parseTimestampToken(stamp.token).certificates).toHaveLength(2);
      expect(await failure(requestTimestamp({ ...settings, url: withoutChain.url }, NOTE))).toMatchObject({ code: 'TIMESTAMP_INVALID', reason: 'UNTRUSTED' });
      // An intermediate trusted as the anchor is enough on its own.
      const anchored = verifyTimestampToken(parseTimestampToken(stamp.token), { text: NOTE, trusted: readTrustedCertificates(intermediate.pem) });
      expect(anchored.tsa).toBe('CN=Demo City Issued TSA');
    } finally {
      await Promise.all([withChain.close(), withoutChain.close()]);
    }
  });

  it('reports a refusal with its status and failInfo', async () => {
    rsaTsa.mode = 'reject';
    try {
      const error = await failure(requestTimestamp(settings, NOTE));
      expect(error).toBeInstanceOf(TimestampRefused);
      expect(error).toMatchObject({ code: 'TIMESTAMP_REFUSED', status: 2, failInfo: ['badAlg'] });
      expect(error.message).toBe('the timestamp authority refused: rejection (failInfo badAlg, "Message digest algorithm is not supported.")');
    } finally {
      rsaTsa.mode = 'grant';
    }
  });

  it('refuses a replayed answer (the nonce of another request)', async () => {
    rsaTsa.mode = 'replay';
    try {
      const error = await failure(requestTimestamp(settings, NOTE));
      expect(error).toMatchObject({ code: 'TIMESTAMP_INVALID', reason: 'NONCE_MISMATCH' });
    } finally {
      rsaTsa.mode = 'grant';
    }
  });

  it('gives up on a TSA that hangs, within the timeout', async () => {
    rsaTsa.mode = 'hang';
    try {
      const started = Date.now();
      const error = await failure(requestTimestamp({ ...settings, timeoutMs: 300 }, NOTE));
      expect(error).toMatchObject({ code: 'TIMESTAMP_TIMEOUT', timeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      rsaTsa.mode = 'grant';
    }
  });

  it('says the TSA is unavailable for an HTTP error, an oversized answer or a closed port', async () => {
    rsaTsa.mode = 'http-error';
    try {
      expect(await failure(requestTimestamp(settings, NOTE))).toMatchObject({ code: 'TIMESTAMP_UNAVAILABLE', message: 'the timestamp authority answered HTTP 500' });
    } finally {
      rsaTsa.mode = 'grant';
    }
    expect(await failure(requestTimestamp({ ...settings, maxResponseBytes: 100 }, NOTE))).toMatchObject({ code: 'TIMESTAMP_UNAVAILABLE' });
    const closed = await startLocalTsa(pki, { certFile: '', keyFile: '', name: 'closed' });
    await closed.close();
    expect(await failure(requestTimestamp({ ...settings, url: closed.url }, NOTE))).toMatchObject({ code: 'TIMESTAMP_UNAVAILABLE', message: 'the timestamp authority could not be reached' });
  });

  it('reads the settings: none without a URL, every problem at once otherwise', () => {
    expect(readTimestampSettings({})).toBeUndefined();
    const error = thrown(() => readTimestampSettings({ ISTHMUS_TSA_URL: 'ftp://user:secret@tsa.example', ISTHMUS_TSA_TIMEOUT_MS: '0' }));
    expect(error).toMatchObject({ code: 'TIMESTAMP_SETTINGS_INVALID' });
    expect((error as unknown as { problems: string[] }).problems).toHaveLength(4);
    expect(error.message).not.toContain('secret');
    expect(thrown(() => readTimestampSettings({ ISTHMUS_TSA_CA_FILE: '/nowhere.pem' }))).toMatchObject({ code: 'TIMESTAMP_SETTINGS_INVALID' });
    expect(thrown(() => readTimestampSettings({ ISTHMUS_TSA_URL: 'http://127.0.0.1:1/', ISTHMUS_TSA_CA_FILE: join(pki.dir, 'missing.pem') }))).toMatchObject({
      code: 'TIMESTAMP_SETTINGS_INVALID',
      problems: ['ISTHMUS_TSA_CA_FILE cannot be read'],
    });
    expect(settings).toMatchObject({ url: rsaTsa.url, timeoutMs: 5000, maxResponseBytes: 65536 });
    expect(settings.trusted.map((cert) => cert.subject)).toEqual(['CN=Demo City Root CA']);
  });
});
