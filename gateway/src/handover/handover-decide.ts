/**
 * Courier handover (交接), pure: the manifests a courier signs for, what a scan into one
 * means, and what closing it writes. No I/O: the service (handover-service.ts) hands in the
 * lookups, commits the writes as one unit, and only then adopts the new state.
 *
 * A manifest is per carrier. A scan adds a parcel the gateway shipped for that carrier and
 * has not handed over yet; the same parcel again is counted once; a parcel of another
 * carrier, one not shipped here, one whose order was intercepted after shipping (it must be
 * pulled, not given to the courier) or one on another manifest is refused with its code.
 * Closing writes `handover.manifest_closed` and one `shipment.handed_over` per parcel with
 * the handover time: the events the cloud receives, each parcel once (docs/handover.md).
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import type { Order, Shipment, StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';

export interface ManifestParcel {
  shipmentId: string;
  orderId: string;
  waybill: string;
  scannedAt: number;
  /** Device (scanner, PDA) or `api`. */
  by: string;
}

export interface Manifest {
  manifestId: string;
  carrier: string;
  state: 'open' | 'closed';
  openedAt: number;
  openedBy: string;
  closedAt: number | null;
  closedBy: string | null;
  /** Scan order. */
  parcels: ManifestParcel[];
}

export interface HandoverState {
  manifests: Map<string, Manifest>;
  /** shipment id → manifest id, for parcels on any manifest (open or closed). */
  onManifest: Map<string, string>;
}

export function emptyHandoverState(): HandoverState {
  return { manifests: new Map(), onManifest: new Map() };
}

/** What a decision needs to read: the order cache and the shipments (synchronous). */
export interface HandoverLookups {
  findOrderByBarcode(code: string): Order | null;
  getShipment(shipmentId: string): Shipment | null;
  shipmentsForOrder(orderId: string): Shipment[];
}

