/**
 * Serial frames for every scale protocol (device-drivers/src/scale/<protocol>/protocol.ts):
 * each definition's decoder, plus option variants, is fed random bytes and valid frames
 * (built by the simulators' device side from the same protocol modules) mutated, framed with
 * garbage and split at random points. A decoder must never throw, must keep its buffer
 * bounded, and must answer every frame with a result or a coded error frame; a weight must be
 * a finite number of grams.
 */
import { isErrorCode } from '../../../../contracts/errors.js';
import { protocolOf, SCALE_DEFINITIONS } from '../../../../device-drivers/src/scale/index.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame } from '../../../../device-drivers/src/scale/types.js';
import { deviceSide, SIMULATED_PROTOCOLS, type SimulatedProtocol } from '../../../../simulators/src/scale/device-side.js';
import { byteStream, Rng } from '../gen.js';
import { describeThrown, type FuzzTarget, type Tally } from '../harness.js';

/** Far above any protocol's own bound (the longest is MT-SICS' 256-byte line): growth past it is a leak. */
const BUFFER_BOUND = 1024;
const FRAME_TYPES = new Set(['weight', 'status', 'reply', 'device-error', 'error']);

interface Variant {
  name: string;
  create: () => ScaleDecoder;
  valid: (rng: Rng) => Uint8Array;
}

function variants(): Variant[] {
  const out: Variant[] = [];
  const seen = new Set<string>();
  const extra: Array<[string, ProtocolOptions]> = [
    ['toledo-8217', { unit: 'lb' }],
    ['toledo-continuous', { checksum: false }],
    ['aclas-os2x', { mode: 'passive' }],
    ['yaohua-a9', { unit: 'g' }],
    ['yaohua-a9', { unit: 't' }],
  ];
  const configs: Array<[string, ProtocolOptions | undefined]> = [
    ...SCALE_DEFINITIONS.map((d) => [d.protocol, d.options] as [string, ProtocolOptions | undefined]),
    ...extra,
  ];
  for (const [protocol, options] of configs) {
    const key = `${protocol} ${JSON.stringify(options ?? {})}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const p = protocolOf({ protocol } as never);
    if (!p) throw new Error(`no protocol ${protocol}`);
    out.push({ name: key, create: () => p.createDecoder(options), valid: validFrames(protocol, options ?? {}, p.commands) });
  }
  return out;
}

/** Valid device-side bytes: weight frames for random readings and answers to every command. */
function validFrames(protocol: string, options: ProtocolOptions, commands: readonly ScaleCommand[]): (rng: Rng) => Uint8Array {
  if (protocol === 'hid-pos') {
    // USB HID POS scale input report (HID Point of Sale Usage Tables §4.2): report id 3/4,
    // status 1..8, unit 1..12, int8 exponent, uint16 LE weight.
    return (rng) => Uint8Array.of(rng.pick([3, 4]), rng.range(1, 8), rng.range(1, 12), rng.range(-4, 3) & 0xff, rng.int(256), rng.int(256));
  }
  if (!(SIMULATED_PROTOCOLS as readonly string[]).includes(protocol)) throw new Error(`no device side for ${protocol}`);
  const side = deviceSide(protocol as SimulatedProtocol, options);
  return (rng) => {
    const reading = {
      grams: rng.chance(0.2) ? rng.range(-5000, 700_000) : rng.range(0, 30_000) + rng.int(100) / 100,
      stable: rng.chance(0.7),
      tareGrams: rng.chance(0.8) ? 0 : rng.range(0, 5000),
    };
    try {
      if (commands.length > 0 && rng.chance(0.3)) {
        const req = rng.chance(0.9) ? { command: rng.pick(commands) } : { unknown: 'XYZ' };
        return side.answer(req, reading) ?? side.frame(reading);
      }
      return side.frame(reading);
    } catch {
      // A reading the device cannot show (beyond its digits): send an empty frame instead.
      return new Uint8Array(0);
    }
  };
}

function checkFrame(f: ScaleFrame): string | null {
  if (!FRAME_TYPES.has(f.type)) return `unknown frame type ${String(f.type)}`;
  if (typeof f.raw !== 'string') return 'frame without raw text';
  if (f.type === 'error' && !isErrorCode(f.code)) return `error frame with code ${String(f.code)} outside the catalogue`;
  if (f.type === 'weight' && !Number.isFinite(f.grams)) return `weight frame with grams ${f.grams}`;
  if (f.type === 'weight' && f.tareGrams !== undefined && !Number.isFinite(f.tareGrams)) return `tare ${f.tareGrams}`;
  if (f.type === 'reply' && f.grams !== undefined && !Number.isFinite(f.grams)) return `reply grams ${f.grams}`;
  return null;
}

export const serialScalesTarget: FuzzTarget = {
  name: 'serial-scales',
  description: 'every scale protocol decoder (8 protocols, each model definition and option variant): random bytes, mutated valid frames, random splits',
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
          let problem: string | null = null;
          let errorCode: string | null = null;
          try {
            for (const c of chunks) {
              for (const f of decoder.push(c)) {
                problem ??= checkFrame(f);
                if (f.type === 'error') errorCode ??= f.code;
              }
              if (decoder.bufferedBytes > BUFFER_BOUND) problem ??= `buffer grew to ${decoder.bufferedBytes} bytes`;
            }
          } catch (err) {
            problem = `threw ${describeThrown(err)}`;
          }
          if (problem !== null) tally.fail(seed, i, { decoder: v.name, chunks }, problem);
          else if (errorCode !== null) tally.reject(errorCode);
          else tally.accept(); // frames decoded, or bytes held for a frame still incomplete
        }
      },
      async close() {},
    };
  },
};
