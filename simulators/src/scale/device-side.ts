/**
 * The device side of each scale protocol, built from the SAME protocol modules the driver
 * decodes with (frame builders, command tables, framers), so a simulator can never drift
 * from the decoder: a change to a protocol module changes both ends.
 *
 * A `DeviceSide` turns a reading into the bytes the scale would send, recognises the host's
 * requests in the bytes it receives, and builds the answer to each.
 */
import { asciiBytes } from '../../../device-drivers/src/framing/bytes.js';
import { LineFramer } from '../../../device-drivers/src/framing/line-framer.js';
import { ACLAS_COMMANDS, encodeAclasFrame } from '../../../device-drivers/src/scale/aclas-os2x/protocol.js';
import { CAS_22_LAMP_BITS } from '../../../device-drivers/src/scale/cas-22/protocol.js';
import { ST_GS_PROFILE } from '../../../device-drivers/src/scale/generic-line/protocol.js';
import { encodeMtSicsCommand, MT_SICS_COMMANDS } from '../../../device-drivers/src/scale/mt-sics/protocol.js';
import { TOLEDO_8217_COMMANDS, TOLEDO_8217_STATUS_BITS } from '../../../device-drivers/src/scale/toledo-8217/protocol.js';
import { encodeToledoContinuousFrame } from '../../../device-drivers/src/scale/toledo-continuous/protocol.js';
import type { ProtocolOptions, ScaleCommand } from '../../../device-drivers/src/scale/types.js';
import { encodeYaohuaFrame } from '../../../device-drivers/src/scale/yaohua-a9/protocol.js';
import { PacklineError } from '../../../contracts/errors.js';

export interface Reading {
  /** Displayed value in grams (net when a tare is active). */
  readonly grams: number;
  readonly stable: boolean;
  readonly tareGrams: number;
}

/** What the host asked for: a neutral command, or bytes the scale does not understand. */
export type HostRequest = { readonly command: ScaleCommand } | { readonly unknown: string };

export interface DeviceSide {
  readonly protocol: string;
  /** True when the scale sends frames by itself (continuous output). */
  readonly streams: boolean;
  /** The weight frame for a reading (streamed, or the answer to a weigh poll). */
  frame(r: Reading): Uint8Array;
  receive(chunk: Uint8Array): HostRequest[];
  /** The answer to a request (null: the scale answers nothing). */
  answer(req: HostRequest, r: Reading): Uint8Array | null;
}

/**
 * Every serial scale protocol in device-drivers/src/scale/ (hid-pos is a USB HID protocol, not a
 * byte stream on a serial line, so it has no device side here).
 */
export const SIMULATED_PROTOCOLS = ['mt-sics', 'toledo-8217', 'toledo-continuous', 'yaohua-a9', 'aclas-os2x', 'cas-22', 'generic-line'] as const;
export type SimulatedProtocol = (typeof SIMULATED_PROTOCOLS)[number];

const CRLF = Uint8Array.of(0x0d, 0x0a);

// ---- MT-SICS (command/response lines) --------------------------------------------------

function mtSics(): DeviceSide {
  const framer = new LineFramer({ delimiter: CRLF, maxLength: 256 });
  const byWord = new Map(Object.entries(MT_SICS_COMMANDS).map(([cmd, word]) => [word, cmd as ScaleCommand]));
  // MT-SICS manual "Response formats": value right-aligned in a 10-character field, then unit.
  const value = (g: number) => g.toFixed(2).padStart(10, ' ');
  const line = encodeMtSicsCommand; // any MT-SICS line + CR LF; responses share the command framing
  return {
    protocol: 'mt-sics',
    streams: false,
    frame: (r) => line(`S ${r.stable ? 'S' : 'D'} ${value(r.grams)} g`),
    receive(chunk) {
      const out: HostRequest[] = [];
      for (const c of framer.push(chunk)) {
        const text = Buffer.from(c.bytes).toString('latin1').trim();
        if (text === '') continue;
        const command = c.kind === 'line' ? byWord.get(text) : undefined;
        out.push(command !== undefined ? { command } : { unknown: text });
      }
      return out;
    },
    answer(req, r) {
      if ('unknown' in req) return line('ES'); // MT-SICS: command not recognised
      switch (req.command) {
        case 'weigh': // `S` answers only a stable weight; `S I` = not executable now
          return r.stable ? line(`S S ${value(r.grams)} g`) : line('S I');
        case 'weighNow':
          return line(`S ${r.stable ? 'S' : 'D'} ${value(r.grams)} g`);
        case 'zero':
          return line('Z A');
        case 'tare':
          return line(`T S ${value(r.tareGrams)} g`);
        case 'clearTare':
          return line('TAC A');
        default:
          return line('ES');
      }
    },
  };
}

// ---- Toledo 8217 (single-letter commands, STX … CR answers) ----------------------------

