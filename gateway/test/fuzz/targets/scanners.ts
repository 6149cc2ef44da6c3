/**
 * Scanner decoders (device-drivers/src/scanner/): serial lines, evdev input_event streams
 * (64- and 32-bit), HID keyboard boot reports (us/de/fr layouts, with and without report id)
 * and HID POS scanner reports, each followed by the scan post-processor exactly as the scanner
 * driver runs them. Inputs: random bytes and mutated valid streams, split at random points,
 * ending with an idle flush. A decoded scan must become a `scan` payload the contract accepts
 * (decodeEvent), or be refused with a coded error.
 */
import { isErrorCode } from '../../../../contracts/errors.js';
import { decodeEvent } from '../../../../contracts/validate.js';
import { EV_KEY, EV_MSC, EV_SYN, EVDEV_TO_HID_USAGE, EvdevDecoder, encodeInputEvent, type WordSize } from '../../../../device-drivers/src/scanner/evdev.js';
import { bootReportsFor, HidKeyboardDecoder } from '../../../../device-drivers/src/scanner/hid-keyboard.js';
import { encodeHidPosReports, HidPosScannerDecoder } from '../../../../device-drivers/src/scanner/hid-pos.js';
import { ScanPostprocessor } from '../../../../device-drivers/src/scanner/postprocess.js';
import { SerialScannerDecoder } from '../../../../device-drivers/src/scanner/serial-scanner.js';
import type { ScannerDecoder, ScannerFrame } from '../../../../device-drivers/src/scanner/types.js';
import { byteStream, concat, Rng } from '../gen.js';
import { describeThrown, type FuzzTarget, type Tally } from '../harness.js';

const BUFFER_BOUND = 4096;

interface Variant {
  name: string;
  create: () => ScannerDecoder;
  valid: (rng: Rng) => Uint8Array;
}

const CODE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./ ]';

function randomCode(rng: Rng): string {
  const prefix = rng.chance(0.2) ? rng.pick([']C1', ']E0', ']Q1', ']d2']) : '';
  let s = prefix;
  const n = rng.range(0, rng.chance(0.05) ? 200 : 24);
  for (let i = 0; i < n; i++) s += rng.chance(0.02) ? String.fromCharCode(rng.int(256)) : CODE_CHARS[rng.int(CODE_CHARS.length)];
  return s;
}

/** Keyboard usages 0x04..0x38 (letters, digits, punctuation) with or without Shift; Enter (0x28) at the end. */
function keyboardPresses(rng: Rng): Array<[number, number]> {
  const presses: Array<[number, number]> = [];
  const n = rng.range(0, 20);
  for (let i = 0; i < n; i++) presses.push([rng.chance(0.3) ? 0x02 : rng.chance(0.05) ? 0x40 : 0, rng.range(0x04, 0x38)]);
  if (rng.chance(0.9)) presses.push([0, rng.chance(0.9) ? 0x28 : 0x2b]);
  return presses;
}

const EVDEV_KEYS = Object.keys(EVDEV_TO_HID_USAGE).map(Number);
const KEY_LEFTSHIFT = 42;
const KEY_ENTER = 28;

function evdevStream(rng: Rng, ws: WordSize): Uint8Array {
  const e = (type: number, code: number, value: number) => encodeInputEvent({ sec: 1_700_000_000, usec: rng.int(1_000_000), type, code, value }, ws);
  const parts: Uint8Array[] = [];
  const n = rng.range(0, 16);
  for (let i = 0; i < n + 1; i++) {
    const code = i === n ? KEY_ENTER : rng.pick(EVDEV_KEYS);
    const shift = rng.chance(0.25);
    if (shift) parts.push(e(EV_KEY, KEY_LEFTSHIFT, 1));
    parts.push(e(EV_MSC, 4, 0x70000), e(EV_KEY, code, 1), e(EV_SYN, 0, 0), e(EV_KEY, code, rng.chance(0.05) ? 2 : 0), e(EV_SYN, 0, 0));
    if (shift) parts.push(e(EV_KEY, KEY_LEFTSHIFT, 0));
  }
  return concat(parts);
}

