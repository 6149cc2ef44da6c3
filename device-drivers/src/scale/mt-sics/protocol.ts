/**
 * Mettler Toledo MT-SICS (Mettler Toledo Standard Interface Command Set), level 0/1 subset.
 *
 * Sources: MT-SICS reference manual excerpts as summarised in docs/devices/scales.md;
 * Atlantis-Software/mt-sics `lib/constants.js` (success/failure token per command);
 * instrumentkit `mt_sics.py`. Text protocol, one command/response per line.
 */
import { LineFramer } from '../../framing/line-framer.js';
import { asciiBytes, describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, invalidFrame, rejectUnknownOptions, unsupported } from '../frames.js';
import { decimalToGrams, isKnownUnit } from '../units.js';
import type { ProtocolOptions, ReplyFrame, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const MT_SICS = 'mt-sics';

// MT-SICS manual, "Command formats": commands and responses are terminated by CR LF.
const CRLF = new Uint8Array([0x0d, 0x0a]);

/** Longest response line we buffer; MT-SICS weight lines are ~20 chars, I-command texts longer. */
export const MT_SICS_MAX_LINE = 256;

/**
 * Response grammar `<ID> <Status> <WeightValue> <Unit>` (MT-SICS manual, "Response formats"):
 * the value is right-aligned in a 10-char field, sign directly before the first digit.
 * Real devices answer `SI` with ID `S`; some emulators send `SI` — accept both (docs/devices/scales.md).
 */
const WEIGHT_RE = /^(S|SI|SIR) +([SD]) +([+-]?\d*\.?\d+) +(\S+)$/;
/** Any other reply: `<ID> <status>[ <rest>]`; ID is upper-case letters/digits (`Z`, `TA`, `I4`). */
const REPLY_RE = /^([A-Z][A-Z0-9]*) +([A-Z+-])(?: +(.*))?$/;
/**
 * Reply IDs accepted: the MT-SICS level 0 and level 1 commands (MT-SICS Reference Manual,
 * "Level 0" / "Level 1" command lists) and the level 2/3 ones a station may send raw. Anything
 * else is not an answer to us: `SS S 100.00 g` (a cut-off `S` glued to the next line) must not
 * pass as a reply carrying 100 g.
 */
const REPLY_IDS: ReadonlySet<string> = new Set([
  'I0',
  'I1',
  'I2',
  'I3',
  'I4',
  'S',
  'SI',
  'SIR',
  'Z',
  'ZI', // level 0
  'D',
  'DW',
  'K',
  'SR',
  'T',
  'TA',
  'TAC',
  'TI', // level 1
  'C0',
  'C1',
  'C2',
  'C3',
  'I5',
  'PWR',
  'SIU',
  'SIRU',
  'SNR',
  'ST',
  'SU',
  'M21', // level 2/3 seen from stations
]);

/** Status tokens (MT-SICS manual, per-command "Responses" tables; docs/devices/scales.md). */
const REPLY_STATUS: Readonly<Record<string, ReplyFrame['status']>> = {
  A: 'done', // command executed (Z A, TAC A, TA A <tare>, I4 A "<SN>")
  S: 'done', // T S <tare> <unit>: tare taken (stable); ZI S: zero set under stable conditions
  D: 'done', // ZI D: zero set with a dynamic (non-stable) weight
  B: 'more', // I0 B …: further lines follow
  I: 'busy', // command understood but not executable now (busy, stability timeout)
  '+': 'overload', // upper limit exceeded (weighing range, or zero range for Z)
  '-': 'underload', // lower limit exceeded
};

/** Whole-line error replies (MT-SICS manual, "Error messages"). */
const ERROR_LINES = {
  ES: 'syntax', // command not recognised
  ET: 'transmission', // parity error or interface overflow
  EL: 'logical', // command cannot be executed (e.g. parameter not allowed)
} as const;

/** Printable ASCII; bytes outside it at a line start are power-up/line noise and are skipped. */
function isPrintable(b: number): boolean {
  return b >= 0x20 && b <= 0x7e;
}

function decodeLine(bytes: Uint8Array): ScaleFrame | undefined {
  let start = 0;
  while (start < bytes.length && !isPrintable(bytes[start] ?? 0)) start++;
  const body = bytes.subarray(start);
  if (body.length === 0) return undefined; // empty line or pure noise
  const line = latin1(body).trimEnd();
  const raw = describeBytes(body);
  if (line === 'ES' || line === 'ET' || line === 'EL') {
    return { type: 'device-error', reason: ERROR_LINES[line], raw };
  }
  const w = WEIGHT_RE.exec(line);
  if (w !== null) {
    const unit = w[4] ?? '';
    if (!isKnownUnit(unit)) return errorFrame('PKL_FRAME_UNIT_UNKNOWN', MT_SICS, body, { unit });
    const grams = decimalToGrams(w[3] ?? '', unit);
    if (grams === undefined) return invalidFrame(MT_SICS, body, 'weight value is not a number');
    return { type: 'weight', grams, stable: w[2] === 'S', raw };
  }
  const r = REPLY_RE.exec(line);
  const status = r === null ? undefined : REPLY_STATUS[r[2] ?? ''];
  if (r === null || status === undefined) return invalidFrame(MT_SICS, body, 'not an MT-SICS response line');
  const command = r[1] ?? '';
  if (!REPLY_IDS.has(command)) return invalidFrame(MT_SICS, body, `${command} is not an MT-SICS command`);
  const rest = r[3];
  // A weight command's reply with a value is a weight line (WEIGHT_RE above); with anything
  // else behind the status (`S S S 100.00 g`: a cut-off line glued on) it is malformed.
  if ((command === 'S' || command === 'SI' || command === 'SIR') && rest !== undefined) {
    return invalidFrame(MT_SICS, body, `${command} reply with trailing text`);
  }
  const frame: { -readonly [K in keyof ReplyFrame]: ReplyFrame[K] } = { type: 'reply', command, status, raw };
  if (rest !== undefined) {
    // `T S 100.00 g`, `TA A 10.00 g`: the value is a tare in a weight unit.
    const tare = /^([+-]?\d*\.?\d+) +(\S+)$/.exec(rest);
    const grams = tare === null ? undefined : decimalToGrams(tare[1] ?? '', tare[2] ?? '');
    if (grams !== undefined) frame.grams = grams;
    else frame.data = rest;
  } else if (command === 'ZI' && (r[2] === 'S' || r[2] === 'D')) {
    frame.data = r[2];
  }
  return frame;
}

export class MtSicsDecoder implements ScaleDecoder {
  readonly #framer = new LineFramer({ delimiter: CRLF, maxLength: MT_SICS_MAX_LINE });

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    const out: ScaleFrame[] = [];
    for (const c of this.#framer.push(chunk)) {
      if (c.kind === 'overflow') {
        out.push(invalidFrame(MT_SICS, c.bytes, `no CR LF within ${MT_SICS_MAX_LINE} bytes`));
        continue;
      }
      const f = decodeLine(c.bytes);
      if (f !== undefined) out.push(f);
    }
    return out;
  }
}

