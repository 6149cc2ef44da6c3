/**
 * ZPL host status: the answers a Zebra printer sends to `~HS` and `~HQES` on the raw TCP
 * socket (port 9100), decoded incrementally, plus encoders for both (used by the simulator).
 * Pure: no I/O, no timers.
 *
 * Sources: ZPL II Programming Guide (Zebra P1012728), command `~HS` "Host Status Return" and
 * command `~HQ` "Host Query" (`ES` = extended status); docs/devices/printers.md.
 *
 * `~HS` answers with three strings, each `<STX>…<ETX><CR><LF>` (ZPL II Guide, ~HS):
 *   String 1  `aaa,b,c,dddd,eee,f,g,h,iii,j,k,l`   (12 fields)
 *   String 2  `mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www`   (11 fields)
 *   String 3  `xxxx,y`                             (2 fields)
 * `~HQES` answers with one STX…ETX block:
 *   `<CR><LF>PRINTER STATUS<CR><LF>   ERRORS:         1 00000000 00000005<CR><LF>
 *    WARNINGS:       0 00000000 00000000<CR><LF>` — a flag (1 = any set) and two 8-hex-digit
 *   groups (group 2, then group 1) of bit flags.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import { asciiBytes, describeBytes, latin1 } from '../../framing/bytes.js';
import { DelimitedFramer } from '../../framing/stx-framer.js';

/** ASCII control bytes framing every answer (ZPL II Guide, ~HS: `<STX>` … `<ETX><CR><LF>`). */
export const STX = 0x02;
export const ETX = 0x03;
const CRLF = '\r\n';

/** `~HS` — Host Status Return (ZPL II Guide). `~` commands are processed on arrival, ahead of queued formats. */
export const ZPL_HOST_STATUS_QUERY = asciiBytes('~HS');
/** `~HQES` — Host Query, extended status (ZPL II Guide, ~HQ, query type `ES`). */
export const ZPL_EXTENDED_STATUS_QUERY = asciiBytes('~HQES');
/** `~JA` — Cancel All: drops every format in the receive buffer (ZPL II Guide, ~JA). */
export const ZPL_CANCEL_ALL = asciiBytes('~JA');

/** Decoded `~HS`. Each field names its letter in the ZPL II Guide, ~HS. */
export interface HostStatus {
  // ---- String 1 ----
  /** aaa — communication (interface) settings, decimal of the bit mask. */
  readonly commSettings: number;
  /** b — paper out flag (1 = paper out). */
  readonly paperOut: boolean;
  /** c — pause flag (1 = paused). */
  readonly paused: boolean;
  /** dddd — label length, dots. */
  readonly labelLengthDots: number;
  /** eee — number of formats in the receive buffer. */
  readonly formatsInBuffer: number;
  /** f — receive buffer full flag. */
  readonly bufferFull: boolean;
  /** g — communications diagnostic mode flag. */
  readonly diagnosticMode: boolean;
  /** h — partial format flag (a format is being received). */
  readonly partialFormat: boolean;
  /** j — corrupt RAM flag (configuration data lost). */
  readonly corruptRam: boolean;
  /** k — temperature range: under temperature. */
  readonly underTemperature: boolean;
  /** l — temperature range: over temperature. */
  readonly overTemperature: boolean;
  // ---- String 2 ----
  /** mmm — function settings, decimal of the bit mask. */
  readonly functionSettings: number;
  /** o — head up (open) flag. */
  readonly headOpen: boolean;
  /** p — ribbon out flag. */
  readonly ribbonOut: boolean;
  /** q — thermal transfer mode flag (0 = direct thermal). */
  readonly thermalTransfer: boolean;
  /** r — print mode: 0 rewind, 1 peel-off, 2 tear-off, 3 cutter, 4 applicator, 5 delayed cut … */
  readonly printMode: string;
  /** s — print width mode. */
  readonly printWidthMode: string;
  /** t — label waiting flag (peel-off mode). */
  readonly labelWaiting: boolean;
  /** uuuuuuuu — labels remaining in batch. */
  readonly labelsRemaining: number;
  /** v — format while printing flag (always 1). */
  readonly formatWhilePrinting: boolean;
  /** www — number of graphic images stored in memory. */
  readonly graphicsStored: number;
  // ---- String 3 ----
  /** xxxx — password. */
  readonly password: string;
  /** y — static RAM installed flag. */
  readonly staticRam: boolean;
}

