/**
 * Mettler Toledo 8217 "weight only" ECR protocol (also 8213 family).
 *
 * Sources (docs/devices/scales.md): Mettler Toledo DIVA service manual, ECR interface
 * chapter (8217/8213 protocol and status byte table); Odoo `hw_drivers/.../serial_scale_driver.py`
 * (`_toledo8217StatusParse`, regexes, 7E1 line settings, `W`/`Z`/`T`/`C` commands).
 * Line: 9600 baud, 7 data bits, even parity, 1 stop bit — set in the model definition.
 */
import { DelimitedFramer } from '../../framing/stx-framer.js';
import { asciiBytes, describeBytes, latin1 } from '../../framing/bytes.js';
import { invalidFrame, oneOf, optionOf, rejectUnknownOptions, unsupported } from '../frames.js';
import { decimalToGrams } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const TOLEDO_8217 = 'toledo-8217';

const STX = 0x02; // DIVA manual: every scale response starts with STX
const CR = 0x0d; // … and ends with CR

/** Longest response: `STX` + high-resolution weight (`H`, ×10) `WWW.WWWW` + `N` + `CR`, with margin. */
export const TOLEDO_8217_MAX_FRAME = 16;

/**
 * Status byte after `STX ?` (DIVA manual status table; Odoo `_toledo8217StatusParse`).
 * Index = bit number. Bit 6 is always 1; bit 7 is the parity bit of the 7E1 line and is masked off.
 */
export const TOLEDO_8217_STATUS_BITS = [
  'motion', // bit0: scale in motion
  'overCapacity', // bit1: over capacity
  'underZero', // bit2: under zero
  'outsideZeroCapture', // bit3: outside zero-capture range
  'centerOfZero', // bit4: at centre of zero
  'netWeight', // bit5: net weight (tare active)
  'alwaysOne', // bit6: always 1
] as const;

/** `STX <weight> [N] CR`: DIVA manual: lb `WW.WW`, kg `WW.WWW`, `N` suffix for net (Odoo regex `\x02\s*([0-9.]+)N?\r`). */
const WEIGHT_RE = /^\s*(\d*\.?\d+)(N?)$/;

export interface Toledo8217Options {
  /** The unit the scale is set up for (the frame does not say): `kg` or `lb`. Default `kg`. */
  readonly unit: 'kg' | 'lb';
}

export class Toledo8217Decoder implements ScaleDecoder {
  readonly #framer = new DelimitedFramer({ start: STX, end: CR, maxLength: TOLEDO_8217_MAX_FRAME });
  readonly #unit: 'kg' | 'lb';

  constructor(options: Toledo8217Options = { unit: 'kg' }) {
    this.#unit = options.unit;
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    const out: ScaleFrame[] = [];
    for (const c of this.#framer.push(chunk)) {
      out.push(c.kind === 'broken' ? invalidFrame(TOLEDO_8217, c.bytes, 'frame cut off before CR') : this.#decode(c.bytes));
    }
    return out;
  }

  #decode(frame: Uint8Array): ScaleFrame {
    const raw = describeBytes(frame);
    // Strip STX and CR; mask the parity bit a 7-bit line may deliver in bit 7.
    const body = frame.subarray(1, frame.length - 1).map((b) => b & 0x7f);
    if (body[0] === 0x3f /* '?' */ && body.length === 2) {
      const s = body[1] ?? 0;
      if ((s & 0x40) === 0) return invalidFrame(TOLEDO_8217, frame, 'status byte bit 6 is not 1');
      const bit = (n: number) => (s & (1 << n)) !== 0;
      return {
        type: 'status',
        stable: !bit(0),
        overload: bit(1),
        underload: bit(2),
        outOfRange: bit(3),
        zero: bit(4),
        net: bit(5),
        raw,
      };
    }
    const text = latin1(body);
    if (text === 'E') return { type: 'reply', command: 'E', status: 'done', raw }; // echo mode entered (DIVA `E`)
    const m = WEIGHT_RE.exec(text);
    const grams = m === null ? undefined : decimalToGrams(m[1] ?? '', this.#unit);
    if (m === null || grams === undefined) return invalidFrame(TOLEDO_8217, frame, 'neither a weight nor a status');
    // DIVA: weight is only sent when stable, not negative and within capacity.
    return { type: 'weight', grams, stable: true, net: m[2] === 'N', raw };
  }
}

/** Single-character commands, no terminator (DIVA manual; Odoo `commandTerminator=b''`). */
export const TOLEDO_8217_COMMANDS: Readonly<Partial<Record<ScaleCommand, string>>> = {
  weigh: 'W', // request weight
  zero: 'Z', // zero the scale; answers STX ? status CR
  tare: 'T', // tare; answers STX ? status CR
  clearTare: 'C', // clear tare; answers STX ? status CR
};

export const toledo8217Protocol: ScaleProtocol = {
  id: TOLEDO_8217,
  commands: Object.keys(TOLEDO_8217_COMMANDS) as ScaleCommand[],
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(TOLEDO_8217, options, ['unit']);
    return new Toledo8217Decoder({ unit: optionOf(TOLEDO_8217, options, 'unit', 'kg', oneOf('kg', 'lb'), '"kg" or "lb"') });
  },
  encode(command: ScaleCommand): Uint8Array {
    const c = TOLEDO_8217_COMMANDS[command];
    if (c === undefined) throw unsupported(TOLEDO_8217, command);
    return asciiBytes(c);
  },
};
