/**
 * Scanners last seen: the last code each scanner read. An input-device scanner can be
 * connected (its driver is) and still dead (cable, battery); only a scan proves it reads.
 * Before the peak, scan any barcode at each station to turn this green.
 */
import { type CheckResult, humanDuration } from '../report.js';

export interface ScannerSeen {
  id: string;
  online: boolean;
  lastScanAt: number | null;
}

export function checkScanners(scanners: ScannerSeen[], staleMinutes: number, now: number): CheckResult {
  const title = 'Scanners last seen';
  const staleMs = staleMinutes * 60_000;
  const data = { staleMinutes, scanners: scanners.map((s) => ({ id: s.id, online: s.online, lastScanAt: s.lastScanAt })) };
  if (scanners.length === 0) return { id: 'scanners', title, status: 'pass', detail: 'no scanners configured', data };
  const stale = scanners.filter((s) => s.lastScanAt === null || now - s.lastScanAt > staleMs);
  if (stale.length === 0) return { id: 'scanners', title, status: 'pass', detail: `every scanner read a code within ${staleMinutes} min`, data };
  const why = (s: ScannerSeen) => (s.lastScanAt === null ? 'no scan since the gateway started' : `last scan ${humanDuration(now - s.lastScanAt)} ago`);
  return {
    id: 'scanners',
    title,
    status: 'warn',
    detail: `${stale.map((s) => `${s.id}: ${why(s)}${s.online ? '' : ' (offline)'}`).join('\n')}\nscan any barcode at the station to test it`,
    data,
  };
}
