import { describe, expect, it } from 'vitest';
import { decimalToGrams, scaledToGrams } from './units.js';

describe('unit conversion to grams', () => {
  it('is exact for metric decimals and rounds imperial to micrograms', () => {
    expect(decimalToGrams('1.234', 'kg')).toBe(1234);
    expect(decimalToGrams('0.1', 'kg')).toBe(100);
    expect(decimalToGrams('-0012.340', 'g')).toBe(-12.34);
    expect(decimalToGrams('+ 1', 'LB')).toBe(453.59237);
    expect(decimalToGrams('1', 'oz')).toBe(28.349523);
    expect(decimalToGrams('1.5', 't')).toBe(1_500_000);
    expect(decimalToGrams('.5', 'kg')).toBe(500);
    expect(decimalToGrams('-0', 'kg')).toBe(0);
    expect(Object.is(decimalToGrams('-0.000', 'kg'), -0)).toBe(false);
  });

  it('refuses non-decimals and unknown units', () => {
    for (const t of ['', '.', '1.2.3', '1e3', 'abc', '--1', '1 2']) expect(decimalToGrams(t, 'kg')).toBeUndefined();
    expect(decimalToGrams('1', 'stone')).toBeUndefined();
  });

  it('handles implied decimals in both directions', () => {
    expect(scaledToGrams(1234, 2, 1000)).toBe(12340);
    expect(scaledToGrams(12, -2, 1000)).toBe(1_200_000);
  });
});
