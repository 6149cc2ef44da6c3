/**
 * Printer media and ribbon: read from each printer's retained state, where drivers and
 * MQTT-native printers report faults as `error` + a snake_case reason (docs/mqtt.md; the ZPL
 * ~HS/~HQES, TSPL status and IPP printer-state-reasons are mapped to these in
 * device-drivers/src/printer). Out of paper or ribbon, or the head open, stops labels: fail.
 */
import type { CheckResult } from '../report.js';

/** Faults that stop every label until someone walks over to the printer. */
export const MEDIA_FAULTS = ['paper_out', 'ribbon_out', 'head_open', 'paper_jam'] as const;

export interface PrinterMedia {
  id: string;
  online: boolean;
  state: string | null;
  reason: string | null;
}

/** What the printer's media looks like: `ok`, a media fault, `fault` (another error), `offline` or `unknown`. */
export function mediaState(p: PrinterMedia): string {
  if (!p.online) return 'offline';
  if (p.state === 'error') return p.reason !== null && (MEDIA_FAULTS as readonly string[]).includes(p.reason) ? p.reason : 'fault';
  if (p.state === 'online') return 'ok';
  return 'unknown';
}

export function checkPrinterMedia(printers: PrinterMedia[]): CheckResult {
  const states = printers.map((p) => ({ id: p.id, media: mediaState(p), reason: p.reason }));
  const bad = states.filter((s) => (MEDIA_FAULTS as readonly string[]).includes(s.media) || s.media === 'fault');
  const unknown = states.filter((s) => s.media === 'unknown' || s.media === 'offline');
  const data = { printers: states };
  const title = 'Printer media and ribbon';
  if (printers.length === 0) return { id: 'printer-media', title, status: 'warn', detail: 'no printers configured', data };
  if (bad.length > 0) {
    return {
      id: 'printer-media',
      title,
      status: 'fail',
      detail: bad.map((b) => `${b.id}: ${b.media === 'fault' ? `fault ${b.reason ?? ''}`.trim() : b.media}`).join('\n'),
      data,
    };
  }
  if (unknown.length > 0) {
    return { id: 'printer-media', title, status: 'warn', detail: `no status from ${unknown.map((u) => `${u.id} (${u.media})`).join(', ')}`, data };
  }
  return { id: 'printer-media', title, status: 'pass', detail: `${printers.length} printer(s) report media and ribbon ok`, data };
}
