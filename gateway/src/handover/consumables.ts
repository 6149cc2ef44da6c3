/**
 * Consumables (耗材): labels printed since each printer's last roll change against the roll
 * size, so the floor changes a roll before it runs out mid-peak rather than after a
 * paper-out stops the station. Counted from the event log (every label queued to a printer and
 * every reprint), reset by `printer.roll_changed`; no counter of its own to keep in step.
 * Pure: the fold and the verdict; consumables-service.ts reads the log.
 */
import type { CheckResult } from '../preflight/report.js';
import { EVENT } from '../station/events.js';

export interface RollCount {
  printerId: string;
  /** Labels sent to the printer since its roll was last changed (or since the log began). */
  printed: number;
  changedAt: number | null;
}

export interface RollStatus extends RollCount {
  /** Labels on a full roll; null when no size is configured for the printer. */
  rollLabels: number | null;
  left: number | null;
  percentLeft: number | null;
  level: 'ok' | 'low' | 'out' | 'unknown';
}

export const CONSUMABLE_LOG_TYPES: readonly string[] = [EVENT.labelQueued, EVENT.reprinted, EVENT.rollChanged];

export function foldRollEvent(counts: Map<string, RollCount>, e: { type: string; subject: string; data: Record<string, unknown>; at: number }): void {
  if (e.type === EVENT.rollChanged) {
    const id = e.subject.startsWith('device:') ? e.subject.slice('device:'.length) : null;
    if (id !== null) counts.set(id, { printerId: id, printed: 0, changedAt: e.at });
    return;
  }
  const id = e.data.printer_id;
  if (typeof id !== 'string') return;
  const c = counts.get(id) ?? { printerId: id, printed: 0, changedAt: null };
  c.printed += 1;
  counts.set(id, c);
}

export function rollStatus(c: RollCount, rollLabels: number | null, lowPercent: number): RollStatus {
  if (rollLabels === null) return { ...c, rollLabels, left: null, percentLeft: null, level: 'unknown' };
  const left = Math.max(0, rollLabels - c.printed);
  const percentLeft = Math.round((left / rollLabels) * 1000) / 10;
  const level = left === 0 ? 'out' : percentLeft < lowPercent ? 'low' : 'ok';
  return { ...c, rollLabels, left, percentLeft, level };
}

/** The preflight check: warn on a low roll, fail on one that should be empty by the count. */
export function checkConsumables(rolls: readonly RollStatus[]): CheckResult {
  const title = 'Label rolls (consumables)';
  const data = { printers: rolls.map((r) => ({ id: r.printerId, printed: r.printed, rollLabels: r.rollLabels, left: r.left, level: r.level })) };
  const sized = rolls.filter((r) => r.rollLabels !== null);
  if (sized.length === 0) return { id: 'consumables', title, status: 'pass', detail: 'no roll sizes configured (handover.rollLabels)', data };
  const out = sized.filter((r) => r.level === 'out');
  const low = sized.filter((r) => r.level === 'low');
  const line = (r: RollStatus) => `${r.printerId}: ${r.left} of ${r.rollLabels} labels left`;
  if (out.length > 0) return { id: 'consumables', title, status: 'fail', detail: [...out, ...low].map(line).join('\n'), data };
  if (low.length > 0) return { id: 'consumables', title, status: 'warn', detail: low.map(line).join('\n'), data };
  return { id: 'consumables', title, status: 'pass', detail: `${sized.length} roll(s) above the low-media mark`, data };
}
