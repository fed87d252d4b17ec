import { createHash, verify as verifySignature, type X509Certificate } from 'node:crypto';
import { chainToTrusted, checkTimestampKeyUsage, findSignerCertificate, readCertificate, type TimestampCertificate } from './timestamp-certificate.ts';
import { TAG, bytesEqual, expectTag, readOid, type DerNode } from './timestamp-der.ts';
import { TimestampInvalid, type TimestampInvalidReason } from './timestamp-error.ts';
import { HASH_BY_OID, OID, SIGNATURE_BY_OID, type TimestampHash } from './timestamp-oids.ts';
import { algorithmOid, type TimestampToken } from './timestamp-token.ts';

/** What a token must prove. */
export interface TimestampExpectation {
  /** The stamped text (UTF-8): the token's messageImprint must be its digest. */
  readonly text: string;
  /** CA certificates the TSA's certificate must chain to. */
  readonly trusted: readonly X509Certificate[];
  /** The nonce of the request, when checking a fresh answer; stored tokens are checked without. */
  readonly nonce?: bigint;
}

/** A token that verified, and what it proves. */
export interface VerifiedTimestamp {
  /** The token's DER, to store and to verify again later. */
  readonly token: Uint8Array;
  /** The text existed no later than this (the TSA's clock). */
  readonly genTime: Date;
  /** The TSA's serial number of the token, hex. */
  readonly serial: string;
  /** The TSA policy OID. */
  readonly policy: string;
  /** The subject of the TSA's certificate, e.g. `CN=Demo City TSA`: who vouches for the time. */
  readonly tsa: string;
}

/**
 * Verifies a parsed timestamp token (RFC 3161 §2.4.2, RFC 5652 §5.4–5.6):
 * the messageImprint is the digest of `text`; the nonce matches (when
 * given); the signer's certificate is among the token's and is a critical
 * timestamping-only certificate; the signed attributes say id-ct-TSTInfo and
 * carry the digest of the encapsulated TSTInfo and the ESS signing
 * certificate's hash; the signature over the DER SET of signed attributes
 * verifies with the certificate's key (RSA PKCS#1 v1.5 or ECDSA, SHA-256/384/512);
 * and the certificate chains to a trusted CA, valid at genTime. The first
 * check that fails throws {@link TimestampInvalid} with its `reason`.
 *
 * @example
 * const verified = verifyTimestampToken(parseTimestampResponse(der), { text: note, trusted: [ca], nonce: request.nonce });
 */