/**
 * DIVA manual, ECR interface (8217/8213): `W` answers `STX weight [N] CR` only when the scale is
 * stable, not below zero and within capacity, otherwise `STX ? status CR`; `Z`, `T` and `C`
 * answer the status. Weight text: kg `WW.WWW`, lb `WW.WW` (the unit is a setup choice, not in
 * the frame). The status byte's bit 7 is the parity bit of the 7E1 line: sent as 0 (pseudo-
 * terminals do not emulate parity; the decoder masks it either way).
 */
function toledo8217(options: ProtocolOptions): DeviceSide {
  const lb = options['unit'] === 'lb';
  const byLetter = new Map(Object.entries(TOLEDO_8217_COMMANDS).map(([cmd, letter]) => [letter, cmd as ScaleCommand]));
  const bit = (name: (typeof TOLEDO_8217_STATUS_BITS)[number]) => 1 << TOLEDO_8217_STATUS_BITS.indexOf(name);
  const STX = 0x02;
  const CR = 0x0d;
  /** A display capacity of 99.999 kg / 99.99 lb (two integer digits in the weight field). */
  const capacityGrams = lb ? Math.floor(99.99 * 453.59237) : 99_999;
  const status = (r: Reading) =>
    Uint8Array.of(
      STX,
      0x3f, // '?'
      bit('alwaysOne') |
        (r.stable ? 0 : bit('motion')) |
        (r.grams > capacityGrams ? bit('overCapacity') : 0) |
        (r.grams < 0 ? bit('underZero') : 0) |
        (r.grams === 0 ? bit('centerOfZero') : 0) |
        (r.tareGrams !== 0 ? bit('netWeight') : 0),
      CR,
    );
  const weight = (r: Reading) => {
    const text = lb ? (r.grams / 453.59237).toFixed(2).padStart(5, '0') : (r.grams / 1000).toFixed(3).padStart(6, '0');
    return Uint8Array.from([STX, ...asciiBytes(text), ...(r.tareGrams !== 0 ? [0x4e /* N */] : []), CR]);
  };
  const answerWeigh = (r: Reading) => (r.stable && r.grams >= 0 && r.grams <= capacityGrams ? weight(r) : status(r));
  return {
    protocol: 'toledo-8217',
    streams: false,
    frame: answerWeigh,
    receive(chunk) {
      const out: HostRequest[] = [];
      // One letter per command, no terminator (Odoo commandTerminator b'').
      for (const b of chunk) {
        const letter = String.fromCharCode(b & 0x7f);
        const command = byLetter.get(letter);
        out.push(command !== undefined ? { command } : { unknown: letter });
      }
      return out;
    },
    answer(req, r) {
      // The manual defines no answer to an unknown letter: the scale stays silent.
      if ('unknown' in req) return null;
      return req.command === 'weigh' ? answerWeigh(r) : status(r);
    },
  };
}

// ---- Toledo continuous (18-byte stream) ------------------------------------------------

function toledoContinuous(options: ProtocolOptions): DeviceSide {
  const checksum = options['checksum'] !== false;
  return {
    protocol: 'toledo-continuous',
    streams: true,
    frame(r) {
      // WILDCAT tables 6-9..6-11: bit 5 always 1; SWA 010 = no decimal point; SWC 001 = grams;
      // SWB bit0 net, bit1 negative, bit3 motion.
      const swa = 0x20 | 0b010;
      const swb = 0x20 | (r.tareGrams !== 0 ? 0x01 : 0) | (r.grams < 0 ? 0x02 : 0) | (r.stable ? 0 : 0x08);
      const swc = 0x20 | 0b001;
      return encodeToledoContinuousFrame({ swa, swb, swc, weight: Math.round(Math.abs(r.grams)), tare: Math.round(r.tareGrams), checksum });
    },
    receive: () => [],
    answer: () => null,
  };
}

// ---- Yaohua XK3190-A9 tF=0 (12-byte stream, no stable flag) ----------------------------

function yaohua(options: ProtocolOptions): DeviceSide {
  const unit = (options['unit'] as string | undefined) ?? 'kg';
  // Display decimals for the calibrated unit: kg shown with 3 places = whole grams.
  const decimals = unit === 'g' ? 0 : 3;
  const perUnitCount = unit === 'g' ? 1 : unit === 'kg' ? 1 : unit === 't' ? 1e-3 : 1 / 0.45359237;
  return {
    protocol: 'yaohua-a9',
    streams: true,
    frame: (r) => encodeYaohuaFrame(Math.round(r.grams * perUnitCount), decimals),
    receive: () => [],
    answer: () => null,
  };
}

// ---- Aclas OS2X (active stream or passive ENQ/DC1) --------------------------------------

