/**
 * Waybill coverage of open orders: only an order with a pre-fetched waybill can ship while
 * the WAN is down (the carrier's waybill API is in the cloud). Below the configured alarm
 * share (sync.waybillCoverageAlarmPercent) it warns; below half of it, fails.
 */
import type { CheckResult } from '../report.js';

export function checkWaybillCoverage(cov: { open: number; withWaybill: number }, alarmPercent: number): CheckResult {
  const title = 'Waybill coverage of open orders';
  const percent = cov.open === 0 ? 100 : Math.round((cov.withWaybill / cov.open) * 1000) / 10;
  const data = { ...cov, percent, alarmPercent };
  const detail = `${cov.withWaybill} of ${cov.open} open orders have a waybill (${percent}%)`;
  if (percent >= alarmPercent) return { id: 'waybill-coverage', title, status: 'pass', detail, data };
  return {
    id: 'waybill-coverage',
    title,
    status: percent < alarmPercent / 2 ? 'fail' : 'warn',
    detail: `${detail}; below ${alarmPercent}%: fetch waybills in the order system before the peak`,
    data,
  };
}
