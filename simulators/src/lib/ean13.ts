/**
 * EAN-13 check digit (GS1 General Specifications §7.9.1): weights 1 and 3 alternate from
 * the left over the first 12 digits; the check digit brings the weighted sum to a multiple of 10.
 */
export function ean13CheckDigit(first12: string): number {
  if (!/^\d{12}$/.test(first12)) throw new RangeError(`EAN-13 needs 12 digits before the check digit, got "${first12}"`);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

export function isValidEan13(code: string): boolean {
  return /^\d{13}$/.test(code) && ean13CheckDigit(code.slice(0, 12)) === Number(code[12]);
}

export function makeEan13(first12: string): string {
  return first12 + String(ean13CheckDigit(first12));
}
