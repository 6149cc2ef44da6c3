/**
 * Mettler Toledo "standard continuous output" (18-byte frame, streamed at the display rate).
 *
 * Sources (docs/devices/scales.md): Mettler Toledo WILDCAT technical manual, tables
 * 6-8 (frame layout), 6-9 (status word A), 6-10 (status word B), 6-11 (status word C);
 * Ohaus Defender 5000 manual (Toledo-compatible continuous mode, SWC unit code 011 = oz).
 * Frame: STX SWA SWB SWC W5..W0 T5..T0 CR [CKS]. Line usually 7E1.
 */
import { FixedFramer } from '../../framing/stx-framer.js';
import { describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, hex2, invalidFrame, isBoolean, optionOf, rejectUnknownOptions, unsupported } from '../frames.js';
import { GRAMS_PER_UNIT, scaledToGrams } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const TOLEDO_CONTINUOUS = 'toledo-continuous';

const STX = 0x02; // table 6-8, byte 1
const CR = 0x0d; // table 6-8, byte 17
const BODY_LENGTH = 17; // STX .. CR
const CKS_LENGTH = 18; // + optional checksum byte

/**
 * SWA bits 0-2: decimal point position (table 6-9) as a power of ten applied to the 6-digit
 * display value: 000 = XXXX00 (×100), 001 = XXXXX0 (×10), 010 = XXXXXX, 011 = XXXXX.X, 100 =
 * XXXX.XX, 101 = XXX.XXX, 110 = XX.XXXX, 111 = X.XXXXX. Index = the 3-bit code; value =
 * decimal places (negative = implied trailing zeros).
 */
export const SWA_DECIMALS = [-2, -1, 0, 1, 2, 3, 4, 5] as const;

// Table 6-10 (status word B) bits.
const SWB_NET = 1 << 0; // gross = 0, net = 1
const SWB_NEGATIVE = 1 << 1; // sign: negative = 1
const SWB_OUT_OF_RANGE = 1 << 2; // over capacity or under zero = 1
const SWB_MOTION = 1 << 3; // motion = 1
const SWB_KG = 1 << 4; // lb = 0, kg = 1
const SWB_NOT_ZEROED = 1 << 6; // power-up zero not captured = 1

/**
 * SWC bits 0-2: unit override (table 6-11): 000 = kg/lb per SWB bit 4, 001 = g, 010 = t;
 * Ohaus adds 011 = oz. Other codes (Ohaus lists 111 as both "ton" and "no units") are refused.
 */
const SWC_UNIT: readonly (string | undefined)[] = [undefined, 'g', 't', 'oz'];

/** CKS: 2's complement of the low 7 bits of the sum of STX … CR (table 6-8 note). */
export function toledoChecksum(bytes: Uint8Array, end = BODY_LENGTH): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i] ?? 0;
  return -sum & 0x7f;
}

export interface ToledoContinuousOptions {
  /** The indicator appends the checksum byte (setup parameter). Default true. */
  readonly checksum: boolean;
}

function digits(text: string): number | undefined {
  // Leading zeros may be sent as spaces (table 6-8 note).
  const t = text.replace(/^ +/, '');
  if (t === '') return 0;
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

export class ToledoContinuousDecoder implements ScaleDecoder {
  readonly #checksum: boolean;
  readonly #framer: FixedFramer;

  constructor(options: ToledoContinuousOptions = { checksum: true }) {
    this.#checksum = options.checksum;
    this.#framer = new FixedFramer({
      headers: [Uint8Array.of(STX)],
      length: options.checksum ? CKS_LENGTH : BODY_LENGTH,
      isFrame: (c) => c[BODY_LENGTH - 1] === CR,
    });
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    return this.#framer
      .push(chunk)
      .map((c) => (c.kind === 'broken' ? invalidFrame(TOLEDO_CONTINUOUS, c.bytes, 'frame cut off (no CR at byte 17)') : this.#decode(c.bytes)));
  }

  #decode(f: Uint8Array): ScaleFrame {
    if (this.#checksum) {
      const expected = toledoChecksum(f);
      const actual = (f[BODY_LENGTH] ?? 0) & 0x7f;
      if (expected !== actual) {
        return errorFrame('PKL_FRAME_CHECKSUM', TOLEDO_CONTINUOUS, f, { expected: hex2(expected), actual: hex2(actual) });
      }
    }
    const swa = f[1] ?? 0;
    const swb = f[2] ?? 0;
    const swc = f[3] ?? 0;
    // Bit 5 is always 1 in all three status words (tables 6-9..6-11).
    if ((swa & swb & swc & 0x20) === 0) return invalidFrame(TOLEDO_CONTINUOUS, f, 'status word bit 5 is not 1');
    const weight = digits(latin1(f, 4, 10));
    const tare = digits(latin1(f, 10, 16));
    if (weight === undefined || tare === undefined) return invalidFrame(TOLEDO_CONTINUOUS, f, 'weight or tare is not 6 digits');
    const unitCode = swc & 0x07;
    const unit = unitCode === 0 ? ((swb & SWB_KG) !== 0 ? 'kg' : 'lb') : SWC_UNIT[unitCode];
    if (unit === undefined) return errorFrame('PKL_FRAME_UNIT_UNKNOWN', TOLEDO_CONTINUOUS, f, { unit: `SWC code ${unitCode}` });
    const decimals = SWA_DECIMALS[swa & 0x07] ?? 0;
    const perUnit = GRAMS_PER_UNIT[unit] ?? 1;
    const sign = (swb & SWB_NEGATIVE) !== 0 ? -1 : 1;
    const outOfRange = (swb & SWB_OUT_OF_RANGE) !== 0 || (swb & SWB_NOT_ZEROED) !== 0;
    return {
      type: 'weight',
      grams: scaledToGrams(sign * weight, decimals, perUnit),
      stable: (swb & SWB_MOTION) === 0,
      net: (swb & SWB_NET) !== 0,
      ...(outOfRange ? { outOfRange } : {}),
      tareGrams: scaledToGrams(tare, decimals, perUnit),
      raw: describeBytes(f),
    };
  }
}

export const toledoContinuousProtocol: ScaleProtocol = {
  id: TOLEDO_CONTINUOUS,
  commands: [], // streaming output only
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(TOLEDO_CONTINUOUS, options, ['checksum']);
    return new ToledoContinuousDecoder({
      checksum: optionOf(TOLEDO_CONTINUOUS, options, 'checksum', true, isBoolean, 'a boolean'),
    });
  },
  encode(command: ScaleCommand): Uint8Array {
    throw unsupported(TOLEDO_CONTINUOUS, command);
  },
};

/** Builds a frame (for fixtures and simulators): 6-digit weight/tare counts, status words as given. */
export function encodeToledoContinuousFrame(f: { swa: number; swb: number; swc: number; weight: number; tare: number; checksum?: boolean }): Uint8Array {
  const six = (n: number) => String(Math.abs(Math.trunc(n)) % 1_000_000).padStart(6, '0');
  const body = Uint8Array.from([STX, f.swa, f.swb, f.swc, ...Buffer.from(six(f.weight) + six(f.tare), 'latin1'), CR]);
  if (f.checksum === false) return body;
  return Uint8Array.from([...body, toledoChecksum(body)]);
}
