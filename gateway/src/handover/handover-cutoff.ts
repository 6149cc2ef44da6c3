/**
 * Which shipped parcels are still to hand over, and which of them missed their carrier's
 * cut-off (pure). A cut-off is a local time of day (`HH:MM`, the courier's last pickup): a
 * parcel shipped before today's cut-off and not handed over once that time has passed is
 * overdue; one shipped after it belongs to the next day's pickup.
 */
import type { Shipment } from '../station/domain.js';

export interface CutoffConfig {
  /** Default cut-off, `HH:MM` local time. */
  cutoff: string;
  /** Per-carrier cut-offs that differ from the default. */
  cutoffByCarrier: Readonly<Record<string, string>>;
}

/** Epoch ms of `HH:MM` on the local day of `at`. */
export function cutoffOn(at: number, hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  const d = new Date(at);
  d.setHours(m ? Number(m[1]) : 0, m ? Number(m[2]) : 0, 0, 0);
  return d.getTime();
}

/**
 * The latest cut-off at or before `now` for the carrier: today's if it has passed, else
 * yesterday's (a parcel from yesterday afternoon still missed yesterday's pickup).
 */
export function lastCutoff(now: number, carrier: string, cfg: CutoffConfig): number {
  const hhmm = cfg.cutoffByCarrier[carrier] ?? cfg.cutoff;
  const today = cutoffOn(now, hhmm);
  if (today <= now) return today;
  const d = new Date(now);
  d.setDate(d.getDate() - 1);
  return cutoffOn(d.getTime(), hhmm);
}

export interface PendingParcel {
  shipmentId: string;
  orderId: string;
  carrier: string;
  waybill: string;
  shippedAt: number;
  overdue: boolean;
}

/**
 * Shipped parcels not on any manifest (open manifests count as on their way), by carrier.
 * `shipped` comes from the store, newest first; shipments without a carrier or waybill are
 * not a courier's.
 */
export function pendingHandover(shipped: readonly Shipment[], onManifest: ReadonlyMap<string, string>, now: number, cfg: CutoffConfig): PendingParcel[] {
  const out: PendingParcel[] = [];
  // One cut-off per carrier per call (Date arithmetic per parcel showed at 20 000 parcels).
  const cutoffs = new Map<string, number>();
  const cutoffOf = (carrier: string): number => {
    let c = cutoffs.get(carrier);
    if (c === undefined) {
      c = lastCutoff(now, carrier, cfg);
      cutoffs.set(carrier, c);
    }
    return c;
  };
  for (const s of shipped) {
    if (s.state !== 'shipped' || s.carrier === null || s.waybill === null || s.shippedAt === null) continue;
    if (onManifest.has(s.shipmentId)) continue;
    out.push({
      shipmentId: s.shipmentId,
      orderId: s.orderId,
      carrier: s.carrier,
      waybill: s.waybill,
      shippedAt: s.shippedAt,
      overdue: s.shippedAt < cutoffOf(s.carrier),
    });
  }
  return out;
}

export interface CarrierHandoverSummary {
  carrier: string;
  pending: number;
  overdue: number;
  cutoff: string;
}

export function summariseByCarrier(pending: readonly PendingParcel[], cfg: CutoffConfig): CarrierHandoverSummary[] {
  const by = new Map<string, CarrierHandoverSummary>();
  for (const p of pending) {
    let s = by.get(p.carrier);
    if (s === undefined) {
      s = { carrier: p.carrier, pending: 0, overdue: 0, cutoff: cfg.cutoffByCarrier[p.carrier] ?? cfg.cutoff };
      by.set(p.carrier, s);
    }
    s.pending += 1;
    if (p.overdue) s.overdue += 1;
  }
  return [...by.values()].sort((a, b) => a.carrier.localeCompare(b.carrier));
}

/** The preflight-style status: warn while parcels are past their carrier's cut-off. */
export function checkHandover(s: {
  carriers: readonly CarrierHandoverSummary[];
  pending: number;
  overdue: number;
}): import('../preflight/report.js').CheckResult {
  const title = 'Courier handover';
  const data = { pending: s.pending, overdue: s.overdue, carriers: s.carriers.map((c) => ({ ...c })) };
  if (s.overdue > 0) {
    const lines = s.carriers.filter((c) => c.overdue > 0).map((c) => `${c.carrier}: ${c.overdue} parcel(s) not handed over by ${c.cutoff}`);
    return { id: 'handover', title, status: 'warn', detail: lines.join('\n'), data };
  }
  return {
    id: 'handover',
    title,
    status: 'pass',
    detail: s.pending === 0 ? 'nothing waiting for a courier' : `${s.pending} parcel(s) waiting, none past its cut-off`,
    data,
  };
}
