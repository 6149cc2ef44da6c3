/**
 * TCP text telegrams between a DWS (dimension-weight-scan) line and the gateway, built from a
 * template that is DATA (docs/devices/conveyors.md: "the gateway should accept a configurable
 * field template"; Datalogic DM3610 host-message configuration: header, sequence number,
 * barcode(s), weight, L/W/H with configurable width/precision/unit/delimiter, trailer).
 *
 *   line → gateway   parcel telegram   e.g. STX 000123;4006381333931;1.234;300;200;150 ETX
 *   gateway → line   reply telegram    e.g. STX 000123;C07 ETX     (destination / chute)
 *
 * Framing is STX (0x02) … ETX (0x03) or CR LF / LF lines. Fields are either separated (`;`, `,`,
 * `|`, TAB …) or fixed-width (no separator; every field has a `width`). Pure: no I/O, no timers.
 */
import { PacklineError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import { BARCODE_PATTERN } from '../../../contracts/payloads.js';
import { asciiBytes, concatBytes, describeBytes, latin1 } from '../framing/bytes.js';
import { LineFramer } from '../framing/line-framer.js';

export const DWS_TELEGRAM = 'dws-telegram';

// ASCII control characters (ANSI X3.4): start and end of text.
const STX = 0x02;
const ETX = 0x03;

export type TelegramFraming = 'stx-etx' | 'crlf' | 'lf';

export type TelegramField =
  /** Fixed text (header, trailer, record type); must match exactly. */
  | { readonly field: 'literal'; readonly text: string }
  /** Parcel sequence number of the line (unsigned decimal). */
  | { readonly field: 'seq'; readonly width?: number }
  | { readonly field: 'barcode'; readonly width?: number }
  /** Weight in g or kg; `decimals` written on encode (default 0 for g, 3 for kg). */
  | { readonly field: 'weight'; readonly unit: 'g' | 'kg'; readonly decimals?: number; readonly width?: number }
  /** A dimension in mm or cm (converted to whole mm). */
  | { readonly field: 'length' | 'width' | 'height'; readonly unit?: 'mm' | 'cm'; readonly decimals?: number; readonly width?: number }
  /** Destination chute (reply telegrams). */
  | { readonly field: 'chute'; readonly width?: number }
  /** A field the gateway does not use (volume, legal-for-trade status, image name …). */
  | { readonly field: 'ignore'; readonly width?: number };

export type FieldName = TelegramField['field'];

export interface TelegramTemplate {
  readonly framing: TelegramFraming;
  /** Field separator; absent means fixed-width fields (each field then needs a `width`). */
  readonly separator?: string;
  /** Line → gateway parcel telegram; needs `seq` and `barcode`. */
  readonly parcel: readonly TelegramField[];
  /** Gateway → line destination reply; needs `seq` and `chute`. */
  readonly reply: readonly TelegramField[];
  /** Barcode texts meaning "no read" (`NOREAD`, `?????`); an empty barcode field is always one. */
  readonly noRead?: readonly string[];
  /** Texts in a weight/dimension field meaning "not measured" (`NODIM`, `-----`); empty always is. */
  readonly noValue?: readonly string[];
  /** Body text of a keep-alive telegram to ignore (e.g. `HB`). */
  readonly keepalive?: string;
  /** Longest telegram in bytes, framing included; default 512. */
  readonly maxLength?: number;
}

export interface ParcelTelegram {
  readonly seq: number;
  readonly barcode: string | null;
  readonly grams?: number;
  readonly lengthMm?: number;
  readonly widthMm?: number;
  readonly heightMm?: number;
}

export interface ReplyTelegram {
  readonly seq: number;
  readonly chute: string;
  /** Echoed when the reply template has a barcode field. */
  readonly barcode?: string | null;
}

export type TelegramResult<T> =
  | { readonly ok: true; readonly value: T; readonly raw: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly detail: ErrorDetails; readonly raw: string };

/** Sequence numbers are 32-bit unsigned (payloads.ts ParcelEvent.seq). */
const SEQ_MAX = 4_294_967_295;
const MAX_GRAMS = 500_000;
const MAX_MM = 10_000;
const NUMBER_RE = /^[+-]?\d+(\.\d+)?$/;
const BARCODE_RE = new RegExp(BARCODE_PATTERN);
/** Bytes that may never appear inside a field: framing and line ends. */
const FORBIDDEN_IN_FIELD = /[\x02\x03\r\n]/;

type Values = Partial<Record<FieldName, string | number | null>>;

function configError(reason: string): PacklineError {
  return new PacklineError('PKL_CONFIG_INVALID', { reason: `${DWS_TELEGRAM}: ${reason}` });
}

function checkFields(t: TelegramTemplate, which: 'parcel' | 'reply', required: readonly FieldName[]): void {
  const fields = t[which];
  if (!Array.isArray(fields) || fields.length === 0) throw configError(`"${which}" has no fields`);
  // A template from a file can hold anything: each field must at least be an object.
  if (!fields.every((f: unknown) => typeof f === 'object' && f !== null && !Array.isArray(f))) {
    throw configError(`"${which}" fields must be objects like {"field": "seq"}`);
  }
  for (const name of required) {
    if (fields.filter((f) => f.field === name).length !== 1) throw configError(`"${which}" needs exactly one "${name}" field`);
  }
  for (const f of fields) {
    if (f.field !== 'ignore' && f.field !== 'literal' && fields.filter((g) => g.field === f.field).length > 1) {
      throw configError(`"${which}" has field "${f.field}" twice`);
    }
    if (f.field === 'literal') {
      if (typeof f.text !== 'string' || f.text === '' || FORBIDDEN_IN_FIELD.test(f.text))
        throw configError(`"${which}" literal text is empty or holds framing bytes`);
      if (t.separator !== undefined && f.text.includes(t.separator)) throw configError(`"${which}" literal "${f.text}" holds the separator`);
    } else {
      const width = f.width;
      if (width !== undefined && !(Number.isInteger(width) && width >= 1 && width <= 128)) throw configError(`"${which}.${f.field}" width must be 1..128`);
      if (t.separator === undefined && width === undefined) throw configError(`fixed-width "${which}.${f.field}" needs a width`);
    }
    if (f.field === 'weight' && f.unit !== 'g' && f.unit !== 'kg') throw configError(`"${which}.weight" unit must be g or kg`);
    if ((f.field === 'length' || f.field === 'width' || f.field === 'height') && f.unit !== undefined && f.unit !== 'mm' && f.unit !== 'cm') {
      throw configError(`"${which}.${f.field}" unit must be mm or cm`);
    }
    if ((f.field === 'weight' || f.field === 'length' || f.field === 'width' || f.field === 'height') && f.decimals !== undefined) {
      if (!(Number.isInteger(f.decimals) && f.decimals >= 0 && f.decimals <= 6)) throw configError(`"${which}.${f.field}" decimals must be 0..6`);
    }
  }
}

/**
 * One compiled template: parse and encode in both directions. The driver uses the parcel
 * parser and the reply encoder; the line simulator the other two — the same code either way.
 */
export class TelegramCodec {
  readonly template: TelegramTemplate;
  readonly #noRead: ReadonlySet<string>;
  readonly #noValue: ReadonlySet<string>;
  readonly maxLength: number;

  /** Throws PKL_CONFIG_INVALID for a template that cannot work. */
  constructor(template: TelegramTemplate) {
    if (!['stx-etx', 'crlf', 'lf'].includes(template.framing)) throw configError('"framing" must be stx-etx, crlf or lf');
    const sep = template.separator;
    if (sep !== undefined && (typeof sep !== 'string' || sep === '' || FORBIDDEN_IN_FIELD.test(sep))) {
      throw configError('"separator" is empty or holds framing bytes');
    }
    checkFields(template, 'parcel', ['seq', 'barcode']);
    checkFields(template, 'reply', ['seq', 'chute']);
    const maxLength = template.maxLength ?? 512;
    if (!Number.isInteger(maxLength) || maxLength < 8 || maxLength > 65_536) throw configError('"maxLength" must be 8..65536');
    for (const list of ['noRead', 'noValue'] as const) {
      if (template[list] !== undefined && !Array.isArray(template[list])) throw configError(`"${list}" must be a list of texts`);
    }
    for (const m of template.noRead ?? []) if (typeof m !== 'string' || m === '') throw configError('"noRead" holds an empty marker');
    this.template = template;
    this.#noRead = new Set(template.noRead ?? []);
    this.#noValue = new Set(template.noValue ?? []);
    this.maxLength = maxLength;
  }

  // ---- parcel telegram (line → gateway) --------------------------------------------------

  parseParcel(body: Uint8Array | string): TelegramResult<ParcelTelegram> {
    const r = this.#parse(this.template.parcel, body);
    if (!r.ok) return r;
    const v = r.value;
    const p: { -readonly [K in keyof ParcelTelegram]: ParcelTelegram[K] } = { seq: v.seq as number, barcode: v.barcode as string | null };
    if (typeof v.weight === 'number') p.grams = v.weight;
    if (typeof v.length === 'number') p.lengthMm = v.length;
    if (typeof v.width === 'number') p.widthMm = v.width;
    if (typeof v.height === 'number') p.heightMm = v.height;
    return { ok: true, value: p, raw: r.raw };
  }

  /** Whole framed telegram. Throws PKL_PAYLOAD_INVALID when a value does not fit the template. */
  encodeParcel(p: ParcelTelegram): Uint8Array {
    return this.#encode(this.template.parcel, {
      seq: p.seq,
      barcode: p.barcode,
      weight: p.grams ?? null,
      length: p.lengthMm ?? null,
      width: p.widthMm ?? null,
      height: p.heightMm ?? null,
    });
  }

  // ---- reply telegram (gateway → line) ---------------------------------------------------

  parseReply(body: Uint8Array | string): TelegramResult<ReplyTelegram> {
    const r = this.#parse(this.template.reply, body);
    if (!r.ok) return r;
    const v = r.value;
    const reply: ReplyTelegram = this.template.reply.some((f) => f.field === 'barcode')
      ? { seq: v.seq as number, chute: v.chute as string, barcode: v.barcode as string | null }
      : { seq: v.seq as number, chute: v.chute as string };
    return { ok: true, value: reply, raw: r.raw };
  }

  /** Whole framed telegram. Throws PKL_PAYLOAD_INVALID when a value does not fit the template. */
  encodeReply(r: ReplyTelegram): Uint8Array {
    return this.#encode(this.template.reply, { seq: r.seq, chute: r.chute, barcode: r.barcode ?? null });
  }

  /** Checks a reply can be encoded (chute fits its field) without building it. */
  replyProblem(r: ReplyTelegram): string | null {
    try {
      this.encodeReply(r);
      return null;
    } catch (err) {
      return err instanceof PacklineError ? String(err.details?.['reason'] ?? err.message) : String(err);
    }
  }

  /** Incremental framer + parser for one direction; never throws, bounded buffer. */
  createDecoder<D extends 'parcel' | 'reply'>(direction: D): TelegramDecoder<D extends 'parcel' ? ParcelTelegram : ReplyTelegram> {
    const parse = (direction === 'parcel' ? (b: Uint8Array) => this.parseParcel(b) : (b: Uint8Array) => this.parseReply(b)) as (
      b: Uint8Array,
    ) => TelegramResult<D extends 'parcel' ? ParcelTelegram : ReplyTelegram>;
    return new TelegramDecoder(this.template, this.maxLength, parse);
  }

  // ---- internals -------------------------------------------------------------------------

  #split(fields: readonly TelegramField[], text: string): string[] | string {
    const sep = this.template.separator;
    if (sep !== undefined) {
      const parts = text.split(sep);
      return parts.length === fields.length ? parts : `${parts.length} fields, template has ${fields.length}`;
    }
    const widths = fields.map((f) => (f.field === 'literal' ? f.text.length : (f.width ?? 0)));
    const total = widths.reduce((a, b) => a + b, 0);
    if (text.length !== total) return `${text.length} characters, fixed-width template has ${total}`;
    let at = 0;
    return widths.map((w) => text.slice(at, (at += w)));
  }

  #parse(fields: readonly TelegramField[], body: Uint8Array | string): TelegramResult<Values> {
    const text = typeof body === 'string' ? body : latin1(body);
    const raw = typeof body === 'string' ? describeBytes(asciiSafe(body)) : describeBytes(body);
    const fail = (reason: string): TelegramResult<Values> => ({ ok: false, code: 'PKL_FRAME_INVALID', detail: { protocol: DWS_TELEGRAM, reason }, raw });
    const parts = this.#split(fields, text);
    if (typeof parts === 'string') return fail(parts);
    const values: Values = {};
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const cell = parts[i] ?? '';
      const trimmed = cell.trim();
      switch (f.field) {
        case 'literal':
          if (cell !== f.text) return fail(`expected "${f.text}" at field ${i + 1}, got "${describeBytes(asciiSafe(cell))}"`);
          break;
        case 'ignore':
          break;
        case 'seq': {
          if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) > SEQ_MAX)
            return fail(`seq "${describeBytes(asciiSafe(trimmed))}" is not an integer 0..${SEQ_MAX}`);
          values.seq = Number(trimmed);
          break;
        }
        case 'barcode':
          if (trimmed === '' || this.#noRead.has(trimmed)) values.barcode = null;
          else if (!BARCODE_RE.test(trimmed)) return fail('barcode has characters outside printable ASCII/GS or is over 128 long');
          else values.barcode = trimmed;
          break;
        case 'chute':
          if (trimmed === '' || !/^[\x20-\x7e]+$/.test(trimmed)) return fail('chute is empty or not printable ASCII');
          values.chute = trimmed;
          break;
        case 'weight':
        case 'length':
        case 'width':
        case 'height': {
          if (trimmed === '' || this.#noValue.has(trimmed)) {
            values[f.field] = null;
            break;
          }
          if (!NUMBER_RE.test(trimmed)) return fail(`${f.field} "${describeBytes(asciiSafe(trimmed))}" is not a number`);
          const n = Number(trimmed);
          if (f.field === 'weight') {
            const grams = Math.round(n * (f.unit === 'kg' ? 1000 : 1) * 1000) / 1000;
            if (Math.abs(grams) > MAX_GRAMS) return fail(`weight ${trimmed} ${f.unit} is out of range`);
            values.weight = grams;
          } else {
            const mm = Math.round(n * (f.unit === 'cm' ? 10 : 1));
            if (mm < 0 || mm > MAX_MM) return fail(`${f.field} ${trimmed} ${f.unit ?? 'mm'} is out of range 0..${MAX_MM} mm`);
            values[f.field] = mm;
          }
          break;
        }
      }
    }
    return { ok: true, value: values, raw };
  }

  #encode(fields: readonly TelegramField[], values: Values): Uint8Array {
    const bad = (reason: string) => new PacklineError('PKL_PAYLOAD_INVALID', { reason: `${DWS_TELEGRAM}: ${reason}` });
    const sep = this.template.separator;
    const cells = fields.map((f) => {
      if (f.field === 'literal') return f.text;
      if (f.field === 'ignore') return ''.padEnd(f.width ?? 0, ' ');
      const v = values[f.field];
      let cell: string;
      let numeric = false;
      switch (f.field) {
        case 'seq':
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > SEQ_MAX) throw bad(`seq ${String(v)} is not an integer 0..${SEQ_MAX}`);
          cell = String(v);
          numeric = true;
          break;
        case 'barcode':
          cell = v === null || v === undefined ? ([...this.#noRead][0] ?? '') : String(v);
          break;
        case 'chute':
          cell = String(v ?? '');
          if (cell === '' || !/^[\x20-\x7e]+$/.test(cell)) throw bad('chute is empty or not printable ASCII');
          break;
        default: {
          if (v === null || v === undefined) {
            cell = [...this.#noValue][0] ?? '';
            break;
          }
          if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${f.field} is not a number`);
          const divisor = f.field === 'weight' ? (f.unit === 'kg' ? 1000 : 1) : f.unit === 'cm' ? 10 : 1;
          const decimals = f.decimals ?? (f.field === 'weight' && f.unit === 'kg' ? 3 : 0);
          cell = (v / divisor).toFixed(decimals);
          numeric = true;
        }
      }
      if (FORBIDDEN_IN_FIELD.test(cell) || (sep !== undefined && cell.includes(sep))) throw bad(`${f.field} "${cell}" holds framing bytes or the separator`);
      if (f.width !== undefined) {
        if (cell.length > f.width) throw bad(`${f.field} "${cell}" is wider than ${f.width}`);
        cell = numeric ? padNumber(cell, f.width) : cell.padEnd(f.width, ' ');
      }
      return cell;
    });
    const body = cells.join(sep ?? '');
    const framed = this.template.framing === 'stx-etx' ? `\x02${body}\x03` : this.template.framing === 'crlf' ? `${body}\r\n` : `${body}\n`;
    if (framed.length > this.maxLength) throw bad(`telegram of ${framed.length} bytes exceeds maxLength ${this.maxLength}`);
    return asciiBytes(framed);
  }
}

function padNumber(cell: string, width: number): string {
  return cell.startsWith('-') ? `-${cell.slice(1).padStart(width - 1, '0')}` : cell.padStart(width, '0');
}

/** Characters above 0xFF cannot come off the wire; keep describeBytes total. */
function asciiSafe(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => Math.min(c.charCodeAt(0), 0xff));
}

/**
 * Frames a byte stream into telegrams and parses them. Garbage outside STX…ETX, a telegram cut
 * off by the next STX (truncated), an overlong line and a malformed body each give one coded
 * error, in stream order; the stream carries on with the next telegram. Garbage is reported
 * when the next STX arrives, so however the stream is split the results are the same.
 */
export class TelegramDecoder<T> {
  readonly #lines: LineFramer | null;
  readonly #maxLength: number;
  readonly #parse: (b: Uint8Array) => TelegramResult<T>;
  readonly #keepalive: string | undefined;
  #buf: Uint8Array = new Uint8Array(0);
  /** Garbage seen outside STX…ETX since the last telegram (first bytes kept for the report). */
  #noise: number[] = [];
  #noiseCount = 0;

  constructor(template: TelegramTemplate, maxLength: number, parse: (b: Uint8Array) => TelegramResult<T>) {
    this.#lines =
      template.framing === 'stx-etx'
        ? null
        : new LineFramer({ delimiter: template.framing === 'crlf' ? Uint8Array.of(0x0d, 0x0a) : Uint8Array.of(0x0a), maxLength });
    this.#maxLength = maxLength;
    this.#parse = parse;
    this.#keepalive = template.keepalive;
  }

  get bufferedBytes(): number {
    return this.#lines ? this.#lines.bufferedBytes : this.#buf.length;
  }

  reset(): void {
    this.#lines?.reset();
    this.#buf = new Uint8Array(0);
    this.#noise = [];
    this.#noiseCount = 0;
  }

  push(chunk: Uint8Array): TelegramResult<T>[] {
    const out: TelegramResult<T>[] = [];
    if (this.#lines) {
      for (const c of this.#lines.push(chunk)) {
        if (c.kind === 'overflow') out.push(this.#fail('telegram too long without an end', describeBytes(c.bytes)));
        else this.#body(c.bytes, out);
      }
      return out;
    }
    const buf = concatBytes(this.#buf, chunk);
    let pos = 0;
    for (;;) {
      const s = buf.indexOf(STX, pos);
      for (let i = pos; i < (s === -1 ? buf.length : s); i++) {
        const b = buf[i] ?? 0;
        if (b === 0x0d || b === 0x0a) continue; // CR LF after ETX is common decoration
        if (this.#noise.length < 32) this.#noise.push(b);
        this.#noiseCount++;
      }
      if (s === -1) {
        pos = buf.length;
        break;
      }
      pos = s;
      let i = s + 1;
      const limit = Math.min(buf.length, s + this.#maxLength);
      while (i < limit && buf[i] !== ETX && buf[i] !== STX) i++;
      if (i >= limit && i - s < this.#maxLength) break; // incomplete: wait for more
      if (this.#noiseCount > 0) {
        const more = this.#noiseCount > this.#noise.length ? `…(${this.#noiseCount} bytes)` : '';
        out.push(this.#fail('bytes outside STX…ETX dropped', describeBytes(Uint8Array.from(this.#noise)) + more));
        this.#noise = [];
        this.#noiseCount = 0;
      }
      if (i < limit && buf[i] === ETX) {
        this.#body(buf.subarray(s + 1, i), out);
        pos = i + 1;
      } else {
        // A new STX came first, or no ETX within maxLength: the telegram was cut off.
        out.push(this.#fail('telegram cut off (no ETX before the next STX, or too long)', describeBytes(buf, s, i)));
        pos = i;
      }
    }
    this.#buf = buf.slice(pos);
    return out;
  }

  #body(body: Uint8Array, out: TelegramResult<T>[]): void {
    if (body.length === 0) return; // empty line / empty frame between telegrams
    if (this.#keepalive !== undefined && latin1(body) === this.#keepalive) return;
    out.push(this.#parse(body));
  }

  #fail(reason: string, raw: string): TelegramResult<T> {
    return { ok: false, code: 'PKL_FRAME_INVALID', detail: { protocol: DWS_TELEGRAM, reason }, raw };
  }
}
