/**
 * Yaohua (耀华) XK3190-A9 / A9+ / D9 indicator, continuous output mode `tF=0`.
 *
 * Sources (docs/devices/scales.md): Yaohua XK3190-A9 manual, "串行通讯 / tF=0
 * 连续方式" (12-byte frame, 8N1, baud by menu); frames captured from truck scales.
 * Frame: STX sign(+/-) 6 digits high→low (no point) dp-count('0'..'4') XOR-hi XOR-lo ETX,
 * XOR over bytes 1..8 sent as two upper-case ASCII hex digits.
 * The frame has NO stable flag and NO unit: stability comes from {@link StabilityDetector},
 * the unit from the definition.
 */
import { FixedFramer } from '../../framing/stx-framer.js';
import { describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, hex2, invalidFrame, oneOf, optionOf, rejectUnknownOptions, stabilityOption, unsupported } from '../frames.js';
import { StabilityDetector, type StabilityOptions } from '../stability.js';
import { GRAMS_PER_UNIT, scaledToGrams } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const YAOHUA_A9 = 'yaohua-a9';

const STX = 0x02; // A9 manual tF=0: byte 1 start
const ETX = 0x03; // A9 manual tF=0: byte 12 end
const LENGTH = 12;

/** XOR of bytes 1..8 (sign, six digits, decimal count), per the A9 manual. */
export function yaohuaXor(frame: Uint8Array): number {
  let x = 0;
  for (let i = 1; i <= 8; i++) x ^= frame[i] ?? 0;
  return x;
}

export interface YaohuaOptions {
  /** Unit the indicator is calibrated in (not in the frame). Default `kg`. */
  readonly unit: 'kg' | 'g' | 't' | 'lb';
  readonly stability: StabilityOptions;
}

export class YaohuaA9Decoder implements ScaleDecoder {
  readonly #framer = new FixedFramer({ headers: [Uint8Array.of(STX)], length: LENGTH, isFrame: (c) => c[LENGTH - 1] === ETX });
  readonly #perUnit: number;
  readonly #stability: StabilityDetector;

  constructor(options: YaohuaOptions) {
    this.#perUnit = GRAMS_PER_UNIT[options.unit] ?? 1000;
    this.#stability = new StabilityDetector(options.stability);
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
    this.#stability.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    return this.#framer.push(chunk).map((c) => {
      if (c.kind === 'broken') {
        this.#stability.reset(); // a lost frame breaks the run of equal readings
        return invalidFrame(YAOHUA_A9, c.bytes, 'frame cut off (no ETX at byte 12)');
      }
      const f = this.#decode(c.bytes);
      if (f.type === 'error') this.#stability.reset();
      return f;
    });
  }

  #decode(f: Uint8Array): ScaleFrame {
    const text = latin1(f, 9, 11);
    const actual = /^[0-9A-Fa-f]{2}$/.test(text) ? Number.parseInt(text, 16) : -1;
    const expected = yaohuaXor(f);
    if (actual !== expected) {
      return errorFrame('PKL_FRAME_CHECKSUM', YAOHUA_A9, f, { expected: hex2(expected), actual: actual < 0 ? JSON.stringify(text) : hex2(actual) });
    }
    const m = /^([+-])(\d{6})([0-4])$/.exec(latin1(f, 1, 9));
    if (m === null) return invalidFrame(YAOHUA_A9, f, 'sign, 6 digits and decimal count expected');
    const grams = scaledToGrams((m[1] === '-' ? -1 : 1) * Number(m[2]), Number(m[3]), this.#perUnit);
    return { type: 'weight', grams, stable: this.#stability.push(grams), raw: describeBytes(f) };
  }
}

export const yaohuaA9Protocol: ScaleProtocol = {
  id: YAOHUA_A9,
  commands: [], // tF=0 streams only; tF=1 command mode is not documented here
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(YAOHUA_A9, options, ['unit', 'stability']);
    return new YaohuaA9Decoder({
      unit: optionOf(YAOHUA_A9, options, 'unit', 'kg', oneOf('kg', 'g', 't', 'lb'), '"kg", "g", "t" or "lb"'),
      stability: stabilityOption(YAOHUA_A9, options),
    });
  },
  encode(command: ScaleCommand): Uint8Array {
    throw unsupported(YAOHUA_A9, command);
  },
};

/** Builds a tF=0 frame (fixtures, simulators) from a display count and decimal places. */
export function encodeYaohuaFrame(count: number, decimals: number): Uint8Array {
  const body = `${count < 0 ? '-' : '+'}${String(Math.abs(Math.trunc(count)) % 1_000_000).padStart(6, '0')}${decimals}`;
  const f = Uint8Array.from([STX, ...Buffer.from(body, 'latin1'), 0, 0, ETX]);
  const x = yaohuaXor(f).toString(16).toUpperCase().padStart(2, '0');
  f[9] = x.charCodeAt(0);
  f[10] = x.charCodeAt(1);
  return f;
}
