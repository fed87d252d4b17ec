import { X509Certificate } from 'node:crypto';
import { TAG, bytesEqual, expectTag, parseDer, readBoolean, readInteger, readOid, type DerNode } from './timestamp-der.ts';
import { TimestampInvalid } from './timestamp-error.ts';
import { OID } from './timestamp-oids.ts';
import type { SignerId } from './timestamp-token.ts';

/**
 * The X.509 side of a timestamp: which of the token's certificates signed
 * it, whether that certificate is a TSA's (extendedKeyUsage timeStamping
 * only, critical: RFC 3161 §2.3), and whether it chains to a CA the operator
 * trusts. `node:crypto`'s X509Certificate checks signatures and issuers; the
 * fields it does not expose (the issuer's DER, extension criticality, the
 * subject key identifier) are read from the certificate's DER here.
 */

/** Most certificates between the TSA's and a trusted CA (intermediates included). */
export const MAX_CHAIN_LENGTH = 5;

/** A certificate with the DER fields verification needs. */
export interface TimestampCertificate {
  readonly x509: X509Certificate;
  readonly der: Uint8Array;
  readonly issuer: Uint8Array;
  readonly serial: bigint;
  readonly subjectKeyId: Uint8Array | undefined;
  /** extendedKeyUsage OIDs, if the extension is present. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly extendedKeyUsageCritical: boolean;
}

/** Reads one DER certificate; a certificate `node:crypto` or the reader refuses is {@link TimestampInvalid} (SIGNER_NOT_FOUND). */
export function readCertificate(der: Uint8Array): TimestampCertificate {
  const part = 'certificate';
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (cause) {
    throw new TimestampInvalid('SIGNER_NOT_FOUND', 'the token carries a certificate that does not parse', { cause });
  }
  const [tbs] = expectTag(parseDer(der, part), TAG.SEQUENCE, part, 'Certificate').children;
  const fields = expectTag(tbs, TAG.SEQUENCE, part, 'tbsCertificate').children;
  const body = fields[0]?.tag === TAG.context(0) ? fields.slice(1) : fields;
  const [serial, , issuer] = body;
  const extensions = body.find((field) => field.tag === TAG.context(3));
  let subjectKeyId: Uint8Array | undefined;
  let extendedKeyUsage: string[] | undefined;
  let extendedKeyUsageCritical = false;
  for (const extension of extensions ? expectTag(extensions.children[0], TAG.SEQUENCE, part, 'extensions').children : []) {
    const [id, second, third] = expectTag(extension, TAG.SEQUENCE, part, 'extension').children;
    const oid = readOid(expectTag(id, TAG.OID, part, 'extension id'), part, 'extension id');
    const critical = second?.tag === TAG.BOOLEAN ? readBoolean(second, part, 'critical') : false;
    const value = parseDer(expectTag(second?.tag === TAG.BOOLEAN ? third : second, TAG.OCTET_STRING, part, 'extension value').content, part);
    if (oid === OID.subjectKeyIdentifier) subjectKeyId = expectTag(value, TAG.OCTET_STRING, part, 'subjectKeyIdentifier').content;
    if (oid === OID.extendedKeyUsage) {
      extendedKeyUsage = expectTag(value, TAG.SEQUENCE, part, 'extendedKeyUsage').children.map((usage: DerNode) => readOid(usage, part, 'key purpose'));
      extendedKeyUsageCritical = critical;
    }
  }
  return {
    x509,
    der,
    issuer: expectTag(issuer, TAG.SEQUENCE, part, 'issuer').bytes,
    serial: readInteger(expectTag(serial, TAG.INTEGER, part, 'serialNumber'), part, 'serialNumber'),
    subjectKeyId,
    extendedKeyUsage,
    extendedKeyUsageCritical,
  };
}

/** The certificate among `certificates` that the SignerInfo's sid names. */
export function findSignerCertificate(sid: SignerId, certificates: readonly TimestampCertificate[]): TimestampCertificate {
  const found = certificates.find((cert) =>
    sid.kind === 'issuerAndSerial'
      ? cert.serial === sid.serial && bytesEqual(cert.issuer, sid.issuer)
      : cert.subjectKeyId !== undefined && bytesEqual(cert.subjectKeyId, sid.keyId),
  );
  if (!found) throw new TimestampInvalid('SIGNER_NOT_FOUND', 'the token does not carry the certificate its signer names (was it requested with certReq?)');
  return found;
}

/** RFC 3161 §2.3: the TSA's certificate has exactly one extendedKeyUsage, timeStamping, marked critical. */
export function checkTimestampKeyUsage(cert: TimestampCertificate): void {
  const usage = cert.extendedKeyUsage;
  if (!usage || usage.length !== 1 || usage[0] !== OID.timeStamping || !cert.extendedKeyUsageCritical) {
    throw new TimestampInvalid('KEY_USAGE', 'the signing certificate is not a timestamping certificate (extendedKeyUsage timeStamping only, critical)');
  }
}

/**
 * Checks that `signer` chains, through the token's other certificates if
 * need be, to one of `trusted`, every link valid at `at` (the token's
 * genTime). Returns the trusted CA reached.
 */
export function chainToTrusted(
  signer: TimestampCertificate,
  intermediates: readonly TimestampCertificate[],
  trusted: readonly X509Certificate[],
  at: Date,
): X509Certificate {
  let current = signer.x509;
  for (let depth = 0; depth <= MAX_CHAIN_LENGTH; depth += 1) {
    checkValidAt(current, at);
    const anchor = trusted.find((ca) => ca.ca && issuedBy(current, ca));
    if (anchor) {
      checkValidAt(anchor, at);
      return anchor;
    }
    const next = intermediates.find((cert) => cert.x509 !== current && cert.x509.ca && issuedBy(current, cert.x509));
    if (!next) break;
    current = next.x509;
  }
  throw new TimestampInvalid('UNTRUSTED', 'the TSA certificate does not chain to a trusted CA certificate');
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function checkValidAt(cert: X509Certificate, at: Date): void {
  if (at < cert.validFromDate || at > cert.validToDate) {
    throw new TimestampInvalid('NOT_VALID_AT_GEN_TIME', `a certificate of the TSA's chain was not valid at the token's time ${at.toISOString()}`);
  }
}