export function verifyTimestampToken(token: TimestampToken, expected: TimestampExpectation): VerifiedTimestamp {
  const { info, signer } = token;
  const imprintHash = hashOf(info.hashAlgorithm, 'the messageImprint');
  if (!bytesEqual(info.hashedMessage, digest(imprintHash, Buffer.from(expected.text, 'utf8')))) {
    throw new TimestampInvalid('IMPRINT_MISMATCH', 'the token stamps other text (its messageImprint is not the digest of the checkpoint)');
  }
  if (expected.nonce !== undefined && info.nonce !== expected.nonce) {
    throw new TimestampInvalid('NONCE_MISMATCH', 'the token does not echo the request\'s nonce (a replayed or misrouted answer)');
  }
  const certificates = token.certificates.map(readCertificate);
  const cert = findSignerCertificate(signer.sid, certificates);
  checkTimestampKeyUsage(cert);

  const contentType = single(signer.attributes.get(OID.contentType), 'contentType', 'CONTENT_TYPE');
  if (readOid(contentType, 'SignerInfo', 'contentType') !== OID.tstInfo) {
    throw new TimestampInvalid('CONTENT_TYPE', 'the signed contentType attribute is not id-ct-TSTInfo');
  }
  const messageDigest = expectTag(single(signer.attributes.get(OID.messageDigest), 'messageDigest', 'DIGEST_MISMATCH'), TAG.OCTET_STRING, 'SignerInfo', 'messageDigest');
  const digestHash = hashOf(signer.digestAlgorithm, 'the SignerInfo digest');
  if (!bytesEqual(messageDigest.content, digest(digestHash, token.content))) {
    throw new TimestampInvalid('DIGEST_MISMATCH', 'the signed messageDigest is not the digest of the token\'s TSTInfo (the TSTInfo was altered)');
  }
  checkSigningCertificate(signer.attributes, cert);

  const algorithm = SIGNATURE_BY_OID[signer.signatureAlgorithm]
    ?? (signer.signatureAlgorithm === OID.rsaEncryption ? { key: 'rsa' as const, hash: digestHash }
      : signer.signatureAlgorithm === OID.ecPublicKey ? { key: 'ec' as const, hash: digestHash } : undefined);
  if (!algorithm) throw new TimestampInvalid('UNSUPPORTED_ALGORITHM', `the token's signature algorithm ${signer.signatureAlgorithm} is not RSA PKCS#1 v1.5 or ECDSA`);
  const key = cert.x509.publicKey;
  if (key.asymmetricKeyType !== algorithm.key) throw new TimestampInvalid('SIGNATURE', 'the signature algorithm does not match the TSA certificate\'s key');
  let valid: boolean;
  try {
    valid = verifySignature(algorithm.hash, signer.signedAttributes, key, signer.signature);
  } catch (cause) {
    throw new TimestampInvalid('SIGNATURE', 'the token\'s signature could not be checked', { cause });
  }
  if (!valid) throw new TimestampInvalid('SIGNATURE', 'the token\'s signature does not verify with the TSA certificate\'s key');

  chainToTrusted(cert, certificates.filter((other) => other !== cert), expected.trusted, info.genTime);
  return {
    token: token.der,
    genTime: info.genTime,
    serial: info.serial.toString(16),
    policy: info.policy,
    tsa: cert.x509.subject.split('\n').join(', '),
  };
}

/**
 * RFC 3161 §2.4.2 (with RFC 5816): the signed ESS signing-certificate
 * attribute (v2, or v1 with SHA-1) names the signer's certificate by hash,
 * so a certificate swapped in under the same key is not taken for it.
 */
function checkSigningCertificate(attributes: ReadonlyMap<string, readonly DerNode[]>, cert: TimestampCertificate): void {
  const v2 = attributes.get(OID.signingCertificateV2);
  const v1 = attributes.get(OID.signingCertificate);
  const value = v2 ?? v1;
  if (!value) throw new TimestampInvalid('SIGNING_CERTIFICATE', 'the token has no signed ESS signing-certificate attribute');
  const certs = expectTag(single(value, 'signingCertificate', 'SIGNING_CERTIFICATE'), TAG.SEQUENCE, 'SignerInfo', 'signingCertificate').children[0];
  const first = expectTag(expectTag(certs, TAG.SEQUENCE, 'SignerInfo', 'ESS certs').children[0], TAG.SEQUENCE, 'SignerInfo', 'ESSCertID');
  let hash: string = 'sha1';
  let certHash = first.children[0];
  if (v2) {
    hash = 'sha256';
    if (certHash?.tag === TAG.SEQUENCE) {
      hash = hashOf(algorithmOid(certHash, 'SignerInfo', 'ESSCertIDv2 hashAlgorithm'), 'the ESS certificate hash');
      certHash = first.children[1];
    }
  }
  const expected = expectTag(certHash, TAG.OCTET_STRING, 'SignerInfo', 'certHash').content;
  if (!bytesEqual(expected, digest(hash, cert.der))) {
    throw new TimestampInvalid('SIGNING_CERTIFICATE', 'the signed ESS signing-certificate attribute names another certificate');
  }
}

function single(values: readonly DerNode[] | undefined, what: string, reason: TimestampInvalidReason): DerNode {
  if (!values || values.length !== 1) throw new TimestampInvalid(reason, `the token's signed ${what} attribute is missing or has several values`);
  return values[0]!;
}

function hashOf(oid: string, what: string): TimestampHash {
  const hash = HASH_BY_OID[oid];
  if (!hash) throw new TimestampInvalid('UNSUPPORTED_ALGORITHM', `${what} uses digest ${oid}, not SHA-256, SHA-384 or SHA-512`);
  return hash;
}

function digest(hash: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(data).digest());
}