/**
 * `~HQES` error flags, group 1 (ZPL II Guide, ~HQ "Error Flags" table; docs/devices/printers.md):
 * nibble 1: media out 1, ribbon out 2, head open 4, cutter fault 8;
 * nibble 2: printhead over-temperature 1, motor over-temperature 2, bad printhead element 4,
 * printhead detection error 8. Higher nibbles (paper feed error, paper jam, black mark …) are
 * kept as raw bits and reported as a generic printer error.
 */
export const HQES_ERROR = {
  mediaOut: 0x0000_0001,
  ribbonOut: 0x0000_0002,
  headOpen: 0x0000_0004,
  cutterFault: 0x0000_0008,
  printheadOverTemp: 0x0000_0010,
  motorOverTemp: 0x0000_0020,
  badPrintheadElement: 0x0000_0040,
  printheadDetection: 0x0000_0080,
} as const;

/** `~HQES` warning flags, group 1, nibble 1 (ZPL II Guide, ~HQ "Warning Flags" table). */
export const HQES_WARNING = {
  needCalibration: 0x0000_0001,
  cleanPrinthead: 0x0000_0002,
  replacePrinthead: 0x0000_0004,
  paperNearEnd: 0x0000_0008,
} as const;

export interface ExtendedStatus {
  /** Group 1 error bits (see {@link HQES_ERROR}). */
  readonly errors: number;
  /** Group 2 error bits (reserved / model specific). */
  readonly errors2: number;
  readonly warnings: number;
  readonly warnings2: number;
}

export type ZplReply =
  | { readonly type: 'host-status'; readonly status: HostStatus }
  | { readonly type: 'extended-status'; readonly status: ExtendedStatus }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly details: ErrorDetails; readonly raw: string };

const PROTOCOL = 'zpl-status';
/** Longest block we accept: `~HQES` is ~110 bytes; anything longer is not a status answer. */
const MAX_BLOCK = 256;

const DIGITS = /^\d{1,8}$/;
const FLAG = /^[01]$/;
const MODE = /^[0-9A-Z]$/;

class FieldError extends Error {}

function num(field: string | undefined, name: string): number {
  if (field === undefined || !DIGITS.test(field)) throw new FieldError(`${name} is not a decimal number`);
  return Number(field);
}
function flag(field: string | undefined, name: string): boolean {
  if (field === undefined || !FLAG.test(field)) throw new FieldError(`${name} is not a 0/1 flag`);
  return field === '1';
}
function mode(field: string | undefined, name: string): string {
  if (field === undefined || !MODE.test(field)) throw new FieldError(`${name} is not a mode character`);
  return field;
}

type String1 = Pick<
  HostStatus,
  | 'commSettings'
  | 'paperOut'
  | 'paused'
  | 'labelLengthDots'
  | 'formatsInBuffer'
  | 'bufferFull'
  | 'diagnosticMode'
  | 'partialFormat'
  | 'corruptRam'
  | 'underTemperature'
  | 'overTemperature'
>;
type String2 = Pick<
  HostStatus,
  | 'functionSettings'
  | 'headOpen'
  | 'ribbonOut'
  | 'thermalTransfer'
  | 'printMode'
  | 'printWidthMode'
  | 'labelWaiting'
  | 'labelsRemaining'
  | 'formatWhilePrinting'
  | 'graphicsStored'
>;
type String3 = Pick<HostStatus, 'password' | 'staticRam'>;

function parseString1(f: string[]): String1 {
  // ZPL II Guide, ~HS String 1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l (iii unused, always 000)
  num(f[8], 'iii (unused)');
  return {
    commSettings: num(f[0], 'aaa (comm settings)'),
    paperOut: flag(f[1], 'b (paper out)'),
    paused: flag(f[2], 'c (pause)'),
    labelLengthDots: num(f[3], 'dddd (label length)'),
    formatsInBuffer: num(f[4], 'eee (formats in buffer)'),
    bufferFull: flag(f[5], 'f (buffer full)'),
    diagnosticMode: flag(f[6], 'g (diagnostic mode)'),
    partialFormat: flag(f[7], 'h (partial format)'),
    corruptRam: flag(f[9], 'j (corrupt RAM)'),
    underTemperature: flag(f[10], 'k (under temperature)'),
    overTemperature: flag(f[11], 'l (over temperature)'),
  };
}

