/**
 * Aclas (顶尖) OS2X weighing module protocol, as in the "Pinnacle" OS2CX manual.
 *
 * Sources (docs/devices/scales.md): Aclas OS2CX manual, "communication protocol":
 * active mode (default after power-on, ~10 frames/s) 16 bytes
 *   `SOH STX Flag1 Sign W×6 U×2 XOR ETX EOT Flag2`,
 * passive mode: host ENQ → scale ACK, host DC1 → the same frame without Flag2 (15 bytes);
 * zero `<ZK>\t`, tare `<TK>\t`. The ENQ/DC1 poll is the CAS PD/ER convention (docs/devices/scales.md).
 */
import { FixedFramer } from '../../framing/stx-framer.js';
import { asciiBytes, describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, hex2, invalidFrame, oneOf, optionOf, rejectUnknownOptions, unsupported } from '../frames.js';
import { decimalToGrams, isKnownUnit } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const ACLAS_OS2X = 'aclas-os2x';

// ASCII control characters used by the frame and the poll (OS2CX manual, protocol table).
const SOH = 0x01;
const STX = 0x02;
const ETX = 0x03;
const EOT = 0x04;
const ENQ = 0x05;
const ACK = 0x06;
const DC1 = 0x11;

const ACTIVE_LENGTH = 16;
const PASSIVE_LENGTH = 15;
const XOR_END = 12; // XOR covers bytes 0..11 (SOH … second unit char)

/** Flag1 (OS2CX manual): S stable, U unstable, F out of range or not zeroed. */
const FLAG1 = { S: 'stable', U: 'unstable', F: 'fault' } as const;

// Flag2 bits (OS2CX manual, active mode only).
const _FLAG2_ZERO = 1 << 4; // at zero
const FLAG2_TARE = 1 << 5; // tare mode (net)
const FLAG2_OUT_OF_RANGE = 1 << 6; // out of range or not zeroed

export function aclasXor(bytes: Uint8Array): number {
  let x = 0;
  for (let i = 0; i < XOR_END; i++) x ^= bytes[i] ?? 0;
  return x;
}

export interface AclasOptions {
  /** `active`: the module streams 16-byte frames; `passive`: polled with ENQ/DC1, 15-byte answers. */
  readonly mode: 'active' | 'passive';
}

export class AclasOs2xDecoder implements ScaleDecoder {
  readonly #mode: 'active' | 'passive';
  readonly #framer: FixedFramer;

