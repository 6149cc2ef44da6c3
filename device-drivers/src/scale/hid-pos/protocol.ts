/**
 * USB HID POS scales (HID usage page 0x8D "Scale"), e.g. Dymo M-series, Mettler USB postal
 * scales, Fairbanks, Stamps.com.
 *
 * Sources (docs/devices/scales.md): USB HID Point of Sale Usage Tables 1.02, page 0x8D
 * (Scale Status and Weight Unit usages); erjiang/usbscale `usbscale.c` (report layout, status
 * and unit tables) and `scales.h` (known VID:PID list).
 * Input report (6 bytes): reportId(0x03, some 0x04) status unit exponent(int8) weightLo weightHi;
 * weight = (hi << 8 | lo) × 10^exponent in `unit`.
 * HID reads deliver whole reports (the HID link calls `flush()` after each, so a stub is never
 * completed by the next report); the decoder still accepts any split so it can sit behind a
 * byte stream (hidraw file reads, tests).
 */
import { PacklineError } from '../../../../contracts/errors.js';
import { FixedFramer } from '../../framing/stx-framer.js';
import { describeBytes } from '../../framing/bytes.js';
import { findOutputUsage } from '../../hid/report-descriptor.js';
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

  /** A read boundary: a report has no sync byte, so a stub left over is dropped, never completed by the next report. */
  flush(): ScaleFrame[] {
    if (this.#framer.bufferedBytes === 0) return [];
    const held = this.#framer.takeBuffered();
    return [invalidFrame(HID_POS, held, `report cut short at ${held.length} of ${REPORT_LENGTH} bytes`)];
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    return this.#framer.push(chunk).map((c) => (c.kind === 'broken' ? invalidFrame(HID_POS, c.bytes, 'status or unit byte undefined') : this.#decode(c.bytes)));
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

/**
 * Scales page usages of the zero command (HID Point of Sale Usage Tables 1.02, Scales page
 * 0x8D): 0x31 Scale Control Report (CL), 0x80 Zero Scale (OOC), 0x81 Enforced Zero Return
 * (OOC). The page defines no tare usage: a HID POS scale has no tare command.
 */
export const HID_SCALE_PAGE = 0x8d;
export const HID_SCALE_USAGE = { scaleControlReport: 0x31, zeroScale: 0x80, enforcedZeroReturn: 0x81 } as const;

/** Where Zero Scale sits in the device's output report; read from its report descriptor. */
export interface ScaleControlLayout {
  readonly reportId: number;
  readonly zeroBit: number;
  /** Data bytes of the control report (after the id byte). */
  readonly reportBytes: number;
}

/**
 * The layout of the scale control report in the usual HID POS scale report descriptor:
 * report id 2, one output byte, bit 0 Enforced Zero Return, bit 1 Zero Scale, 6 bits padding.
 * Used when the descriptor cannot be read; a scale whose descriptor lacks Zero Scale gets
 * `controlReport: null` and refuses `zero`.
 */
export const DEFAULT_SCALE_CONTROL: ScaleControlLayout = { reportId: 0x02, zeroBit: 1, reportBytes: 1 };

function controlLayout(options: ProtocolOptions | undefined): ScaleControlLayout | null {
  const v = options?.['controlReport'];
  if (v === undefined) return DEFAULT_SCALE_CONTROL;
  if (v === null) return null;
  const o = v as Partial<ScaleControlLayout>;
  const ok = (n: unknown, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
  if (typeof v !== 'object' || !ok(o.reportId, 255) || !ok(o.reportBytes, 64) || !ok(o.zeroBit, 8 * (o.reportBytes ?? 0) - 1)) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${HID_POS}: "controlReport" must be {reportId, zeroBit, reportBytes}` });
  }
  return o as ScaleControlLayout;
}

/** The output report that zeroes the scale: report id byte, then Zero Scale set (HID 1.11 §8.4 bit order). */
export function encodeZeroScale(layout: ScaleControlLayout): Uint8Array {
  const out = new Uint8Array(1 + layout.reportBytes);
  out[0] = layout.reportId;
  out[1 + (layout.zeroBit >> 3)] = 1 << (layout.zeroBit & 7);
  return out;
}

export const hidPosProtocol: ScaleProtocol = {
  id: HID_POS,
  commands: ['zero'],
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(HID_POS, options, ['controlReport']);
    controlLayout(options);
    return new HidPosScaleDecoder();
  },
  linkOptions({ reportDescriptor }): ProtocolOptions {
    if (reportDescriptor === null) return {}; // descriptor unreadable: the usual layout
    const at = findOutputUsage(reportDescriptor, HID_SCALE_PAGE, HID_SCALE_USAGE.zeroScale);
    return { controlReport: at === null ? null : { reportId: at.reportId, zeroBit: at.bitOffset, reportBytes: at.reportBytes } };
  },
  encode(command: ScaleCommand, options?: ProtocolOptions): Uint8Array {
    const layout = controlLayout(options);
    if (command !== 'zero' || layout === null) throw unsupported(HID_POS, command);
    return encodeZeroScale(layout);
  },
};
