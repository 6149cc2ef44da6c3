/**
 * USB HID POS barcode scanners (usage page 0x8C "Bar Code Scanner", USB HID Point of Sale
 * Usage Tables 1.02): the scanner sends the code as data reports instead of typing it, so the
 * keyboard layout does not matter and the OS does not type it into the console.
 *
 * Input report layout (Honeywell/Access-IS "HID POS" mode, docs/devices/scanners.md), 64 bytes:
 *   byte 0      report id 0x02 (Scanned Data Report)
 *   byte 1      number of data bytes in this report (0..56)
 *   bytes 2–4   AIM symbology identifier, `]` + code char + modifier (ISO/IEC 15424), or 0s
 *   bytes 5–60  data (56 bytes, NUL padded)
 *   byte 61     vendor code id (Honeywell Code ID), byte 62 reserved
 *   byte 63     bit 0: more reports follow — a long code is split; concatenate until it clears
 * Microscan and others use other layouts (unverified here; add an option when one is captured).
 */
import { PacklineError } from '../../../contracts/errors.js';
import { describeBytes, latin1 } from '../framing/bytes.js';
import { FixedFramer } from '../framing/stx-framer.js';
import type { ScannerDecoder, ScannerFrame } from './types.js';

export const HID_POS_SCANNER = 'hid-pos-scanner';

export const HID_POS_REPORT = {
  length: 64,
  reportId: 0x02,
  lengthAt: 1,
  aimAt: 2,
  dataAt: 5,
  maxData: 56,
  codeIdAt: 61,
  flagsAt: 63,
  /** byte 63 bit 0: further reports carry the rest of this code. */
  moreData: 0x01,
} as const;

export interface HidPosScannerOptions {
  /** Report id of the scanned data report; default 0x02. */
  readonly reportId?: number;
  /** Most reports one code may span (bounds memory on a stuck "more" flag); default 32 (1792 bytes). */
  readonly maxReports?: number;
  /**
   * Longest gap between two reports of one code, ms: the reports of a long code follow each
   * other within one USB poll interval or so; after a longer gap the code whose "more" flag was
   * still set was cut off and the next report starts a new code. Used when `push` gets times.
   */
  readonly maxReportGapMs?: number;
}

export class HidPosScannerDecoder implements ScannerDecoder {
  readonly #framer: FixedFramer;
  readonly #maxReports: number;
  #parts: Uint8Array[] = [];
  #aim: string | undefined;
  /** After an overlong code: drop reports up to the one that clears the more-data flag. */
  #discarding = false;
  readonly #maxGapMs: number | undefined;
  #lastReportAt: number | null = null;

