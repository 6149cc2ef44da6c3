/**
 * A small pure IPP/1.1 message codec (RFC 8010 §3 "Encoding of the Operation Layer"): no I/O,
 * no timers. Why our own and not npm `ipp`: docs/decisions/0005-ipp-codec.md.
 *
 *   message   = version-number(2) operation-id|status-code(2) request-id(4)
 *               *(begin-attribute-group-tag *attribute) end-of-attributes-tag(0x03) data
 *   attribute = value-tag(1) name-length(2) name value-length(2) value     (RFC 8010 §3.1.4)
 *   additional value = same with name-length 0                              (RFC 8010 §3.1.5)
 *
 * Document data after end-of-attributes is passed through as the very same bytes (a subarray of
 * the input; never decoded as text). Collections (RFC 8010 §3.1.6) are parsed into
 * {@link IppCollection} so that they can be skipped safely.
 */
import type { ErrorDetails } from '../../../../contracts/errors.js';

/** Delimiter tags, RFC 8010 §3.5.1. */
export const GroupTag = {
  operation: 0x01,
  job: 0x02,
  endOfAttributes: 0x03,
  printer: 0x04,
  unsupported: 0x05,
} as const;

/** Value tags, RFC 8010 §3.5.2. */
export const ValueTag = {
  unsupported: 0x10,
  unknown: 0x12,
  noValue: 0x13,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  textWithLanguage: 0x35,
  nameWithLanguage: 0x36,
  endCollection: 0x37,
  text: 0x41,
  name: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
} as const;

export interface IppResolution {
  readonly kind: 'resolution';
  readonly x: number;
  readonly y: number;
  /** 3 = dots per inch, 4 = dots per cm (RFC 8011 §5.1.16). */
  readonly units: number;
}
export interface IppRange {
  readonly kind: 'range';
  readonly lower: number;
  readonly upper: number;
}
export interface IppStringWithLanguage {
  readonly kind: 'withLanguage';
  readonly language: string;
  readonly text: string;
}
export interface IppCollection {
  readonly kind: 'collection';
  readonly members: readonly IppAttribute[];
}
/**
 * integer/enum → number, boolean → boolean, character strings → string, octetString and
 * dateTime (11 bytes, RFC 2579) and unknown tags → Uint8Array, out-of-band (0x10–0x1F) → null.
 */
export type IppValue = number | boolean | string | Uint8Array | IppResolution | IppRange | IppStringWithLanguage | IppCollection | null;

export interface IppAttribute {
  readonly name: string;
  readonly tag: number;
  readonly values: readonly IppValue[];
}
export interface IppGroup {
  readonly tag: number;
  readonly attributes: readonly IppAttribute[];
}
export interface IppMessage {
  /** [major, minor]; 1.1 for requests we send (RFC 8010 §3.1.1). */
  readonly version: readonly [number, number];
  /** operation-id in a request, status-code in a response. */
  readonly code: number;
  readonly requestId: number;
  readonly groups: readonly IppGroup[];
  /** Document data following end-of-attributes, byte for byte. */
  readonly data: Uint8Array;
}

export type IppDecodeResult =
  | { readonly ok: true; readonly message: IppMessage }
  | { readonly ok: false; readonly code: 'PKL_FRAME_INVALID'; readonly details: ErrorDetails };

const PROTOCOL = 'IPP';
/** Nested collections deeper than this are refused (a hostile printer cannot blow the stack). */
const MAX_COLLECTION_DEPTH = 16;

class Truncated extends Error {}
class Malformed extends Error {}

// ---- encoding -----------------------------------------------------------------------------

