import { describe, expect, it } from 'vitest';
import { findScaleDefinition, protocolOf, SCALE_DEFINITIONS } from '../../../device-drivers/src/scale/index.js';
import type { ScaleDefinition } from '../../../device-drivers/src/scale/types.js';
import { deviceSide, SIMULATED_PROTOCOLS, type SimulatedProtocol } from './device-side.js';

// Each simulated protocol must be decoded by the driver's own decoder to the reading it encoded.
const CASES: [SimulatedProtocol, string][] = [
  ['mt-sics', 'mettler-toledo-mt-sics'],
  ['toledo-8217', 'mettler-toledo-8217'],
  ['toledo-continuous', 'mettler-toledo-continuous'],
  ['yaohua-a9', 'yaohua-xk3190-a9'],
  ['aclas-os2x', 'aclas-os2x'],
  ['cas-22', 'cas-ci-22byte'],
  ['generic-line', 'generic-st-gs-indicator'],
];
/** 8217 sends no weight below zero (DIVA manual): its answer is a status frame, tested below. */
const NO_NEGATIVE_WEIGHT = new Set<SimulatedProtocol>(['toledo-8217']);

function def(id: string): ScaleDefinition {
  const d = findScaleDefinition(id);
  if (!d) throw new Error(`no definition ${id}`);
  return d;
}

describe('simulated scale frames decode with the driver-side protocol modules', () => {
  for (const [protocol, defId] of CASES) {
    it(protocol, () => {
      const d = def(defId);
      const side = deviceSide(protocol, d.options ?? {});
      const decoder = protocolOf(d)!.createDecoder(d.options);
      for (const grams of NO_NEGATIVE_WEIGHT.has(protocol) ? [0, 1234, 15_250] : [0, 1234, 15_250, -40]) {
        const bytes = side.frame({ grams, stable: protocol !== 'yaohua-a9', tareGrams: 0 });
        const frames = decoder.push(bytes);
        expect(frames).toHaveLength(1);
        const f = frames[0]!;
        expect(f.type, JSON.stringify(f)).toBe('weight');
        if (f.type === 'weight') expect(f.grams).toBe(grams);
      }
    });
  }

  it('every serial scale definition has a simulated protocol (the driven-station matrix covers them all)', () => {
    const serial = SCALE_DEFINITIONS.filter((d) => d.transport === 'serial').map((d) => d.protocol);
    expect(serial.filter((p) => !(SIMULATED_PROTOCOLS as readonly string[]).includes(p))).toEqual([]);
  });

  it('toledo-8217 answers W with the stable weight, a status byte in motion or below zero, and Z/T/C with the status', () => {
    const d = def('mettler-toledo-8217');
    const side = deviceSide('toledo-8217', d.options ?? {});
    const decoder = protocolOf(d)!.createDecoder(d.options);
    const reqs = side.receive(Buffer.from('WZTCX'));
    expect(reqs).toEqual([{ command: 'weigh' }, { command: 'zero' }, { command: 'tare' }, { command: 'clearTare' }, { unknown: 'X' }]);
    const w = reqs[0]!;
    expect(Buffer.from(side.answer(w, { grams: 620, stable: true, tareGrams: 0 })!).toString('latin1')).toBe('\x0200.620\r');
    expect(decoder.push(side.answer(w, { grams: 620, stable: true, tareGrams: 0 })!)).toMatchObject([{ type: 'weight', grams: 620, stable: true, net: false }]);
    expect(decoder.push(side.answer(w, { grams: 500, stable: true, tareGrams: 100 })!)).toMatchObject([{ type: 'weight', grams: 500, net: true }]);
    expect(decoder.push(side.answer(w, { grams: 620, stable: false, tareGrams: 0 })!)).toMatchObject([{ type: 'status', stable: false }]);
    expect(decoder.push(side.answer(w, { grams: -40, stable: true, tareGrams: 0 })!)).toMatchObject([{ type: 'status', stable: true, underload: true }]);
    expect(decoder.push(side.answer(reqs[1]!, { grams: 0, stable: true, tareGrams: 0 })!)).toMatchObject([{ type: 'status', zero: true }]);
    expect(side.answer(reqs[4]!, { grams: 0, stable: true, tareGrams: 0 })).toBeNull();
  });

  it('generic-line emits ST,GS lines (unstable = US, tare = NT) and refuses a profile it cannot emit', () => {
    const d = def('generic-st-gs-indicator');
    const side = deviceSide('generic-line', d.options ?? {});
    expect(Buffer.from(side.frame({ grams: 1234, stable: true, tareGrams: 0 })).toString('latin1')).toBe('ST,GS,+  1.234kg\r\n');
    const decoder = protocolOf(d)!.createDecoder(d.options);
    expect(decoder.push(side.frame({ grams: 900, stable: false, tareGrams: 100 }))).toMatchObject([{ type: 'weight', grams: 900, stable: false, net: true }]);
    expect(() => deviceSide('generic-line', { pattern: '^(?<grams>\\d+)$' })).toThrow(/ST,GS/);
  });

  it('mt-sics answers SI / Z / unknown like a balance', () => {
    const side = deviceSide('mt-sics');
    const reqs = side.receive(Buffer.from('SI\r\nZ\r\nXYZ\r\n'));
    expect(reqs).toEqual([{ command: 'weighNow' }, { command: 'zero' }, { unknown: 'XYZ' }]);
    const r = { grams: 100, stable: false, tareGrams: 0 };
    expect(Buffer.from(side.answer(reqs[0]!, r)!).toString()).toBe('S D     100.00 g\r\n');
    expect(Buffer.from(side.answer(reqs[1]!, r)!).toString()).toBe('Z A\r\n');
    expect(Buffer.from(side.answer(reqs[2]!, r)!).toString()).toBe('ES\r\n');
  });

  it('aclas passive: ENQ → ACK, DC1 → 15-byte frame the passive decoder reads', () => {
    const side = deviceSide('aclas-os2x', { mode: 'passive' });
    const reqs = side.receive(Uint8Array.of(0x05, 0x11));
    expect(reqs).toEqual([{ command: 'enquire' }, { command: 'weigh' }]);
    const r = { grams: 2500, stable: true, tareGrams: 0 };
    expect([...side.answer(reqs[0]!, r)!]).toEqual([0x06]);
    const frames = protocolOf(def('aclas-os2x'))!.createDecoder({ mode: 'passive' }).push(side.answer(reqs[1]!, r)!);
    expect(frames).toMatchObject([{ type: 'weight', grams: 2500, stable: true }]);
  });
});
