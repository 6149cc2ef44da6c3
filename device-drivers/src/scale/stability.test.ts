import { describe, expect, it } from 'vitest';
import { StabilityDetector } from './stability.js';

describe('StabilityDetector', () => {
  it('is stable once N consecutive readings lie within the tolerance', () => {
    const d = new StabilityDetector({ samples: 3, toleranceGrams: 2 });
    expect([100, 101, 102, 103, 110, 110, 111].map((g) => d.push(g))).toEqual([false, false, true, true, false, false, true]);
  });

  it('with zero tolerance needs exact repeats, and reset forgets the history', () => {
    const d = new StabilityDetector({ samples: 2, toleranceGrams: 0 });
    expect([5, 5, 5.001].map((g) => d.push(g))).toEqual([false, true, false]);
    d.push(7);
    d.reset();
    expect(d.push(7)).toBe(false);
    expect(d.push(7)).toBe(true);
  });

  it('rejects nonsensical options', () => {
    expect(() => new StabilityDetector({ samples: 1, toleranceGrams: 0 })).toThrow(TypeError);
    expect(() => new StabilityDetector({ samples: 3, toleranceGrams: -1 })).toThrow(TypeError);
    expect(() => new StabilityDetector({ samples: 3, toleranceGrams: Number.NaN })).toThrow(TypeError);
  });
});
