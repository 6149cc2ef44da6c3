/** The retained snapshot a station screen draws (`station/{id}/view`, contracts StationView). */
import type { StationView } from '../../../../contracts/payloads.js';
import type { Order } from '../domain.js';
import type { StationState } from '../types.js';

/** States in which the shipment's weight has been taken and is final. */
const WEIGHED = new Set(['labelling', 'printed', 'shipped']);

export function renderStationView(state: StationState, order?: Order | null): StationView {
  const s = state.shipment;
  const o = s !== null && order && order.orderId === s.orderId ? order : null;
  // Scans are counted per barcode; lines sharing a barcode are filled in order.
  const left: Record<string, number> = { ...(s?.scanned ?? {}) };
  const lines = (o?.lines ?? []).map((l) => {
    const scanned = Math.min(l.qty, left[l.barcode] ?? 0);
    left[l.barcode] = (left[l.barcode] ?? 0) - scanned;
    return { sku: l.sku, barcode: l.barcode, name: l.name, qty: l.qty, scanned };
  });
  const a = state.alert;
  return {
    station_id: state.stationId,
    state: s?.state ?? 'idle',
    shipment_id: s?.shipmentId ?? null,
    order_id: s?.orderId ?? null,
    lines,
    expected_grams: s?.expectedGrams ?? null,
    // Once the parcel's weight is recorded (label, printed, shipped) the screen shows that
    // weight, not the live scale: the parcel is lifted off and an empty scale compared with
    // the shipped order would read as a red difference.
    weight:
      s !== null && s.actualGrams !== null && WEIGHED.has(s.state)
        ? { grams: s.actualGrams, stable: true }
        : state.scale === null
          ? null
          : { grams: state.scale.grams, stable: state.scale.stable },
    waybill: s?.waybill ?? null,
    carrier: s?.carrier ?? null,
    label: s?.labelJobId ?? null,
    alert: a === null ? null : { level: a.level, code: a.code, message: a.message, message_zh: a.messageZh },
    updated_at: state.updatedAt,
  };
}