function parseString2(f: string[]): String2 {
  // ZPL II Guide, ~HS String 2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www (n unused)
  num(f[1], 'n (unused)');
  return {
    functionSettings: num(f[0], 'mmm (function settings)'),
    headOpen: flag(f[2], 'o (head up)'),
    ribbonOut: flag(f[3], 'p (ribbon out)'),
    thermalTransfer: flag(f[4], 'q (thermal transfer)'),
    printMode: mode(f[5], 'r (print mode)'),
    printWidthMode: mode(f[6], 's (print width mode)'),
    labelWaiting: flag(f[7], 't (label waiting)'),
    labelsRemaining: num(f[8], 'uuuuuuuu (labels remaining)'),
    formatWhilePrinting: flag(f[9], 'v (format while printing)'),
    graphicsStored: num(f[10], 'www (graphics stored)'),
  };
}

function parseString3(f: string[]): String3 {
  // ZPL II Guide, ~HS String 3: xxxx,y
  const password = f[0];
  if (password === undefined || !/^\d{4}$/.test(password)) throw new FieldError('xxxx (password) is not 4 digits');
  return { password, staticRam: flag(f[1], 'y (static RAM)') };
}

const HQES_RE =
  /^\r\nPRINTER STATUS\r\n\s*ERRORS:\s+([01])\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})\r\n\s*WARNINGS:\s+([01])\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})\r\n$/;

function parseExtended(body: string): ExtendedStatus {
  const m = HQES_RE.exec(body);
  if (!m) throw new FieldError('not a ~HQES "PRINTER STATUS / ERRORS / WARNINGS" block');
  const [, eFlag, e2, e1, wFlag, w2, w1] = m as unknown as [string, string, string, string, string, string, string];
  const status: ExtendedStatus = {
    errors: parseInt(e1, 16),
    errors2: parseInt(e2, 16),
    warnings: parseInt(w1, 16),
    warnings2: parseInt(w2, 16),
  };
  // The leading flag says "any bit set" (ZPL II Guide, ~HQ ES); a contradiction means a corrupt answer.
  if ((eFlag === '1') !== (status.errors !== 0 || status.errors2 !== 0)) throw new FieldError('ERRORS flag contradicts the error bits');
  if ((wFlag === '1') !== (status.warnings !== 0 || status.warnings2 !== 0)) throw new FieldError('WARNINGS flag contradicts the warning bits');
  return status;
}

/**
 * Incremental decoder for everything a ZPL printer answers on the raw socket. Bytes outside
 * STX…ETX (the CR LF after each ETX, line noise) are skipped. A `~HS` answer is emitted once
 * all three strings arrived in order; a string out of order, a malformed block or a block
 * cut short by the next STX gives a coded `PKL_FRAME_INVALID` and resynchronises.
 */