function variants(): Variant[] {
  const out: Variant[] = [];
  for (const terminator of ['cr', 'lf', 'crlf', 'any'] as const) {
    const end = { cr: '\r', lf: '\n', crlf: '\r\n', any: '\r\n' }[terminator];
    out.push({
      name: `serial-scanner ${terminator}`,
      create: () => new SerialScannerDecoder({ terminator }),
      valid: (rng) => Buffer.from(`${randomCode(rng)}${rng.chance(0.9) ? end : ''}`, 'latin1'),
    });
  }
  for (const ws of [64, 32] as const) {
    for (const layout of ['us', 'de']) {
      out.push({ name: `evdev ${ws} ${layout}`, create: () => new EvdevDecoder({ wordSize: ws, layout }), valid: (rng) => evdevStream(rng, ws) });
    }
  }
  for (const layout of ['us', 'de', 'fr']) {
    out.push({ name: `hid-keyboard ${layout}`, create: () => new HidKeyboardDecoder({ layout }), valid: (rng) => bootReportsFor(keyboardPresses(rng)) });
  }
  out.push({
    name: 'hid-keyboard report id 1',
    create: () => new HidKeyboardDecoder({ reportId: 1 }),
    valid: (rng) => {
      const boot = bootReportsFor(keyboardPresses(rng));
      const parts: Uint8Array[] = [];
      for (let i = 0; i < boot.length; i += 8) parts.push(Uint8Array.of(1), boot.subarray(i, i + 8));
      return concat(parts);
    },
  });
  out.push({
    name: 'hid-pos-scanner',
    create: () => new HidPosScannerDecoder(),
    valid: (rng) => {
      try {
        return encodeHidPosReports(randomCode(rng), rng.chance(0.5) ? rng.pick([']C1', ']E0', ']Q1']) : '');
      } catch {
        return new Uint8Array(0);
      }
    },
  });
  return out;
}

export const scannersTarget: FuzzTarget = {
  name: 'scanners',
  description:
    'every scanner decoder (serial ×4 terminators, evdev 64/32-bit, HID keyboard us/de/fr and report id, HID POS) + scan post-processing → scan payload contract',
  batchSize: 20_000,
  async open() {
    const all = variants();
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        for (let i = 0; i < count; i++) {
          const v = all[i % all.length] as Variant;
          const chunks = byteStream(rng, () => v.valid(rng));
          const decoder = v.create();
          const post = new ScanPostprocessor({ aimId: rng.chance(0.8) ? 'extract' : 'keep', duplicateWindowMs: rng.chance(0.5) ? 0 : 500 });
          let problem: string | null = null;
          let errorCode: string | null = null;
          const handle = (frames: ScannerFrame[]) => {
            for (const f of frames) {
              if (f.type === 'error') {
                if (!isErrorCode(f.code)) problem ??= `error frame with code ${String(f.code)} outside the catalogue`;
                errorCode ??= f.code;
                continue;
              }
              if (f.type !== 'scan' || typeof f.code !== 'string') {
                problem ??= `unexpected frame ${JSON.stringify(f)}`;
                continue;
              }
              const r = post.process(f, 0);
              if (r.type === 'error') {
                if (!isErrorCode(r.code)) problem ??= `post-processor code ${String(r.code)} outside the catalogue`;
                errorCode ??= r.code;
              } else if (r.type === 'scan') {
                // What the scanner driver would publish must pass the gateway's edge validation.
                const payload: Record<string, unknown> = { msg_id: 'fuzz-1', code: r.code, ts: 0 };
                if (r.symbology !== undefined) payload.symbology = r.symbology;
                const checked = decodeEvent('scan', JSON.stringify(payload));
                if (!checked.ok)
                  problem ??= `decoded scan fails the scan contract: ${checked.code} ${JSON.stringify(checked.details)} for ${JSON.stringify(payload)}`;
              }
            }
          };
          try {
            for (const c of chunks) {
              handle(decoder.push(c));
              if (decoder.bufferedBytes > BUFFER_BOUND) problem ??= `buffer grew to ${decoder.bufferedBytes} bytes`;
            }
            handle(decoder.flush());
          } catch (err) {
            problem = `threw ${describeThrown(err)}`;
          }
          if (problem !== null) tally.fail(seed, i, { decoder: v.name, chunks }, problem);
          else if (errorCode !== null) tally.reject(errorCode);
          else tally.accept();
        }
      },
      async close() {},
    };
  },
};
