/**
 * CAS 22-byte weight format (CI-series indicators, streamed or on print).
 *
 * Sources (docs/devices/scales.md): CAS CI-400 / CI-600D / CI-150A / PDI / NT-200 manuals,
 * "RS-232C data format (22 byte)": `H1H1 , H2H2 , ID LAMP , DDDDDDDD SP UU CR LF`.
 */
import { LineFramer } from '../../framing/line-framer.js';
import { describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, invalidFrame, rejectUnknownOptions, unsupported } from '../frames.js';
import { decimalToGrams, isKnownUnit } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const CAS_22 = 'cas-22';

const CRLF = new Uint8Array([0x0d, 0x0a]); // frame ends CR LF
/** Frame length without CR LF (22 − 2). */
export const CAS_22_BODY = 20;

/** Header 1 (CAS manual): stable / unstable / overload. */
const H1 = { ST: 'stable', US: 'unstable', OL: 'overload' } as const;
/** Header 2 (CAS manual): gross / net. */
const H2 = { GS: 'gross', NT: 'net' } as const;

/**
 * LAMP byte (CAS manual, lamp status table). Index = bit number; bit 7 is always 1 (so the
 * byte can never be CR or LF). Decoded for `stable` cross-checks only; header 1 rules.
 */
export const CAS_22_LAMP_BITS = ['zero', 'tare', 'gross', 'printer', 'hold', 'model', 'stable', 'alwaysOne'] as const;

const HEADER_RE = /^(ST|US|OL),(GS|NT),$/;

function looksLikeHeader(bytes: Uint8Array, at: number): boolean {
  return HEADER_RE.test(latin1(bytes, at, at + 6));
}

export class Cas22Decoder implements ScaleDecoder {
  // A line may hold a cut-off frame glued to a good one: allow two frames' worth, resync inside.
  readonly #framer = new LineFramer({ delimiter: CRLF, maxLength: 2 * CAS_22_BODY + 2 });

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
        out.push(invalidFrame(CAS_22, c.bytes, 'no CR LF where a 22-byte frame must end'));
        continue;
      }
      const line = c.bytes;
      if (line.length === 0) continue;
      if (line.length > CAS_22_BODY && looksLikeHeader(line, line.length - CAS_22_BODY)) {
        // The tail is a whole frame; what precedes it is a cut-off frame or line noise.
        const head = line.subarray(0, line.length - CAS_22_BODY);
        if (head.some((_, i) => looksLikeHeader(head, i))) out.push(invalidFrame(CAS_22, head, 'frame cut off'));
        out.push(this.#decode(line.subarray(line.length - CAS_22_BODY)));
        continue;
      }
      if (line.length !== CAS_22_BODY) {
        out.push(invalidFrame(CAS_22, line, `frame is ${line.length + 2} bytes, expected 22`));
        continue;
      }
      out.push(this.#decode(line));
    }
    return out;
  }

  #decode(f: Uint8Array): ScaleFrame {
    const raw = describeBytes(f);
    const head = /^(ST|US|OL),(GS|NT),$/.exec(latin1(f, 0, 6));
    const lamp = f[7] ?? 0;
    if (head === null || f[8] !== 0x2c /* , */ || f[17] !== 0x20 /* SP */ || (lamp & 0x80) === 0) {
      return invalidFrame(CAS_22, f, 'header, separators or lamp byte out of place');
    }
    const h1 = H1[(head[1] ?? 'ST') as keyof typeof H1];
    const net = H2[(head[2] ?? 'GS') as keyof typeof H2] === 'net';
    const unit = latin1(f, 18, 20).trim();
    const data = latin1(f, 9, 17);
    if (h1 === 'overload') {
      // Overload frames may carry no number (display shows OL).
      const grams = isKnownUnit(unit) ? decimalToGrams(data, unit) : undefined;
      return grams === undefined
        ? { type: 'status', stable: false, overload: true, net, raw }
        : { type: 'weight', grams, stable: false, overload: true, net, raw };
    }
    if (!isKnownUnit(unit)) return errorFrame('PKL_FRAME_UNIT_UNKNOWN', CAS_22, f, { unit });
    const grams = decimalToGrams(data, unit);
    if (grams === undefined) return invalidFrame(CAS_22, f, 'weight field is not a number');
    return { type: 'weight', grams, stable: h1 === 'stable', net, raw };
  }
}

export const cas22Protocol: ScaleProtocol = {
  id: CAS_22,
  commands: [], // streaming / print-key output
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(CAS_22, options, []);
    return new Cas22Decoder();
  },
  encode(command: ScaleCommand): Uint8Array {
    throw unsupported(CAS_22, command);
  },
};