export class ZplStatusDecoder {
  readonly #framer = new DelimitedFramer({ start: STX, end: ETX, maxLength: MAX_BLOCK });
  #s1: String1 | null = null;
  #s2: String2 | null = null;

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
    this.#s1 = null;
    this.#s2 = null;
  }

  push(chunk: Uint8Array): ZplReply[] {
    const out: ZplReply[] = [];
    for (const f of this.#framer.push(chunk)) {
      if (f.kind === 'broken') {
        this.#dropPartial(out);
        out.push(invalid('block cut short or too long', f.bytes));
        continue;
      }
      const body = latin1(f.bytes, 1, f.bytes.length - 1);
      try {
        this.#onBlock(body, out);
      } catch (err) {
        if (!(err instanceof FieldError)) throw err;
        this.#dropPartial(out);
        out.push(invalid(err.message, f.bytes));
      }
    }
    return out;
  }

  #dropPartial(out: ZplReply[]): void {
    if (this.#s1 !== null) out.push(invalid('~HS answer incomplete (string 2 or 3 missing)', new Uint8Array(0)));
    this.#s1 = null;
    this.#s2 = null;
  }

  #onBlock(body: string, out: ZplReply[]): void {
    if (body.startsWith(CRLF)) {
      out.push({ type: 'extended-status', status: parseExtended(body) });
      return;
    }
    const fields = body.split(',');
    switch (fields.length) {
      case 12: {
        const s1 = parseString1(fields);
        this.#dropPartial(out); // a new string 1 while one was pending: the old answer is lost
        this.#s1 = s1;
        return;
      }
      case 11: {
        if (this.#s1 === null || this.#s2 !== null) throw new FieldError('~HS string 2 without string 1');
        this.#s2 = parseString2(fields);
        return;
      }
      case 2: {
        if (this.#s1 === null || this.#s2 === null) throw new FieldError('~HS string 3 without strings 1 and 2');
        const status: HostStatus = { ...this.#s1, ...this.#s2, ...parseString3(fields) };
        this.#s1 = null;
        this.#s2 = null;
        out.push({ type: 'host-status', status });
        return;
      }
      default:
        throw new FieldError(`block with ${fields.length} fields is neither a ~HS string nor ~HQES`);
    }
  }
}

function invalid(reason: string, bytes: Uint8Array): ZplReply {
  const raw = describeBytes(bytes);
  return { type: 'error', code: 'PKL_FRAME_INVALID', details: { protocol: PROTOCOL, reason }, raw };
}

// ---- encoders (the simulator answers with these) -------------------------------------------

const pad = (n: number, width: number) =>
  String(Math.max(0, Math.trunc(n)))
    .padStart(width, '0')
    .slice(-width);
const bit = (b: boolean) => (b ? '1' : '0');
const block = (body: string) => `\x02${body}\x03${CRLF}`;

/** Encodes a `~HS` answer with the field widths of the ZPL II Guide (aaa, dddd, eee, uuuuuuuu …). */
export function encodeHostStatus(s: HostStatus): Uint8Array {
  const s1 = [
    pad(s.commSettings, 3),
    bit(s.paperOut),
    bit(s.paused),
    pad(s.labelLengthDots, 4),
    pad(s.formatsInBuffer, 3),
    bit(s.bufferFull),
    bit(s.diagnosticMode),
    bit(s.partialFormat),
    '000',
    bit(s.corruptRam),
    bit(s.underTemperature),
    bit(s.overTemperature),
  ].join(',');
  const s2 = [
    pad(s.functionSettings, 3),
    '0',
    bit(s.headOpen),
    bit(s.ribbonOut),
    bit(s.thermalTransfer),
    s.printMode,
    s.printWidthMode,
    bit(s.labelWaiting),
    pad(s.labelsRemaining, 8),
    bit(s.formatWhilePrinting),
    pad(s.graphicsStored, 3),
  ].join(',');
  const s3 = `${s.password},${bit(s.staticRam)}`;
  return asciiBytes(block(s1) + block(s2) + block(s3));
}

const hex8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

/** Encodes a `~HQES` answer (ZPL II Guide, ~HQ ES layout). */
export function encodeExtendedStatus(s: ExtendedStatus): Uint8Array {
  const anyE = s.errors !== 0 || s.errors2 !== 0;
  const anyW = s.warnings !== 0 || s.warnings2 !== 0;
  const body =
    `${CRLF}PRINTER STATUS${CRLF}` +
    `   ERRORS:         ${bit(anyE)} ${hex8(s.errors2)} ${hex8(s.errors)}${CRLF}` +
    `   WARNINGS:       ${bit(anyW)} ${hex8(s.warnings2)} ${hex8(s.warnings)}${CRLF}`;
  return asciiBytes(block(body));
}

/** A healthy, idle 203 dpi direct-thermal printer in tear-off mode (the simulator's default). */
export const IDLE_HOST_STATUS: HostStatus = {
  commSettings: 30,
  paperOut: false,
  paused: false,
  labelLengthDots: 1245,
  formatsInBuffer: 0,
  bufferFull: false,
  diagnosticMode: false,
  partialFormat: false,
  corruptRam: false,
  underTemperature: false,
  overTemperature: false,
  functionSettings: 0,
  headOpen: false,
  ribbonOut: false,
  thermalTransfer: false,
  printMode: '2',
  printWidthMode: '4',
  labelWaiting: false,
  labelsRemaining: 0,
  formatWhilePrinting: true,
  graphicsStored: 0,
  password: '1234',
  staticRam: false,
};