export type Decision<T> = { ok: true; writes: StationWrite[]; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

function refuse(code: ErrorCode, details: ErrorDetails): { ok: false; code: ErrorCode; details: ErrorDetails } {
  return { ok: false, code, details };
}

function manifestEvent(type: string, manifestId: string, data: Record<string, string | number | boolean | null>): StationWrite {
  return { op: 'event', type, subject: `manifest:${manifestId}`, data };
}

export function decideOpen(manifestId: string, carrier: string, by: string, at: number): Decision<Manifest> {
  const manifest: Manifest = { manifestId, carrier, state: 'open', openedAt: at, openedBy: by, closedAt: null, closedBy: null, parcels: [] };
  return { ok: true, value: manifest, writes: [manifestEvent(EVENT.handoverOpened, manifestId, { carrier, opened_by: by, opened_at: at })] };
}

/** The parcel a code names: its shipment id, the waybill on its label, or an order barcode. */
export function findParcel(look: HandoverLookups, code: string): { order: Order | null; shipment: Shipment | null } {
  const direct = look.getShipment(code);
  if (direct !== null) return { order: look.findOrderByBarcode(direct.orderId), shipment: direct };
  const order = look.findOrderByBarcode(code);
  if (order === null) return { order: null, shipment: null };
  const shipments = look.shipmentsForOrder(order.orderId);
  const shipped = shipments.filter((s) => s.state === 'shipped');
  // The label's waybill picks the parcel; otherwise the order's latest shipped one.
  const byWaybill = shipped.find((s) => s.waybill === code);
  const latest = shipped.sort((a, b) => (b.shippedAt ?? 0) - (a.shippedAt ?? 0))[0] ?? null;
  return { order, shipment: byWaybill ?? latest ?? shipments[shipments.length - 1] ?? null };
}

/** True when the order must not leave with the courier (refund, cancel, closed after shipping). */
export function interceptedAfterShipping(order: Order): boolean {
  const f = order.flags;
  return f.refundRequested || f.refunded || f.cancelled || f.platformClosed;
}

export type ScanValue = { manifest: Manifest; parcel: ManifestParcel; duplicate: boolean };

export function decideScan(st: HandoverState, look: HandoverLookups, input: { manifestId: string; code: string; by: string; at: number }): Decision<ScanValue> {
  const manifest = st.manifests.get(input.manifestId);
  if (manifest === undefined) return refuse('PKL_HANDOVER_MANIFEST_UNKNOWN', { manifestId: input.manifestId });
  if (manifest.state !== 'open') return refuse('PKL_HANDOVER_MANIFEST_CLOSED', { manifestId: manifest.manifestId });
  const { order, shipment } = findParcel(look, input.code);
  if (order === null && shipment === null) return refuse('PKL_HANDOVER_PARCEL_UNKNOWN', { code: input.code });
  if (shipment === null || shipment.state !== 'shipped' || shipment.waybill === null) {
    return refuse('PKL_HANDOVER_NOT_SHIPPED', { orderId: order?.orderId ?? shipment?.orderId ?? input.code, state: shipment?.state ?? null });
  }
  const waybill = shipment.waybill;
  const same = manifest.parcels.find((p) => p.shipmentId === shipment.shipmentId);
  if (same !== undefined) return { ok: true, writes: [], value: { manifest, parcel: same, duplicate: true } };
  const elsewhere = st.onManifest.get(shipment.shipmentId);
  if (elsewhere !== undefined) return refuse('PKL_HANDOVER_ALREADY', { waybill, manifestId: elsewhere });
  if (order !== null && interceptedAfterShipping(order)) return refuse('PKL_HANDOVER_INTERCEPTED', { orderId: order.orderId, waybill });
  const carrier = shipment.carrier ?? order?.carrier ?? null;
  if (carrier !== manifest.carrier) {
    return refuse('PKL_HANDOVER_WRONG_CARRIER', { waybill, carrier: carrier ?? 'none', manifestCarrier: manifest.carrier });
  }
  const parcel: ManifestParcel = { shipmentId: shipment.shipmentId, orderId: shipment.orderId, waybill, scannedAt: input.at, by: input.by };
  return {
    ok: true,
    value: { manifest: { ...manifest, parcels: [...manifest.parcels, parcel] }, parcel, duplicate: false },
    writes: [
      manifestEvent(EVENT.handoverScanned, manifest.manifestId, {
        shipment_id: parcel.shipmentId,
        order_id: parcel.orderId,
        waybill,
        by: input.by,
      }),
    ],
  };
}

/**
 * Closing: the manifest event and, per parcel, `shipment.handed_over` with the handover time
 * (the close time: the courier signs for the whole manifest at once). `expected` is what was
 * still to hand over for the carrier when it closed, for the record.
 */
export function decideClose(st: HandoverState, input: { manifestId: string; by: string; at: number; expected: number }): Decision<Manifest> {
  const manifest = st.manifests.get(input.manifestId);
  if (manifest === undefined) return refuse('PKL_HANDOVER_MANIFEST_UNKNOWN', { manifestId: input.manifestId });
  if (manifest.state !== 'open') return refuse('PKL_HANDOVER_MANIFEST_CLOSED', { manifestId: manifest.manifestId });
  const writes: StationWrite[] = [
    manifestEvent(EVENT.handoverClosed, manifest.manifestId, {
      carrier: manifest.carrier,
      parcels: manifest.parcels.length,
      expected: input.expected,
      closed_by: input.by,
    }),
  ];
  for (const p of manifest.parcels) {
    writes.push({
      op: 'event',
      type: EVENT.handedOver,
      subject: `shipment:${p.shipmentId}`,
      data: { order_id: p.orderId, manifest_id: manifest.manifestId, carrier: manifest.carrier, waybill: p.waybill, handed_over_at: input.at },
    });
  }
  return { ok: true, writes, value: { ...manifest, state: 'closed', closedAt: input.at, closedBy: input.by } };
}

/** Adopts a committed decision's manifest into the state (the service calls it after the commit). */
export function adopt(st: HandoverState, manifest: Manifest): void {
  st.manifests.set(manifest.manifestId, manifest);
  for (const p of manifest.parcels) st.onManifest.set(p.shipmentId, manifest.manifestId);
}

interface LoggedEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
  at: number;
}

/**
 * Rebuilds the state from the log's handover events in seq order (a restart): only what was
 * committed counts, so a scan acknowledged before a kill -9 is on its manifest after it.
 */
export function foldHandoverEvent(st: HandoverState, e: LoggedEvent): void {
  if (!e.subject.startsWith('manifest:')) return;
  const id = e.subject.slice('manifest:'.length);
  const d = e.data;
  if (e.type === EVENT.handoverOpened) {
    const at = typeof d.opened_at === 'number' ? d.opened_at : e.at;
    adopt(st, {
      manifestId: id,
      carrier: String(d.carrier),
      state: 'open',
      openedAt: at,
      openedBy: String(d.opened_by ?? ''),
      closedAt: null,
      closedBy: null,
      parcels: [],
    });
    return;
  }
  const m = st.manifests.get(id);
  if (m === undefined) return;
  if (e.type === EVENT.handoverScanned && typeof d.shipment_id === 'string') {
    if (m.parcels.some((p) => p.shipmentId === d.shipment_id)) return;
    m.parcels.push({ shipmentId: d.shipment_id, orderId: String(d.order_id ?? ''), waybill: String(d.waybill ?? ''), scannedAt: e.at, by: String(d.by ?? '') });
    st.onManifest.set(d.shipment_id, id);
  } else if (e.type === EVENT.handoverClosed) {
    m.state = 'closed';
    m.closedAt = e.at;
    m.closedBy = typeof d.closed_by === 'string' ? d.closed_by : null;
  }
}

export const HANDOVER_LOG_TYPES: readonly string[] = [EVENT.handoverOpened, EVENT.handoverScanned, EVENT.handoverClosed];
