/**
 * USB HID POS scales (HID usage page 0x8D "Scale"), e.g. Dymo M-series, Mettler USB postal
 * scales, Fairbanks, Stamps.com.
 *
 * Sources (docs/devices/scales.md): USB HID Point of Sale Usage Tables 1.02, page 0x8D
 * (Scale Status and Weight Unit usages); erjiang/usbscale `usbscale.c` (report layout, status
 * and unit tables) and `scales.h` (known VID:PID list).
 * Input report (6 bytes): reportId(0x03, some 0x04) status unit exponent(int8) weightLo weightHi;
 * weight = (hi << 8 | lo) × 10^exponent in `unit`.
 * HID reads deliver whole reports; the decoder still accepts any split so it can sit behind
 * a byte stream (hidraw file reads, tests).
 */
import { FixedFramer } from '../../framing/stx-framer.js';
import { describeBytes } from '../../framing/bytes.js';
import { errorFrame, invalidFrame, rejectUnknownOptions, unsupported } from '../frames.js';
import { GRAMS_PER_UNIT, scaledToGrams } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const HID_POS = 'hid-pos';

const REPORT_LENGTH = 6;
/** Report IDs seen for the weight report (usbscale: 0x03; some scales 0x04). */
const REPORT_IDS = [0x03, 0x04] as const;

/** Scale status (HID POS usage table 0x8D, Scale Status usages; usbscale `usbscale.c`). Index = status value. */
export const HID_SCALE_STATUS = [
  undefined, // 0: not defined
  'fault', // 1
  'stableAtZero', // 2
  'inMotion', // 3
  'stable', // 4
  'underZero', // 5
  'overWeight', // 6
  'calibrationNeeded', // 7
  'reZeroNeeded', // 8
] as const;

/** Weight unit (HID POS usage table 0x8D, Weight Unit usages). Index = unit value; undefined = not convertible. */
export const HID_SCALE_UNITS: readonly (string | undefined)[] = [
  undefined, // 0: not defined
  'mg', // 1 milligram
  'g', // 2 gram
  'kg', // 3 kilogram
  'ct', // 4 carat
  undefined, // 5 taels: several national definitions (37.5–37.8 g); refused rather than guessed
  'gr', // 6 grain
  'dwt', // 7 pennyweight
  't', // 8 metric ton
  'ton', // 9 avoirdupois (short) ton
  'ozt', // 10 troy ounce
  'oz', // 11 ounce
  'lb', // 12 pound
];

export class HidPosScaleDecoder implements ScaleDecoder {
  readonly #framer = new FixedFramer({
    headers: REPORT_IDS.map((id) => Uint8Array.of(id)),
    length: REPORT_LENGTH,
    // Structural check: a defined status and unit; otherwise resync on the next report id.
    isFrame: (c) => (c[1] ?? 0) >= 1 && (c[1] ?? 0) <= 8 && (c[2] ?? 0) >= 1 && (c[2] ?? 0) <= 12,
  });

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    return this.#framer
      .push(chunk)
      .map((c) => (c.kind === 'broken' ? invalidFrame(HID_POS, c.bytes, 'status or unit byte undefined') : this.#decode(c.bytes)));
  }

  #decode(r: Uint8Array): ScaleFrame {
    const raw = describeBytes(r);
    const status = HID_SCALE_STATUS[r[1] ?? 0];
    const unitCode = r[2] ?? 0;
    const unit = HID_SCALE_UNITS[unitCode];
    switch (status) {
      case 'fault':
      case 'calibrationNeeded':
      case 'reZeroNeeded':
        return { type: 'status', stable: false, fault: status, raw };
      case 'underZero':
        return { type: 'status', stable: false, underload: true, raw };
      case 'overWeight':
        return { type: 'status', stable: false, overload: true, raw };
      default:
        break;
    }
    if (unit === undefined) return errorFrame('PKL_FRAME_UNIT_UNKNOWN', HID_POS, r, { unit: `HID unit ${unitCode}` });
    const exponent = ((r[3] ?? 0) << 24) >> 24; // int8
    const count = ((r[5] ?? 0) << 8) | (r[4] ?? 0);
    const grams = status === 'stableAtZero' ? 0 : scaledToGrams(count, -exponent, GRAMS_PER_UNIT[unit] ?? 1);
    return { type: 'weight', grams, stable: status !== 'inMotion', raw };
  }
}

export const hidPosProtocol: ScaleProtocol = {
  id: HID_POS,
  commands: [], // input reports only
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(HID_POS, options, []);
    return new HidPosScaleDecoder();
  },
  encode(command: ScaleCommand): Uint8Array {
    throw unsupported(HID_POS, command);
  },
};
