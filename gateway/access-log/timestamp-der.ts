import { TimestampMalformed } from './timestamp-error.ts';

/**
 * A minimal, strict DER reader and writer: exactly what RFC 3161 requests,
 * responses, CMS SignedData and X.509 certificates need here. Definite
 * lengths in minimal form only, single-octet tags (numbers below 31), bounded
 * depth; anything else is {@link TimestampMalformed}. A reader that accepted
 * BER leniencies would let two encodings of one token verify differently.
 */

/** Universal and context tags used by the timestamp modules. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** `[n]` constructed (EXPLICIT, or IMPLICIT of a constructed type). */
  context: (n: number): number => 0xa0 | n,
  /** `[n]` primitive (IMPLICIT of a primitive type). */
  contextPrimitive: (n: number): number => 0x80 | n,
} as const;

const MAX_DEPTH = 24;

/** One TLV. `bytes` is the whole encoding (tag, length, content), as signatures and hashes need it. */
export interface DerNode {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly content: Uint8Array;
  /** The parsed content of a constructed node; empty for a primitive one. */
  readonly children: readonly DerNode[];
}

/** Parses exactly one DER value filling `bytes`; `part` names it in errors (e.g. `response`). */
export function parseDer(bytes: Uint8Array, part: string): DerNode {
  const [node, end] = readNode(bytes, 0, part, 0);
  if (end !== bytes.length) throw new TimestampMalformed(part, 'trailing bytes after the DER value');
  return node;
}

function readNode(bytes: Uint8Array, start: number, part: string, depth: number): [DerNode, number] {
  if (depth > MAX_DEPTH) throw new TimestampMalformed(part, 'nested too deeply');
  if (start + 2 > bytes.length) throw new TimestampMalformed(part, 'truncated');
  const tag = bytes[start]!;
  if ((tag & 0x1f) === 0x1f) throw new TimestampMalformed(part, 'multi-octet tags are not supported');
  let length = bytes[start + 1]!;
  let offset = start + 2;
  if (length === 0x80) throw new TimestampMalformed(part, 'indefinite length is not DER');
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 4 || offset + count > bytes.length) throw new TimestampMalformed(part, 'bad length');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + bytes[offset + i]!;
    if (bytes[offset] === 0 || length < 0x80) throw new TimestampMalformed(part, 'length not in minimal form');
    offset += count;
  }
  const end = offset + length;
  if (end > bytes.length) throw new TimestampMalformed(part, 'truncated');
  const content = bytes.subarray(offset, end);
  const children: DerNode[] = [];
  if (tag & 0x20) {
    let at = 0;
    while (at < content.length) {
      const [child, next] = readNode(content, at, part, depth + 1);
      children.push(child);
      at = next;
    }
  }
  return [{ tag, bytes: bytes.subarray(start, end), content, children }, end];
}

/** The node, checked to carry `tag`; `what` names it in the error. */
export function expectTag(node: DerNode | undefined, tag: number, part: string, what: string): DerNode {
  if (node === undefined) throw new TimestampMalformed(part, `${what} is missing`);
  if (node.tag !== tag) throw new TimestampMalformed(part, `${what} has tag 0x${node.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return node;
}

/** An INTEGER (or an IMPLICIT-tagged one) as a bigint; negative values are allowed by DER and decoded. */
export function readInteger(node: DerNode, part: string, what: string): bigint {
  const { content } = node;
  if (content.length === 0) throw new TimestampMalformed(part, `${what} is an empty integer`);
  if (content.length > 1 && ((content[0] === 0 && !(content[1]! & 0x80)) || (content[0] === 0xff && content[1]! & 0x80))) {
    throw new TimestampMalformed(part, `${what} is not a minimal integer`);
  }
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  if (content[0]! & 0x80) value -= 1n << BigInt(content.length * 8);
  return value;
}

/** An OBJECT IDENTIFIER in dotted form. */
export function readOid(node: DerNode, part: string, what: string): string {
  expectTag(node, TAG.OID, part, what);
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of node.content) {
    if (fresh && byte === 0x80) throw new TimestampMalformed(part, `${what} is not a minimal object identifier`);
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = !(byte & 0x80);
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (!fresh || arcs.length === 0) throw new TimestampMalformed(part, `${what} is a truncated object identifier`);
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** A GeneralizedTime in DER form (`YYYYMMDDHHMMSS[.f…]Z`), to the millisecond. */
export function readGeneralizedTime(node: DerNode, part: string, what: string): Date {
  expectTag(node, TAG.GENERALIZED_TIME, part, what);
  const text = new TextDecoder().decode(node.content);
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/u.exec(text);
  if (!match) throw new TimestampMalformed(part, `${what} is not a DER GeneralizedTime`);
  const [, year, month, day, hour, minute, second, fraction = ''] = match;
  const ms = Number(`0.${fraction || '0'}`) * 1000;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Math.floor(ms)));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(day)) throw new TimestampMalformed(part, `${what} is not a real date`);
  return date;
}

/** A BOOLEAN (DER: 0x00 or 0xff). */
export function readBoolean(node: DerNode, part: string, what: string): boolean {
  expectTag(node, TAG.BOOLEAN, part, what);
  if (node.content.length !== 1 || (node.content[0] !== 0 && node.content[0] !== 0xff)) throw new TimestampMalformed(part, `${what} is not a DER boolean`);
  return node.content[0] === 0xff;
}

/** The numbers of the bits set in a BIT STRING (bit 0 is the first, most significant bit). */
export function readBitNumbers(node: DerNode, part: string, what: string): number[] {
  expectTag(node, TAG.BIT_STRING, part, what);
  const unused = node.content[0];
  if (unused === undefined || unused > 7) throw new TimestampMalformed(part, `${what} is not a bit string`);
  const bits: number[] = [];
  for (let i = 1; i < node.content.length; i += 1) {
    for (let bit = 0; bit < 8; bit += 1) if (node.content[i]! & (0x80 >> bit)) bits.push((i - 1) * 8 + bit);
  }
  return bits;
}

/** Encodes one TLV. */
export function derEncode(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const octets: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
    header = [tag, 0x80 | octets.length, ...octets];
  }
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

/** A constructed value of the given children, concatenated (SEQUENCE by default). */
export function derConstructed(children: readonly Uint8Array[], tag: number = TAG.SEQUENCE): Uint8Array {
  const total = children.reduce((sum, child) => sum + child.length, 0);
  const content = new Uint8Array(total);
  let at = 0;
  for (const child of children) {
    content.set(child, at);
    at += child.length;
  }
  return derEncode(tag, content);
}

/** A non-negative INTEGER in minimal two's-complement form. */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('derInteger takes non-negative values');
  const octets: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) octets.unshift(Number(rest & 0xffn));
  if (octets.length === 0 || octets[0]! & 0x80) octets.unshift(0);
  return derEncode(TAG.INTEGER, Uint8Array.from(octets));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first = 0n, second = 0n, ...rest] = arcs;
  const octets: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) group.unshift(Number(value & 0x7fn) | 0x80);
    octets.push(...group);
  }
  return derEncode(TAG.OID, Uint8Array.from(octets));
}

/** True when both byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
