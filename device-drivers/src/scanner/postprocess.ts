/**
 * What happens to a decoded code before it becomes a `scan` event: strip the prefix/suffix
 * the scanner was programmed to add, take a leading AIM symbology identifier off into
 * `symbology`, check the result is a barcode the contract accepts, and drop a repeated read of
 * the same code within a window (presentation scanners re-read a code left under them;
 * Honeywell calls the setting "Reread Delay"). Pure: the caller passes the time.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { BARCODE_PATTERN } from '../../../contracts/payloads.js';
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import type { ScanFrame } from './types.js';

export const SCAN_POSTPROCESS = 'scan-postprocess';

/**
 * AIM symbology identifier (ISO/IEC 15424 §4): `]`, a symbology code character (letter), a
 * modifier character (digit or letter), e.g. `]C1` GS1-128, `]E0` EAN-13, `]Q1` QR, `]d2` GS1 DataMatrix.
 */
const AIM_ID_RE = /^\][A-Za-z][0-9A-Za-z]/;
const BARCODE_RE = new RegExp(BARCODE_PATTERN);

export interface ScanPostprocessOptions {
  /** Literal prefix to strip when present (scanner "prefix" setting). */
  readonly prefix?: string;
  /** Literal suffix to strip when present. */
  readonly suffix?: string;
  /** `extract`: a leading AIM id goes to `symbology` (default); `keep`: left in the code. */
  readonly aimId?: 'extract' | 'keep';
  /** Same code again within this many ms of the last accepted read is a duplicate; 0 = off. Default 0. */
  readonly duplicateWindowMs?: number;
}

export type ScanResult =
  | { readonly type: 'scan'; readonly code: string; readonly symbology?: string }
  | { readonly type: 'duplicate'; readonly code: string }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly detail: ErrorDetails; readonly raw: string };

export class ScanPostprocessor {
  readonly #o: Required<ScanPostprocessOptions>;
  #last: { code: string; at: number } | null = null;

  constructor(options: ScanPostprocessOptions = {}) {
    const window = options.duplicateWindowMs ?? 0;
    if (!Number.isFinite(window) || window < 0) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SCAN_POSTPROCESS}: "duplicateWindowMs" must be >= 0` });
    }
    if (options.aimId !== undefined && options.aimId !== 'extract' && options.aimId !== 'keep') {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SCAN_POSTPROCESS}: "aimId" must be extract or keep` });
    }
    this.#o = { prefix: options.prefix ?? '', suffix: options.suffix ?? '', aimId: options.aimId ?? 'extract', duplicateWindowMs: window };
  }

  /** `nowMs` is any monotonic clock in milliseconds. */
  process(frame: Pick<ScanFrame, 'code' | 'symbology'>, nowMs: number): ScanResult {
    let code = frame.code;
    let symbology = frame.symbology;
    const { prefix, suffix } = this.#o;
    if (prefix !== '' && code.startsWith(prefix)) code = code.slice(prefix.length);
    if (suffix !== '' && code.endsWith(suffix)) code = code.slice(0, code.length - suffix.length);
    if (this.#o.aimId === 'extract' && AIM_ID_RE.test(code)) {
      symbology ??= code.slice(0, 3);
      code = code.slice(3);
    }
    if (!BARCODE_RE.test(code)) {
      return {
        type: 'error',
        code: 'PKL_FRAME_INVALID',
        detail: { protocol: SCAN_POSTPROCESS, reason: code === '' ? 'empty code' : 'code has characters outside printable ASCII/GS or is over 128 long' },
        raw: frame.code,
      };
    }
    const w = this.#o.duplicateWindowMs;
    if (w > 0 && this.#last !== null && this.#last.code === code && nowMs - this.#last.at < w) {
      return { type: 'duplicate', code };
    }
    this.#last = { code, at: nowMs };
    return symbology === undefined ? { type: 'scan', code } : { type: 'scan', code, symbology };
  }
}
