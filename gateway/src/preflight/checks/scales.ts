/**
 * Scales at zero and stable: the last reading each scale sent. A scale that is not at zero
 * with nothing on it would add its offset to every parcel's weight (wrong weight holds); one
 * that never settles blocks the weight step. Neither stops the site, so both warn; an
 * offline scale is the devices check's business.
 */
import { type CheckResult, humanDuration } from '../report.js';

export interface ScaleReading {
  id: string;
  online: boolean;
  last: { grams: number; stable: boolean; at: number } | null;
}

export function checkScales(scales: ScaleReading[], zeroGrams: number, now: number): CheckResult {
  const title = 'Scales at zero and stable';
  const data = {
    zeroGrams,
    scales: scales.map((s) => ({ id: s.id, online: s.online, grams: s.last?.grams ?? null, stable: s.last?.stable ?? null, at: s.last?.at ?? null })),
  };
  if (scales.length === 0) return { id: 'scales', title, status: 'pass', detail: 'no scales configured', data };
  const problems: string[] = [];
  for (const s of scales) {
    if (s.last === null) problems.push(`${s.id}: no reading since the gateway started${s.online ? '' : ' (offline)'}`);
    else if (!s.last.stable) problems.push(`${s.id}: not stable (${s.last.grams} g, ${humanDuration(now - s.last.at)} ago)`);
    else if (Math.abs(s.last.grams) > zeroGrams) problems.push(`${s.id}: reads ${s.last.grams} g, not zero: empty the pan and zero it`);
  }
  if (problems.length === 0) return { id: 'scales', title, status: 'pass', detail: `${scales.length} scale(s) at zero (±${zeroGrams} g) and stable`, data };
  return { id: 'scales', title, status: 'warn', detail: problems.join('\n'), data };
}