function aclas(options: ProtocolOptions): DeviceSide {
  const passive = options['mode'] === 'passive';
  const table = Object.entries(ACLAS_COMMANDS).map(([cmd, bytes]) => [cmd as ScaleCommand, Buffer.from(bytes as Uint8Array).toString('latin1')] as const);
  let pending = '';
  const kg = (g: number) => {
    const abs = Math.abs(g) / 1000;
    for (const places of [3, 2, 1, 0]) {
      const t = abs.toFixed(places);
      if (t.length <= 6) return t;
    }
    return '999999';
  };
  const frame = (r: Reading, withFlag2: boolean) =>
    encodeAclasFrame({
      flag1: r.stable ? 'S' : 'U',
      negative: r.grams < 0,
      weight: kg(r.grams),
      unit: 'kg',
      // OS2CX manual Flag2: bit4 at zero, bit5 tare mode.
      ...(withFlag2 ? { flag2: (r.grams === 0 ? 1 << 4 : 0) | (r.tareGrams !== 0 ? 1 << 5 : 0) } : {}),
    });
  return {
    protocol: 'aclas-os2x',
    streams: !passive,
    frame: (r) => frame(r, !passive),
    receive(chunk) {
      pending = (pending + Buffer.from(chunk).toString('latin1')).slice(-64);
      const out: HostRequest[] = [];
      for (;;) {
        let best: { cmd: ScaleCommand; at: number; len: number } | undefined;
        for (const [cmd, text] of table) {
          const at = pending.indexOf(text);
          if (at >= 0 && (best === undefined || at < best.at)) best = { cmd, at, len: text.length };
        }
        if (best === undefined) break;
        out.push({ command: best.cmd });
        pending = pending.slice(best.at + best.len);
      }
      return out;
    },
    answer(req, r) {
      if ('unknown' in req) return null;
      if (req.command === 'enquire') return Uint8Array.of(0x06); // ACK
      if (req.command === 'weigh') return frame(r, false); // passive answer: no Flag2
      return null;
    },
  };
}

// ---- CAS 22-byte (stream) -------------------------------------------------------------

/**
 * CAS manual "RS-232C data format (22 byte)": `H1 , H2 , ID LAMP , DDDDDDDD SP UU CR LF`.
 * The protocol module has no frame builder (it only decodes), so the layout is built here
 * from its exported lamp-bit table.
 */
function cas22(): DeviceSide {
  const bit = (name: (typeof CAS_22_LAMP_BITS)[number]) => 1 << CAS_22_LAMP_BITS.indexOf(name);
  return {
    protocol: 'cas-22',
    streams: true,
    frame(r) {
      const h1 = r.stable ? 'ST' : 'US';
      const h2 = r.tareGrams !== 0 ? 'NT' : 'GS';
      const lamp = bit('alwaysOne') | (r.stable ? bit('stable') : 0) | (r.grams === 0 ? bit('zero') : 0) | (r.tareGrams !== 0 ? bit('tare') : bit('gross'));
      const data = `${r.grams < 0 ? '-' : '+'}${(Math.abs(r.grams) / 1000).toFixed(3)}`.padStart(8, ' ').slice(-8);
      return Uint8Array.from([...asciiBytes(`${h1},${h2},`), 0x31 /* ID '1' */, lamp, 0x2c, ...asciiBytes(`${data} kg`), ...CRLF]);
    },
    receive: () => [],
    answer: () => null,
  };
}

// ---- Generic line, ST,GS profile (CR LF stream) ---------------------------------------

/**
 * The `ST,GS,+  1.234kg` CR LF indicator (Excell AM4 manual / 计重秤RS232格式说明; the
 * generic-line protocol's ST_GS_PROFILE): head1 ST (stable) / US (unstable) / OL (overload),
 * head2 GS (gross) / NT (net), sign, 7 data characters, unit. The generic-line protocol reads
 * any line layout a profile's regex describes; the simulator emits only this one, so a profile
 * with another pattern is refused rather than silently fed lines it cannot parse.
 */
function genericLine(options: ProtocolOptions): DeviceSide {
  const pattern = options['pattern'];
  if (pattern !== undefined && pattern !== ST_GS_PROFILE.pattern) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'generic-line simulator: only the ST,GS profile (ST_GS_PROFILE) can be emitted' });
  }
  /** 7 data characters in kg with 3 decimals: 9999.999 kg is the widest reading. */
  const capacityGrams = 9_999_999;
  return {
    protocol: 'generic-line',
    streams: true,
    frame(r) {
      const over = Math.abs(r.grams) > capacityGrams;
      const head1 = over ? 'OL' : r.stable ? 'ST' : 'US';
      const head2 = r.tareGrams !== 0 ? 'NT' : 'GS';
      const data = over ? ''.padStart(7, ' ') : (Math.abs(r.grams) / 1000).toFixed(3).padStart(7, ' ');
      return Uint8Array.from([...asciiBytes(`${head1},${head2},${r.grams < 0 ? '-' : '+'}${data}kg`), ...CRLF]);
    },
    receive: () => [],
    answer: () => null,
  };
}

export function deviceSide(protocol: SimulatedProtocol, options: ProtocolOptions = {}): DeviceSide {
  switch (protocol) {
    case 'mt-sics':
      return mtSics();
    case 'toledo-8217':
      return toledo8217(options);
    case 'toledo-continuous':
      return toledoContinuous(options);
    case 'yaohua-a9':
      return yaohua(options);
    case 'aclas-os2x':
      return aclas(options);
    case 'cas-22':
      return cas22();
    case 'generic-line':
      return genericLine(options);
  }
}