/** MT-SICS command words for the neutral commands (MT-SICS manual, level 0 and level 1 commands). */
export const MT_SICS_COMMANDS: Readonly<Partial<Record<ScaleCommand, string>>> = {
  weigh: 'S', // level 0: send stable weight value
  weighNow: 'SI', // level 0: send weight value immediately, stable or not
  zero: 'Z', // level 0: zero when stable
  tare: 'T', // level 1: tare when stable
  clearTare: 'TAC', // level 1: clear tare value
};

/**
 * Any MT-SICS command line (`I4`, `TA 10.00 g`, `D "PACK"`), CR LF appended. Upper-case
 * printable ASCII only; a CR or LF inside would split it into two commands.
 */
export function encodeMtSicsCommand(text: string): Uint8Array {
  if (!/^[\x20-\x7e]+$/.test(text)) throw new TypeError('"text" must be printable ASCII without CR/LF');
  return asciiBytes(`${text}\r\n`);
}

export const mtSicsProtocol: ScaleProtocol = {
  id: MT_SICS,
  commands: Object.keys(MT_SICS_COMMANDS) as ScaleCommand[],
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(MT_SICS, options, []);
    return new MtSicsDecoder();
  },
  encode(command: ScaleCommand): Uint8Array {
    const word = MT_SICS_COMMANDS[command];
    if (word === undefined) throw unsupported(MT_SICS, command);
    return encodeMtSicsCommand(word);
  },
};
