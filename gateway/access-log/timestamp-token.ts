import { TAG, expectTag, parseDer, readBitNumbers, readBoolean, readGeneralizedTime, readInteger, readOid, type DerNode } from './timestamp-der.ts';
import { PKI_FAILURE_NAMES, TimestampMalformed, TimestampRefused } from './timestamp-error.ts';
import { OID } from './timestamp-oids.ts';

/**
 * Reading RFC 3161 answers: a TimeStampResp (§2.4.2) into its status and
 * token, and a TimeStampToken (a CMS SignedData, RFC 5652) into the parts
 * that verification checks (`verifyTimestampToken` in timestamp-verify.ts).
 * Parsing proves nothing by itself: a parsed token is only well formed.
 */

/** The TSTInfo a token signs (RFC 3161 §2.4.2). */
export interface TstInfo {
  /** The TSA policy under which the token was issued (dotted OID). */
  readonly policy: string;
  /** Digest of the messageImprint (dotted OID). */
  readonly hashAlgorithm: string;
  readonly hashedMessage: Uint8Array;
  /** The TSA's serial number of this token. */
  readonly serial: bigint;
  /** When the TSA says it stamped: the time the text is proven to have existed by. */
  readonly genTime: Date;
  /** The request's nonce, echoed; absent if the request had none. */
  readonly nonce: bigint | undefined;
}

/** How a SignerInfo names its certificate (RFC 5652 §5.3). */
export type SignerId =
  | { readonly kind: 'issuerAndSerial'; readonly issuer: Uint8Array; readonly serial: bigint }
  | { readonly kind: 'subjectKeyId'; readonly keyId: Uint8Array };