  constructor(options: AclasOptions = { mode: 'active' }) {
    this.#mode = options.mode;
    const length = options.mode === 'active' ? ACTIVE_LENGTH : PASSIVE_LENGTH;
    this.#framer = new FixedFramer({
      headers: [Uint8Array.of(SOH, STX)],
      length,
      isFrame: (c) => c[13] === ETX && c[14] === EOT,
    });
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    if (this.#mode === 'active') return this.#framer.push(chunk).map((c) => this.#chunk(c.kind, c.bytes));
    // Passive mode: a lone ACK answers ENQ and must surface at once (the host waits for it
    // before sending DC1). Outside a frame (fewer than SOH STX buffered) an ACK is that reply;
    // inside a frame it can only be the XOR byte and goes to the framer. Polled traffic is a
    // few bytes per second, so the byte loop costs nothing.
    const out: ScaleFrame[] = [];
    for (const b of chunk) {
      if (b === ACK && this.#framer.bufferedBytes < 2) {
        this.#framer.reset(); // a lone SOH before it was noise
        out.push({ type: 'reply', command: 'ENQ', status: 'done', raw: describeBytes(Uint8Array.of(b)) });
        continue;
      }
      for (const c of this.#framer.push(Uint8Array.of(b))) out.push(this.#chunk(c.kind, c.bytes));
    }
    return out;
  }

  #chunk(kind: 'frame' | 'broken', bytes: Uint8Array): ScaleFrame {
    return kind === 'broken' ? invalidFrame(ACLAS_OS2X, bytes, 'frame cut off (no ETX EOT at bytes 14-15)') : this.#decode(bytes);
  }

  #decode(f: Uint8Array): ScaleFrame {
    const raw = describeBytes(f);
    const expected = aclasXor(f);
    const actual = f[XOR_END] ?? 0;
    if (expected !== actual) return errorFrame('PKL_FRAME_CHECKSUM', ACLAS_OS2X, f, { expected: hex2(expected), actual: hex2(actual) });
    const flag1 = FLAG1[String.fromCharCode(f[2] ?? 0) as keyof typeof FLAG1];
    const sign = f[3];
    if (flag1 === undefined || (sign !== 0x2d /* - */ && sign !== 0x20) /* SP */) {
      return invalidFrame(ACLAS_OS2X, f, 'Flag1 or sign byte out of range');
    }
    const unit = latin1(f, 10, 12).trim();
    const flag2 = this.#mode === 'active' ? (f[15] ?? 0) : 0;
    const outOfRange = flag1 === 'fault' || (flag2 & FLAG2_OUT_OF_RANGE) !== 0;
    const net = (flag2 & FLAG2_TARE) !== 0;
    const grams = isKnownUnit(unit) ? decimalToGrams(`${sign === 0x2d ? '-' : ''}${latin1(f, 4, 10).trim()}`, unit) : undefined;
    if (grams === undefined) {
      // An out-of-range module may show dashes instead of digits: report the state, not an error.
      if (outOfRange) return { type: 'status', stable: false, outOfRange, ...(this.#mode === 'active' ? { net } : {}), raw };
      return isKnownUnit(unit) ? invalidFrame(ACLAS_OS2X, f, 'weight field is not a number') : errorFrame('PKL_FRAME_UNIT_UNKNOWN', ACLAS_OS2X, f, { unit });
    }
    return {
      type: 'weight',
      grams,
      stable: flag1 === 'stable',
      ...(outOfRange ? { outOfRange } : {}),
      ...(this.#mode === 'active' ? { net } : {}),
      raw,
    };
  }
}

/**
 * Commands (OS2CX manual): zero `<ZK>` TAB, tare `<TK>` TAB; passive poll ENQ (answered by
 * ACK) then DC1 (answered by a frame).
 */
export const ACLAS_COMMANDS: Readonly<Partial<Record<ScaleCommand, Uint8Array>>> = {
  enquire: Uint8Array.of(ENQ),
  weigh: Uint8Array.of(DC1),
  zero: asciiBytes('<ZK>\t'),
  tare: asciiBytes('<TK>\t'),
};

/** Switch the module's output mode (OS2CX manual): `<AL>\t` passive, `<PB>\t` active. */
export function encodeAclasModeSwitch(mode: 'active' | 'passive'): Uint8Array {
  return asciiBytes(mode === 'passive' ? '<AL>\t' : '<PB>\t');
}

export const aclasOs2xProtocol: ScaleProtocol = {
  id: ACLAS_OS2X,
  commands: Object.keys(ACLAS_COMMANDS) as ScaleCommand[],
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    rejectUnknownOptions(ACLAS_OS2X, options, ['mode']);
    return new AclasOs2xDecoder({ mode: optionOf(ACLAS_OS2X, options, 'mode', 'active', oneOf('active', 'passive'), '"active" or "passive"') });
  },
  encode(command: ScaleCommand): Uint8Array {
    const bytes = ACLAS_COMMANDS[command];
    if (bytes === undefined) throw unsupported(ACLAS_OS2X, command);
    return bytes.slice();
  },
};

/** Builds a frame (fixtures, simulators): weight text is the 6-char field incl. decimal point. */
export function encodeAclasFrame(f: { flag1: 'S' | 'U' | 'F'; negative: boolean; weight: string; unit: string; flag2?: number }): Uint8Array {
  const head = asciiBytes(`${f.flag1}${f.negative ? '-' : ' '}${f.weight.padStart(6, ' ').slice(-6)}${f.unit.padEnd(2, ' ').slice(0, 2)}`);
  const body = Uint8Array.from([SOH, STX, ...head]);
  const frame = [...body, aclasXor(body), ETX, EOT];
  return Uint8Array.from(f.flag2 === undefined ? frame : [...frame, f.flag2]);
}
