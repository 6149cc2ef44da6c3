/**
 * Weight units to grams. Factors: international avoirdupois pound = 453.59237 g exactly and
 * ounce = 1/16 lb (US/UK weights and measures acts, 1959 agreement); troy ounce = 31.1034768 g;
 * grain = 64.79891 mg; pennyweight = 24 gr; carat = 200 mg; short ton = 2000 lb.
 */
export const GRAMS_PER_UNIT: Readonly<Record<string, number>> = {
  mg: 0.001,
  g: 1,
  kg: 1000,
  t: 1_000_000,
  lb: 453.59237,
  oz: 28.349523125,
  ozt: 31.1034768,
  ct: 0.2,
  gr: 0.06479891,
  dwt: 1.55517384,
  ton: 907_184.74,
};

/** Decimal text such as `-0012.340`, `+ 1.5`, ` 100`; no exponent, at most one point. */
const DECIMAL_RE = /^([+-]?)\s*(\d*)(?:\.(\d*))?$/;

/**
 * Grams from a decimal weight text and unit (case-insensitive). Computed from the integer
 * mantissa so `1.234 kg` is exactly 1234 g; rounded to micrograms to drop float noise.
 * Returns undefined for text that is not a decimal or a unit not in {@link GRAMS_PER_UNIT}.
 */
export function decimalToGrams(text: string, unit: string): number | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  const factor = GRAMS_PER_UNIT[unit.trim().toLowerCase()];
  if (m === null || factor === undefined) return undefined;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  if (intPart.length + frac.length === 0 || intPart.length + frac.length > 15) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  return scaledToGrams(sign * Number(intPart + frac), frac.length, factor);
}

/** Grams from an integer count of display steps with `decimals` implied decimal places. */
export function scaledToGrams(mantissa: number, decimals: number, gramsPerUnit: number): number {
  const g = decimals >= 0 ? (mantissa * gramsPerUnit) / 10 ** decimals : mantissa * gramsPerUnit * 10 ** -decimals;
  const r = Math.round(g * 1e6) / 1e6;
  return r === 0 ? 0 : r; // no -0
}

export function isKnownUnit(unit: string): boolean {
  return GRAMS_PER_UNIT[unit.trim().toLowerCase()] !== undefined;
}