/** The one SignerInfo of a timestamp token. */
export interface TimestampSignerInfo {
  readonly sid: SignerId;
  readonly digestAlgorithm: string;
  /** The signed attributes re-tagged as the DER SET OF Attribute: the bytes the signature covers. */
  readonly signedAttributes: Uint8Array;
  /** Each signed attribute's values, by attribute type OID. */
  readonly attributes: ReadonlyMap<string, readonly DerNode[]>;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

/** A parsed (not yet verified) timestamp token. */
export interface TimestampToken {
  /** The token's DER (the ContentInfo): what is stored and what verifies later. */
  readonly der: Uint8Array;
  readonly info: TstInfo;
  /** The encapsulated TSTInfo's DER: what the messageDigest attribute hashes. */
  readonly content: Uint8Array;
  /** DER certificates the token carries (the TSA's, and any intermediates). */
  readonly certificates: readonly Uint8Array[];
  readonly signer: TimestampSignerInfo;
}

/**
 * Reads a DER TimeStampResp. Granted (0) and grantedWithMods (1) give the
 * token; any other status is {@link TimestampRefused} with the status, the
 * TSA's text and the failInfo bits; bad bytes are {@link TimestampMalformed}.
 */
export function parseTimestampResponse(der: Uint8Array): TimestampToken {
  const response = expectTag(parseDer(der, 'response'), TAG.SEQUENCE, 'response', 'TimeStampResp');
  const [statusInfo, token] = response.children;
  const fields = expectTag(statusInfo, TAG.SEQUENCE, 'response', 'PKIStatusInfo').children;
  const status = Number(readInteger(expectTag(fields[0], TAG.INTEGER, 'response', 'status'), 'response', 'status'));
  let statusText: string | undefined;
  let failInfo: string[] = [];
  for (const field of fields.slice(1)) {
    if (field.tag === TAG.SEQUENCE) statusText = freeText(field);
    else if (field.tag === TAG.BIT_STRING) failInfo = readBitNumbers(field, 'response', 'failInfo').map((bit) => PKI_FAILURE_NAMES[bit] ?? `bit ${bit}`);
    else throw new TimestampMalformed('response', 'PKIStatusInfo has an unexpected field');
  }
  if (status !== 0 && status !== 1) throw new TimestampRefused(status, statusText, failInfo);
  if (token === undefined) throw new TimestampMalformed('response', 'granted without a timeStampToken');
  if (response.children.length > 2) throw new TimestampMalformed('response', 'trailing fields after the token');
  return readToken(token);
}

/** Reads a stored DER TimeStampToken (a CMS ContentInfo of SignedData over a TSTInfo). */
export function parseTimestampToken(der: Uint8Array): TimestampToken {
  return readToken(parseDer(der, 'token'));
}

function readToken(node: DerNode): TimestampToken {
  const part = 'token';
  const [contentType, explicit] = expectTag(node, TAG.SEQUENCE, part, 'ContentInfo').children;
  if (readOid(expectTag(contentType, TAG.OID, part, 'contentType'), part, 'contentType') !== OID.signedData) {
    throw new TimestampMalformed(part, 'the ContentInfo is not SignedData');
  }
  const signedData = expectTag(expectTag(explicit, TAG.context(0), part, 'content').children[0], TAG.SEQUENCE, part, 'SignedData');
  const [version, digestAlgorithms, encapsulated, ...rest] = signedData.children;
  // RFC 5652 §5.1: version 3, as the content is not id-data.
  if (readInteger(expectTag(version, TAG.INTEGER, part, 'SignedData version'), part, 'SignedData version') !== 3n) {
    throw new TimestampMalformed(part, 'SignedData version is not 3');
  }
  const digests = expectTag(digestAlgorithms, TAG.SET, part, 'digestAlgorithms').children.map((algorithm) => algorithmOid(algorithm, part, 'digestAlgorithm'));
  const [eContentType, eContentWrapper] = expectTag(encapsulated, TAG.SEQUENCE, part, 'encapContentInfo').children;
  if (readOid(expectTag(eContentType, TAG.OID, part, 'eContentType'), part, 'eContentType') !== OID.tstInfo) {
    throw new TimestampMalformed(part, 'the encapsulated content is not a TSTInfo');
  }
  const eContent = expectTag(expectTag(eContentWrapper, TAG.context(0), part, 'eContent').children[0], TAG.OCTET_STRING, part, 'eContent');
  const certificates: Uint8Array[] = [];
  let signerInfos: DerNode | undefined;
  for (const field of rest) {
    if (field.tag === TAG.context(0)) certificates.push(...field.children.filter((cert) => cert.tag === TAG.SEQUENCE).map((cert) => cert.bytes));
    else if (field.tag === TAG.context(1)) continue; // CRLs: not used, revocation is the CA's business at verify time
    else if (field.tag === TAG.SET && signerInfos === undefined) signerInfos = field;
    else throw new TimestampMalformed(part, 'SignedData has an unexpected field');
  }
  if (signerInfos === undefined) throw new TimestampMalformed(part, 'SignedData has no signerInfos');
  // RFC 3161 §2.4.2: exactly one signer, the TSA.
  if (signerInfos.children.length !== 1) throw new TimestampMalformed(part, `SignedData has ${signerInfos.children.length} signers, not one`);
  const signer = readSignerInfo(signerInfos.children[0]!);
  if (!digests.includes(signer.digestAlgorithm)) throw new TimestampMalformed(part, 'digestAlgorithms does not list the signer\'s digest');
  return { der: node.bytes, info: readTstInfo(eContent.content), content: eContent.content, certificates, signer };
}

function readTstInfo(der: Uint8Array): TstInfo {
  const part = 'TSTInfo';
  const fields = expectTag(parseDer(der, part), TAG.SEQUENCE, part, 'TSTInfo').children;
  const [version, policy, imprint, serial, genTime, ...optional] = fields;
  if (readInteger(expectTag(version, TAG.INTEGER, part, 'version'), part, 'version') !== 1n) throw new TimestampMalformed(part, 'version is not 1');
  const [algorithm, hashed] = expectTag(imprint, TAG.SEQUENCE, part, 'messageImprint').children;
  let nonce: bigint | undefined;
  for (const field of optional) {
    if (field.tag === TAG.INTEGER) nonce = readInteger(field, part, 'nonce');
    else if (field.tag === TAG.BOOLEAN) readBoolean(field, part, 'ordering');
    // accuracy (SEQUENCE), tsa [0], extensions [1]: not needed to verify
    else if (field.tag !== TAG.SEQUENCE && field.tag !== TAG.context(0) && field.tag !== TAG.context(1)) {
      throw new TimestampMalformed(part, 'unexpected field');
    }
  }
  return {
    policy: readOid(expectTag(policy, TAG.OID, part, 'policy'), part, 'policy'),
    hashAlgorithm: algorithmOid(algorithm, part, 'messageImprint algorithm'),
    hashedMessage: expectTag(hashed, TAG.OCTET_STRING, part, 'hashedMessage').content,
    serial: readInteger(expectTag(serial, TAG.INTEGER, part, 'serialNumber'), part, 'serialNumber'),
    genTime: readGeneralizedTime(expectTag(genTime, TAG.GENERALIZED_TIME, part, 'genTime'), part, 'genTime'),
    nonce,
  };
}

function readSignerInfo(node: DerNode): TimestampSignerInfo {
  const part = 'SignerInfo';
  const [version, sidNode, digestAlgorithm, ...rest] = expectTag(node, TAG.SEQUENCE, part, 'SignerInfo').children;
  const signerVersion = readInteger(expectTag(version, TAG.INTEGER, part, 'version'), part, 'version');
  let sid: SignerId;
  if (sidNode?.tag === TAG.SEQUENCE) {
    const [issuer, serial] = sidNode.children;
    sid = {
      kind: 'issuerAndSerial',
      issuer: expectTag(issuer, TAG.SEQUENCE, part, 'sid issuer').bytes,
      serial: readInteger(expectTag(serial, TAG.INTEGER, part, 'sid serial'), part, 'sid serial'),
    };
  } else sid = { kind: 'subjectKeyId', keyId: expectTag(sidNode, TAG.contextPrimitive(0), part, 'sid').content };
  // RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
  if (signerVersion !== (sid.kind === 'issuerAndSerial' ? 1n : 3n)) throw new TimestampMalformed(part, 'SignerInfo version does not fit its sid');
  const [signedAttrs, signatureAlgorithm, signature] = rest;
  const attributesNode = expectTag(signedAttrs, TAG.context(0), part, 'signedAttrs (a timestamp token must sign attributes)');
  const attributes = new Map<string, readonly DerNode[]>();
  for (const attribute of attributesNode.children) {
    const [type, values] = expectTag(attribute, TAG.SEQUENCE, part, 'attribute').children;
    const oid = readOid(expectTag(type, TAG.OID, part, 'attribute type'), part, 'attribute type');
    if (attributes.has(oid)) throw new TimestampMalformed(part, `attribute ${oid} appears twice`);
    attributes.set(oid, expectTag(values, TAG.SET, part, 'attribute values').children);
  }
  // RFC 5652 §5.4: the signature covers the DER SET OF Attribute, not the [0] IMPLICIT tag.
  const signedAttributes = Uint8Array.from(attributesNode.bytes);
  signedAttributes[0] = TAG.SET;
  return {
    sid,
    digestAlgorithm: algorithmOid(digestAlgorithm, part, 'digestAlgorithm'),
    signedAttributes,
    attributes,
    signatureAlgorithm: algorithmOid(signatureAlgorithm, part, 'signatureAlgorithm'),
    signature: expectTag(signature, TAG.OCTET_STRING, part, 'signature').content,
  };
}

/** The OID of an AlgorithmIdentifier SEQUENCE whose parameters are absent or NULL (as for every digest and signature accepted here). */
export function algorithmOid(node: DerNode | undefined, part: string, what: string): string {
  const [oid, parameters, ...extra] = expectTag(node, TAG.SEQUENCE, part, what).children;
  if (extra.length > 0 || (parameters !== undefined && (parameters.tag !== TAG.NULL || parameters.content.length !== 0))) {
    throw new TimestampMalformed(part, `${what} has parameters other than NULL`);
  }
  return readOid(expectTag(oid, TAG.OID, part, what), part, what);
}

function freeText(node: DerNode): string {
  const text = node.children
    .filter((child) => child.tag === TAG.UTF8_STRING)
    .map((child) => new TextDecoder('utf-8', { fatal: false }).decode(child.content))
    .join(' ');
  // The TSA's words are shown to operators: printable characters only, bounded.
  return text.replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, '').slice(0, 200);
}
