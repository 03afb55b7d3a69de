/**
 * A minimal DER reader: enough for certificate serials, validity, SubjectPublicKeyInfo and ECDSA-style
 * signatures. node:crypto exposes none of these for SM2 keys and reformats the serial, so the bytes
 * are read directly.
 */

export const DerTag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

export interface DerNode {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  contentStart: number;
  end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Reads the TLV at `offset`, bounded by `limit`. Indefinite and high-tag forms are not DER here. */
export function readDer(buf: Buffer, offset: number, limit: number = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerError(`truncated DER at ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at ${offset}`);
  let length = buf[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`unsupported length form at ${offset}`);
    if (contentStart + count > limit) throw new DerError(`truncated DER length at ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`DER value overruns its container at ${offset}`);
  return { tag, start: offset, contentStart, end };
}

export function derChildren(buf: Buffer, node: DerNode): DerNode[] {
  const children: DerNode[] = [];
  let at = node.contentStart;
  while (at < node.end) {
    const child = readDer(buf, at, node.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

export function derContent(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) throw new DerError(`${what} has tag 0x${node.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return node;
}

/** Reads a whole buffer that must be exactly one TLV. */
export function readDerDocument(buf: Buffer): DerNode {
  const node = readDer(buf, 0);
  if (node.end !== buf.length) throw new DerError('trailing bytes after the DER value');
  return node;
}

export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new DerError('empty OID');
  if ((content[content.length - 1] as number) & 0x80) throw new DerError('truncated OID');
  const subidentifiers: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      subidentifiers.push(value);
      value = 0;
    }
  }
  const first = subidentifiers[0] as number;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...subidentifiers.slice(1)].join('.');
}

/** UTCTime / GeneralizedTime in UTC ('Z'), as RFC 5280 requires for certificates. */
export function decodeTime(buf: Buffer, node: DerNode): Date {
  const text = derContent(buf, node).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === DerTag.utcTime) {
    m = /^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})?Z$/.exec(text);
    if (!m) throw new DerError(`bad UTCTime ${JSON.stringify(text)}`);
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (node.tag === DerTag.generalizedTime) {
    m = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})?(?:\.[0-9]+)?Z$/.exec(text);
    if (!m) throw new DerError(`bad GeneralizedTime ${JSON.stringify(text)}`);
    year = Number(m[1]);
  } else {
    throw new DerError(`time has tag 0x${node.tag.toString(16)}`);
  }
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0')));
}

export function encodeDerLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeDer(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeDerLength(content.length), content]);
}
