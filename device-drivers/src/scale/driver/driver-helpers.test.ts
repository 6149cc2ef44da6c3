import { describe, expect, it } from 'vitest';
import { findScaleDefinition, protocolOf } from '../index.js';
import type { ScaleDefinition } from '../types.js';
import { pollSequence } from './poll-plan.js';
import { WeightGate } from './weight-gate.js';

describe('WeightGate', () => {
  it('publishes the first reading, changes of stability and new stable values at once', () => {
    const g = new WeightGate({ heartbeatMs: 1000, minIntervalMs: 200 });
    expect(g.offer({ grams: 0, stable: true }, 0)).toBe(true);
    expect(g.offer({ grams: 0, stable: true }, 10)).toBe(false); // unchanged
    expect(g.offer({ grams: 500, stable: false }, 20)).toBe(true); // stability changed
    expect(g.offer({ grams: 510, stable: false }, 30)).toBe(false); // unstable change, too soon
    expect(g.offer({ grams: 520, stable: false }, 220)).toBe(true); // unstable change after minInterval
    expect(g.offer({ grams: 520, stable: true }, 230)).toBe(true); // settled
    expect(g.offer({ grams: 521, stable: true }, 240)).toBe(true); // new stable value
  });

  it('re-publishes an unchanged reading every heartbeat, and again after reset', () => {
    const g = new WeightGate({ heartbeatMs: 1000, minIntervalMs: 200 });
    g.offer({ grams: 7, stable: true }, 0);
    expect(g.offer({ grams: 7, stable: true }, 999)).toBe(false);
    expect(g.offer({ grams: 7, stable: true }, 1000)).toBe(true);
    g.reset();
    expect(g.offer({ grams: 7, stable: true }, 1001)).toBe(true);
  });
});

describe('pollSequence', () => {
  const seq = (d: ScaleDefinition) => pollSequence(d, protocolOf(d)!);
  const def = (id: string) => findScaleDefinition(id)!;
  it('polls MT-SICS with SI, 8217 with W, Aclas passive with ENQ then DC1', () => {
    expect(seq(def('mettler-toledo-mt-sics'))).toEqual(['weighNow']);
    expect(seq(def('mettler-toledo-8217'))).toEqual(['weigh']);
    expect(seq({ ...def('aclas-os2x'), options: { mode: 'passive' } })).toEqual(['enquire', 'weigh']);
  });
  it('just reads streaming scales', () => {
    for (const id of ['aclas-os2x', 'mettler-toledo-continuous', 'yaohua-xk3190-a9', 'cas-ci-22byte', 'generic-st-gs-indicator']) {
      expect(seq(def(id)), id).toBeNull();
    }
  });
});