class Writer {
  readonly #chunks: Buffer[] = [];
  u8(n: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    this.#chunks.push(b);
  }
  u16(n: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.#chunks.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.#chunks.push(b);
  }
  bytes(b: Uint8Array): void {
    this.#chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  /** A length-prefixed field (name or value): the length is 2 octets, RFC 8010 §3.1.4. */
  field(b: Uint8Array): void {
    if (b.length > 0xffff) throw new RangeError(`IPP field of ${b.length} bytes exceeds 65535`);
    this.u16(b.length);
    this.bytes(b);
  }
  done(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

function encodeValue(tag: number, v: IppValue): Buffer {
  if (v === null || (tag >= 0x10 && tag <= 0x1f)) return Buffer.alloc(0); // out-of-band: no value, RFC 8010 §3.8
  switch (tag) {
    case ValueTag.integer:
    case ValueTag.enum: {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`IPP tag 0x${tag.toString(16)} needs an integer`);
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return b;
    }
    case ValueTag.boolean:
      if (typeof v !== 'boolean') throw new TypeError('IPP boolean needs a boolean');
      return Buffer.from([v ? 1 : 0]);
    case ValueTag.resolution: {
      if (typeof v !== 'object' || !('kind' in v) || v.kind !== 'resolution') throw new TypeError('IPP resolution needs {x,y,units}');
      const b = Buffer.alloc(9);
      b.writeInt32BE(v.x, 0);
      b.writeInt32BE(v.y, 4);
      b.writeInt8(v.units, 8);
      return b;
    }
    case ValueTag.rangeOfInteger: {
      if (typeof v !== 'object' || !('kind' in v) || v.kind !== 'range') throw new TypeError('IPP rangeOfInteger needs {lower,upper}');
      const b = Buffer.alloc(8);
      b.writeInt32BE(v.lower, 0);
      b.writeInt32BE(v.upper, 4);
      return b;
    }
    case ValueTag.textWithLanguage:
    case ValueTag.nameWithLanguage: {
      if (typeof v !== 'object' || !('kind' in v) || v.kind !== 'withLanguage') throw new TypeError('IPP xWithLanguage needs {language,text}');
      const w = new Writer();
      w.field(Buffer.from(v.language, 'utf8'));
      w.field(Buffer.from(v.text, 'utf8'));
      return w.done();
    }
    default:
      if (typeof v === 'string') return Buffer.from(v, 'utf8');
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      throw new TypeError(`IPP tag 0x${tag.toString(16)}: cannot encode ${typeof v}`);
  }
}

function writeAttribute(w: Writer, a: IppAttribute): void {
  if (a.values.length === 0) throw new RangeError(`IPP attribute ${a.name} has no value`);
  for (const [i, v] of a.values.entries()) {
    const name = i === 0 ? a.name : ''; // additional values have an empty name, RFC 8010 §3.1.5
    if (a.tag === ValueTag.begCollection) {
      writeCollection(w, name, v);
      continue;
    }
    w.u8(a.tag);
    w.field(Buffer.from(name, 'utf8'));
    w.field(encodeValue(a.tag, v));
  }
}

/** RFC 8010 §3.1.6: begCollection, then per member memberAttrName + its values, endCollection. */
function writeCollection(w: Writer, name: string, v: IppValue): void {
  if (typeof v !== 'object' || v === null || !('kind' in v) || v.kind !== 'collection') throw new TypeError('IPP collection needs {members}');
  w.u8(ValueTag.begCollection);
  w.field(Buffer.from(name, 'utf8'));
  w.field(Buffer.alloc(0));
  for (const m of v.members) {
    w.u8(ValueTag.memberAttrName);
    w.field(Buffer.alloc(0));
    w.field(Buffer.from(m.name, 'utf8'));
    writeAttribute(w, { ...m, name: '' });
  }
  w.u8(ValueTag.endCollection);
  w.field(Buffer.alloc(0));
  w.field(Buffer.alloc(0));
}

/** Encodes any IPP message (request or response); `data` is appended unchanged. */
export function encodeMessage(m: IppMessage): Buffer {
  const w = new Writer();
  w.u8(m.version[0]);
  w.u8(m.version[1]);
  w.u16(m.code);
  w.i32(m.requestId);
  for (const g of m.groups) {
    if (g.tag === GroupTag.endOfAttributes || g.tag > 0x0f || g.tag === 0) throw new RangeError(`0x${g.tag.toString(16)} is not a group tag`);
    w.u8(g.tag);
    for (const a of g.attributes) writeAttribute(w, a);
  }
  w.u8(GroupTag.endOfAttributes);
  w.bytes(m.data);
  return w.done();
}

export interface IppRequest {
  readonly operation: number;
  readonly requestId: number;
  readonly groups: readonly IppGroup[];
  readonly data?: Uint8Array;
  readonly version?: readonly [number, number];
}
export function encodeRequest(r: IppRequest): Buffer {
  return encodeMessage({ version: r.version ?? [1, 1], code: r.operation, requestId: r.requestId, groups: r.groups, data: r.data ?? new Uint8Array(0) });
}

export interface IppResponse {
  readonly status: number;
  readonly requestId: number;
  readonly groups: readonly IppGroup[];
  readonly version?: readonly [number, number];
}
export function encodeResponse(r: IppResponse): Buffer {
  return encodeMessage({ version: r.version ?? [1, 1], code: r.status, requestId: r.requestId, groups: r.groups, data: new Uint8Array(0) });
}

// ---- decoding -----------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new Truncated(`truncated ${what} at byte ${this.pos}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  field(what: string): Buffer {
    const len = this.u16(`${what} length`);
    this.need(len, what);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
}

interface RawAttr {
  readonly tag: number;
  readonly name: string;
  readonly value: Buffer;
}

function readRaw(r: Reader, tag: number): RawAttr {
  const name = r.field('attribute name').toString('utf8');
  const value = r.field('attribute value');
  return { tag, name, value };
}

function decodeValue(tag: number, b: Buffer): IppValue {
  const fixed = (n: number) => {
    if (b.length !== n) throw new Malformed(`value tag 0x${tag.toString(16)} needs ${n} bytes, got ${b.length}`);
  };
  if (tag >= 0x10 && tag <= 0x1f) return null;
  switch (tag) {
    case ValueTag.integer:
    case ValueTag.enum:
      fixed(4);
      return b.readInt32BE(0);
    case ValueTag.boolean:
      fixed(1);
      if (b[0]! > 1) throw new Malformed(`boolean value ${b[0]}`);
      return b[0] === 1;
    case ValueTag.dateTime:
      fixed(11); // RFC 2579 DateAndTime, RFC 8010 §3.9
      return Uint8Array.from(b);
    case ValueTag.resolution:
      fixed(9);
      return { kind: 'resolution', x: b.readInt32BE(0), y: b.readInt32BE(4), units: b.readInt8(8) };
    case ValueTag.rangeOfInteger:
      fixed(8);
      return { kind: 'range', lower: b.readInt32BE(0), upper: b.readInt32BE(4) };
    case ValueTag.textWithLanguage:
    case ValueTag.nameWithLanguage: {
      const inner = new Reader(b);
      const language = inner.field('language').toString('utf8');
      const text = inner.field('text').toString('utf8');
      if (inner.pos !== b.length) throw new Malformed('trailing bytes in a withLanguage value');
      return { kind: 'withLanguage', language, text };
    }
    default:
      // 0x40–0x5F are character-string types (RFC 8010 §3.5.2); octetString and the rest stay bytes.
      if (tag >= 0x40 && tag <= 0x5f) return b.toString('utf8');
      return Uint8Array.from(b);
  }
}

/** Reads a collection after its begCollection attribute, up to and including endCollection. */
function readCollection(r: Reader, depth: number): IppCollection {
  if (depth > MAX_COLLECTION_DEPTH) throw new Malformed('collections nested too deeply');
  const members: { name: string; tag: number; values: IppValue[] }[] = [];
  for (;;) {
    const tag = r.u8('value tag in collection');
    if (tag < 0x10) throw new Malformed(`delimiter 0x${tag.toString(16)} inside a collection`);
    const raw = readRaw(r, tag);
    if (raw.name !== '') throw new Malformed(`named attribute "${raw.name}" inside a collection`);
    if (tag === ValueTag.endCollection) return { kind: 'collection', members };
    if (tag === ValueTag.memberAttrName) {
      members.push({ name: raw.value.toString('utf8'), tag: -1, values: [] });
      continue;
    }
    const member = members.at(-1);
    if (member === undefined) throw new Malformed('collection value before memberAttrName');
    const value = tag === ValueTag.begCollection ? readCollection(r, depth + 1) : decodeValue(tag, raw.value);
    if (member.tag === -1) member.tag = tag;
    member.values.push(value);
  }
}

/**
 * Decodes one complete IPP message (request or response). Never throws: a short, garbled or
 * over-long attribute section gives PKL_FRAME_INVALID with the reason and byte offset.
 */
export function decodeMessage(bytes: Uint8Array): IppDecodeResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  try {
    const major = r.u8('version');
    const minor = r.u8('version');
    // Versions 1.0–2.2 exist (RFC 8010 §3.1.1, PWG 5100.12); anything else is not IPP.
    if (major < 1 || major > 2) throw new Malformed(`version ${major}.${minor} is not IPP`);
    const code = r.u16('operation-id/status-code');
    const requestId = r.i32('request-id');
    const groups: { tag: number; attributes: { name: string; tag: number; values: IppValue[] }[] }[] = [];
    for (;;) {
      const tag = r.u8('tag');
      if (tag === GroupTag.endOfAttributes) break;
      if (tag === 0x00) throw new Malformed('reserved tag 0x00');
      if (tag < 0x10) {
        groups.push({ tag, attributes: [] });
        continue;
      }
      const group = groups.at(-1);
      if (group === undefined) throw new Malformed(`attribute tag 0x${tag.toString(16)} before any group tag`);
      const raw = readRaw(r, tag);
      if (tag === ValueTag.endCollection || tag === ValueTag.memberAttrName) throw new Malformed(`tag 0x${tag.toString(16)} outside a collection`);
      const value = tag === ValueTag.begCollection ? readCollection(r, 1) : decodeValue(tag, raw.value);
      if (raw.name === '') {
        const prev = group.attributes.at(-1);
        if (prev === undefined) throw new Malformed('additional value without an attribute');
        prev.values.push(value);
      } else {
        group.attributes.push({ name: raw.name, tag, values: [value] });
      }
    }
    return { ok: true, message: { version: [major, minor], code, requestId, groups, data: buf.subarray(r.pos) } };
  } catch (err) {
    if (err instanceof Truncated || err instanceof Malformed || err instanceof RangeError) {
      return { ok: false, code: 'PKL_FRAME_INVALID', details: { protocol: PROTOCOL, reason: err.message } };
    }
    throw err;
  }
}

export const decodeResponse = decodeMessage;
export const decodeRequest = decodeMessage;

// ---- helpers for callers ------------------------------------------------------------------

/** The first attribute called `name` in the groups with `groupTag` (any group when omitted). */
export function findAttribute(m: IppMessage, name: string, groupTag?: number): IppAttribute | undefined {
  for (const g of m.groups) {
    if (groupTag !== undefined && g.tag !== groupTag) continue;
    const a = g.attributes.find((x) => x.name === name);
    if (a) return a;
  }
  return undefined;
}

export function attr(name: string, tag: number, ...values: IppValue[]): IppAttribute {
  return { name, tag, values };
}
