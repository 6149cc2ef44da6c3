import { describe, expect, it } from 'vitest';
import { findScaleDefinition, protocolOf } from '../../../device-drivers/src/scale/index.js';
import type { ScaleDefinition } from '../../../device-drivers/src/scale/types.js';
import { deviceSide, type SimulatedProtocol } from './device-side.js';

// Each simulated protocol must be decoded by the driver's own decoder to the reading it encoded.
const CASES: [SimulatedProtocol, string][] = [
  ['mt-sics', 'mettler-toledo-mt-sics'],
  ['toledo-continuous', 'mettler-toledo-continuous'],
  ['yaohua-a9', 'yaohua-xk3190-a9'],
  ['aclas-os2x', 'aclas-os2x'],
  ['cas-22', 'cas-ci-22byte'],
];

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
      for (const grams of [0, 1234, 15_250, -40]) {
        const bytes = side.frame({ grams, stable: protocol !== 'yaohua-a9', tareGrams: 0 });
        const frames = decoder.push(bytes);
        expect(frames).toHaveLength(1);
        const f = frames[0]!;
        expect(f.type, JSON.stringify(f)).toBe('weight');
        if (f.type === 'weight') expect(f.grams).toBe(grams);
      }
    });
  }

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
