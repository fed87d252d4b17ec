import { createHash, randomBytes } from 'node:crypto';
import { TAG, derConstructed, derEncode, derInteger, derOid } from './timestamp-der.ts';
import { OID } from './timestamp-oids.ts';

/** A DER TimeStampReq and what its answer must match. */
export interface TimestampRequest {
  /** The DER TimeStampReq, the body of `POST application/timestamp-query`. */
  readonly der: Uint8Array;
  /** SHA-256 of the stamped text: the messageImprint the token must carry. */
  readonly imprint: Uint8Array;
  /** The random nonce the token must echo (64 bits, positive). */
  readonly nonce: bigint;
}

/**
 * Builds an RFC 3161 §2.4.1 TimeStampReq for `text` (UTF-8): version 1,
 * messageImprint SHA-256 of the text, a random 64-bit nonce, certReq true
 * (so the token carries the TSA's certificate and verifies on its own), no
 * policy (the TSA's default) and no extensions.
 *
 * @example
 * const request = createTimestampRequest(checkpointNote);
 * // POST request.der; verify the reply against request.imprint and request.nonce
 */
export function createTimestampRequest(text: string, nonce: bigint = randomNonce()): TimestampRequest {
  const imprint = new Uint8Array(createHash('sha256').update(text, 'utf8').digest());
  const der = derConstructed([
    derInteger(1n),
    derConstructed([
      derConstructed([derOid(OID.sha256), derEncode(TAG.NULL, new Uint8Array(0))]),
      derEncode(TAG.OCTET_STRING, imprint),
    ]),
    derInteger(nonce),
    derEncode(TAG.BOOLEAN, Uint8Array.of(0xff)),
  ]);
  return { der, imprint, nonce };
}

function randomNonce(): bigint {
  // 63 bits: positive and never zero-padded into a ninth octet, which some TSAs mishandle.
  const value = randomBytes(8).readBigUInt64BE() >> 1n;
  return value === 0n ? 1n : value;
}
