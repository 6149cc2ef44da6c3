/**
 * IPP printer-state-reasons keywords (RFC 8011 §5.4.12, PWG 5100.9) → the printer fault
 * vocabulary of ../types.ts. Keywords carry a severity suffix `-report`, `-warning` or `-error`
 * (RFC 8011 §5.4.12); ippeveprinter reports an empty tray as `media-empty-report` while idle and
 * `media-empty-warning` while a job waits (docs/devices/printers.md), so the suffix is
 * stripped and the condition itself decides whether printing is blocked.
 */
import type { PrinterFault } from '../types.js';

/** Conditions under which no label comes out: a job is refused before it is sent. */
const BLOCKING: Readonly<Record<string, PrinterFault>> = {
  'media-empty': 'paper_out',
  'media-needed': 'paper_out',
  'media-jam': 'paper_jam',
  'door-open': 'cover_open',
  'cover-open': 'cover_open',
  'interlock-open': 'cover_open',
  // On a thermal-transfer label printer the marker supply is the ribbon.
  'marker-supply-empty': 'ribbon_out',
  'toner-empty': 'ribbon_out',
  paused: 'paused',
  'moving-to-paused': 'paused',
  shutdown: 'printer_error',
  'output-area-full': 'printer_error',
};

/** Conditions that still print: shown as the reason of an `online` state. */
const WARNINGS = new Set(['media-low', 'toner-low', 'marker-supply-low', 'developer-low', 'marker-waste-almost-full']);

export function stripSeverity(keyword: string): string {
  return keyword.replace(/-(report|warning|error)$/, '');
}

export interface ReasonSummary {
  /** Blocking faults, in the printer's order. */
  readonly faults: readonly PrinterFault[];
  /** Non-blocking supply warnings, snake_case (`media_low`). */
  readonly warnings: readonly string[];
}

export function summarizeReasons(reasons: readonly string[]): ReasonSummary {
  const faults: PrinterFault[] = [];
  const warnings: string[] = [];
  for (const raw of reasons) {
    const k = stripSeverity(raw);
    const f = BLOCKING[k];
    if (f !== undefined && !faults.includes(f)) faults.push(f);
    else if (WARNINGS.has(k)) warnings.push(k.replace(/-/g, '_'));
  }
  return { faults, warnings };
}