  constructor(options: HidPosScannerOptions = {}) {
    const reportId = options.reportId ?? HID_POS_REPORT.reportId;
    const maxReports = options.maxReports ?? 32;
    if (!Number.isInteger(reportId) || reportId < 1 || reportId > 255) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${HID_POS_SCANNER}: "reportId" must be 1..255` });
    }
    if (!Number.isInteger(maxReports) || maxReports < 1) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${HID_POS_SCANNER}: "maxReports" must be a positive integer` });
    }
    if (options.maxReportGapMs !== undefined && !(Number.isFinite(options.maxReportGapMs) && options.maxReportGapMs > 0)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${HID_POS_SCANNER}: "maxReportGapMs" must be a positive number` });
    }
    this.#maxReports = maxReports;
    this.#maxGapMs = options.maxReportGapMs;
    this.#framer = new FixedFramer({
      headers: [Uint8Array.of(reportId)],
      length: HID_POS_REPORT.length,
      isFrame: plausibleReport,
    });
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  get pending(): boolean {
    return this.#framer.bufferedBytes > 0 || this.#parts.length > 0 || this.#discarding;
  }

  reset(): void {
    this.#lastReportAt = null;
    this.#framer.reset();
    this.#parts = [];
    this.#aim = undefined;
    this.#discarding = false;
  }

  /**
   * The stream went idle or ended: a report cut short (bytes of a replayed stream) and a code
   * whose last report never came (scanner unplugged mid-code) are dropped with errors, so
   * neither is glued to what comes next.
   */
  flush(): ScannerFrame[] {
    const out: ScannerFrame[] = [];
    if (this.#framer.bufferedBytes > 0) {
      const held = this.#framer.takeBuffered();
      out.push(invalid(`report cut short at ${held.length} of ${HID_POS_REPORT.length} bytes`, describeBytes(held)));
    }
    out.push(...this.#dropPartial());
    this.#discarding = false;
    return out;
  }

  push(chunk: Uint8Array, at?: number): ScannerFrame[] {
    const out: ScannerFrame[] = [];
    for (const c of this.#framer.push(chunk)) {
      if (c.kind === 'broken') {
        out.push(invalid(`data length over ${HID_POS_REPORT.maxData}, data padding not NUL, or report cut short`, describeBytes(c.bytes)));
        continue;
      }
      if (at !== undefined) {
        const last = this.#lastReportAt;
        this.#lastReportAt = at;
        if (last !== null && this.#maxGapMs !== undefined && at - last > this.#maxGapMs) {
          out.push(...this.#dropPartial());
          this.#discarding = false;
        }
      }
      out.push(...this.#report(c.bytes));
    }
    return out;
  }

  #dropPartial(): ScannerFrame[] {
    if (this.#parts.length === 0) return [];
    const raw = this.#parts.map((p) => describeBytes(p)).join('');
    this.#parts = [];
    this.#aim = undefined;
    return [invalid('code ended without its last report (more-data flag still set)', raw)];
  }

  #report(r: Uint8Array): ScannerFrame[] {
    const more = ((r[HID_POS_REPORT.flagsAt] ?? 0) & HID_POS_REPORT.moreData) !== 0;
    if (this.#discarding) {
      this.#discarding = more;
      return [];
    }
    const n = r[HID_POS_REPORT.lengthAt] ?? 0;
    const aimBytes = r.subarray(HID_POS_REPORT.aimAt, HID_POS_REPORT.dataAt);
    if (this.#parts.length === 0 && aimBytes[0] === 0x5d /* ] */) this.#aim = latin1(aimBytes);
    this.#parts.push(r.slice(HID_POS_REPORT.dataAt, HID_POS_REPORT.dataAt + n));
    if (more) {
      if (this.#parts.length < this.#maxReports) return [];
      const raw = this.#parts.map((p) => describeBytes(p)).join('');
      this.#parts = [];
      this.#aim = undefined;
      this.#discarding = true;
      return [invalid(`code spans more than ${this.#maxReports} reports`, raw)];
    }
    const code = this.#parts.map((p) => latin1(p)).join('');
    const aim = this.#aim;
    this.#parts = [];
    this.#aim = undefined;
    if (code === '') return [invalid('scanned data report without data', describeBytes(r))];
    return [aim === undefined ? { type: 'scan', code, end: 'report' } : { type: 'scan', code, symbology: aim, end: 'report' }];
  }
}

/**
 * Structural check of a 64-byte candidate: a data length that fits the report, and the data
 * area after it NUL padded (the layout above). The padding check is what tells a report cut
 * short with the next report's bytes behind it from a real one; otherwise resync on the next id.
 */
function plausibleReport(c: Uint8Array): boolean {
  const n = c[HID_POS_REPORT.lengthAt] ?? 0xff;
  if (n > HID_POS_REPORT.maxData) return false;
  for (let i = HID_POS_REPORT.dataAt + n; i < HID_POS_REPORT.dataAt + HID_POS_REPORT.maxData; i++) if (c[i] !== 0) return false;
  return true;
}

function invalid(reason: string, raw: string): ScannerFrame {
  return { type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: HID_POS_SCANNER, reason }, raw };
}

/** Encodes `code` as the report(s) a HID POS scanner sends — for fixtures and simulators. */
export function encodeHidPosReports(code: string, aim = '', reportId: number = HID_POS_REPORT.reportId): Uint8Array {
  const bytes = Buffer.from(code, 'latin1');
  const count = Math.max(1, Math.ceil(bytes.length / HID_POS_REPORT.maxData));
  const out = new Uint8Array(count * HID_POS_REPORT.length);
  for (let i = 0; i < count; i++) {
    const part = bytes.subarray(i * HID_POS_REPORT.maxData, (i + 1) * HID_POS_REPORT.maxData);
    const base = i * HID_POS_REPORT.length;
    out[base] = reportId;
    out[base + HID_POS_REPORT.lengthAt] = part.length;
    out.set(Buffer.from(aim.slice(0, 3), 'latin1'), base + HID_POS_REPORT.aimAt);
    out.set(part, base + HID_POS_REPORT.dataAt);
    out[base + HID_POS_REPORT.flagsAt] = i < count - 1 ? HID_POS_REPORT.moreData : 0;
  }
  return out;
}
