/**
 * Courier handover, the I/O around handover-decide.ts: one queue for every manifest action
 * (scans from PDAs, station scanners and the API arrive concurrently), decide → commit the
 * writes as one unit (durable) → adopt the new state → answer; closing then sends the ZPL
 * manifest to the configured printer. The state is rebuilt from the event log at start, so a
 * scan acknowledged before a kill -9 is on its manifest afterwards.
 */
import { type ErrorCode, type ErrorDetails, PacklineError } from '../../../contracts/errors.js';
import { PICK_CONTRACT_VERSION } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { Config } from '../config/schema.js';
import { decodeHlc } from '../lib/hlc.js';
import type { Logger } from '../lib/logger.js';
import type { Shipment } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { CommandLink, DeviceEvent, EventOwner, FlowReads, Outcome, UnitWriter } from '../station/ports.js';
import type { RawEventRow } from '../storage/types.js';
import { type CarrierHandoverSummary, pendingHandover, summariseByCarrier, type PendingParcel } from './handover-cutoff.js';
import {
  adopt,
  decideClose,
  decideOpen,
  decideScan,
  emptyHandoverState,
  foldHandoverEvent,
  HANDOVER_LOG_TYPES,
  type HandoverLookups,
  type HandoverState,
  type Manifest,
  type ScanValue,
} from './handover-decide.js';
import { manifestHtml, manifestZpl } from './manifest-render.js';

/** Shipped parcels looked at for "expected" at most (the store answers newest first). */
const PENDING_SCAN_LIMIT = 50_000;

/** What the handover needs of the store: the order cache, shipments, the log. */
export interface HandoverStore extends Pick<FlowReads, 'getOrder' | 'findOrderByBarcode' | 'getShipment'>, Pick<UnitWriter, 'write'> {
  listShipments(q: { orderId?: string; state?: Shipment['state']; limit?: number; before?: number }): Shipment[];
  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number };
  stats(): { lastSeq: number };
}

export interface HandoverDeps {
  config: Readonly<Config>;
  store: HandoverStore;
  link: CommandLink;
  logger: Logger;
  boot: number;
  /** PDAs that get the handover task when a manifest opens (docs/mqtt.md §9). */
  pdas?: () => readonly string[];
  now?: () => number;
}

export type HandoverResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

export interface ManifestView {
  manifestId: string;
  carrier: string;
  state: 'open' | 'closed';
  openedAt: number;
  openedBy: string;
  closedAt: number | null;
  closedBy: string | null;
  count: number;
  /** Parcels of the carrier shipped and not on any manifest, plus those on this one while open. */
  expected: number;
  parcels: Array<{ shipmentId: string; orderId: string; waybill: string; scannedAt: number; by: string }>;
}

export interface HandoverStatus {
  carriers: CarrierHandoverSummary[];
  pending: number;
  overdue: number;
  openManifests: number;
}

/** Reads every row of the given types from the log, in seq order. */
export function* logRows(store: Pick<HandoverStore, 'eventRowsOfTypes' | 'stats'>, types: readonly string[]): Generator<RawEventRow> {
  const last = store.stats().lastSeq;
  let after = 0;
  while (after < last) {
    const { rows, scannedTo } = store.eventRowsOfTypes(types, after, 1000, 50_000);
    yield* rows;
    if (scannedTo <= after) break;
    after = scannedTo;
  }
}

/** The parts of a shipped shipment the handover needs, from its `shipment.shipped` event. */
function shippedFromEvent(row: RawEventRow): Shipment | null {
  if (!row.subject.startsWith('shipment:')) return null;
  const d = rowData(row);
  if (typeof d.carrier !== 'string' || typeof d.waybill !== 'string' || typeof d.order_id !== 'string') return null;
  const at = rowTime(row);
  return {
    shipmentId: row.subject.slice('shipment:'.length),
    orderId: d.order_id,
    stationId: typeof d.line_id === 'string' ? d.line_id : '',
    state: 'shipped',
    reasonCode: null,
    scanned: {},
    expectedGrams: null,
    actualGrams: typeof d.grams === 'number' ? d.grams : null,
    carrier: d.carrier,
    waybill: d.waybill,
    labelJobId: typeof d.job_id === 'string' ? d.job_id : null,
    operator: null,
    openedAt: at,
    updatedAt: at,
    shippedAt: at,
  };
}

export function rowTime(row: RawEventRow): number {
  try {
    return decodeHlc(row.hlc).wallMs;
  } catch {
    return 0;
  }
}

export function rowData(row: RawEventRow): Record<string, unknown> {
  try {
    const d = JSON.parse(row.data) as unknown;
    return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class HandoverService implements EventOwner {
  readonly name = 'handover';
  private readonly st: HandoverState = emptyHandoverState();
  private readonly now: () => number;
  private chain: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private readonly look: HandoverLookups;

  constructor(private readonly deps: HandoverDeps) {
    this.now = deps.now ?? Date.now;
    const store = deps.store;
    this.look = {
      findOrderByBarcode: (code) => store.findOrderByBarcode(code),
      getShipment: (id) => store.getShipment(id),
      shipmentsForOrder: (orderId) => store.listShipments({ orderId, limit: 100 }),
    };
  }

  async start(): Promise<void> {
    for (const row of logRows(this.deps.store, HANDOVER_LOG_TYPES)) {
      foldHandoverEvent(this.st, { type: row.type, subject: row.subject, data: rowData(row), at: rowTime(row) });
    }
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /** Runs `fn` after every earlier action (one decision at a time over the same state). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async commit<T>(
    d: { ok: true; writes: import('../station/domain.js').StationWrite[]; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails },
  ): Promise<HandoverResult<T>> {
    if (!d.ok) return d;
    if (d.writes.length > 0) {
      try {
        await this.deps.store.write(d.writes);
      } catch (err) {
        if (err instanceof PacklineError) return { ok: false, code: err.code, details: err.details ?? {} };
        return { ok: false, code: 'PKL_STORE_UNAVAILABLE', details: { reason: String(err) } };
      }
    }
    return { ok: true, value: d.value };
  }

  open(carrier: string, by: string): Promise<HandoverResult<ManifestView>> {
    return this.serial(async () => {
      const id = `M-${this.deps.config.gatewayId}-${this.deps.boot.toString(36)}-${(this.counter++).toString(36)}`;
      const r = await this.commit(decideOpen(id, carrier, by, this.now()));
      if (!r.ok) return r;
      adopt(this.st, r.value);
      const view = this.view(r.value);
      await this.sendTask(view);
      return { ok: true, value: view };
    });
  }

  /** The PDAs' handover task: scan parcels of this carrier into this manifest. */
  private async sendTask(m: ManifestView): Promise<void> {
    // The versioned task shape of docs/mqtt.md §8 ({v, type}); `kind` stays for PDA apps that read it.
    const task = {
      v: PICK_CONTRACT_VERSION,
      type: 'handover',
      task_id: `handover:${m.manifestId}`,
      kind: 'handover_scan',
      manifest_id: m.manifestId,
      carrier: m.carrier,
      expected: m.expected,
    };
    for (const id of this.deps.pdas?.() ?? []) {
      await this.deps.link
        .publish(topics.command(id, 'task'), JSON.stringify(task), { qos: 1 })
        .catch((err: unknown) => this.deps.logger.debug({ err, deviceId: id }, 'handover task not sent'));
    }
  }

  scan(manifestId: string, code: string, by: string): Promise<HandoverResult<ScanValue & { view: ManifestView }>> {
    return this.serial(async () => {
      const r = await this.commit(decideScan(this.st, this.look, { manifestId, code, by, at: this.now() }));
      if (!r.ok) return r;
      adopt(this.st, r.value.manifest);
      return { ok: true, value: { ...r.value, view: this.view(r.value.manifest) } };
    });
  }

  /**
   * A `handover_scan` from a PDA or a station scanner over MQTT (docs/mqtt.md): the same
   * decision as the API's scan; the device's message id is stored with the effect, so a
   * redelivery after a restart is answered, not counted again. The device's display shows the
   * count against the expected number.
   */
  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    if (event.kind !== 'handover_scan') {
      settle({ ok: false, code: 'PKL_DEVICE_ROLE_MISMATCH', details: { deviceId: event.deviceId, role: event.binding.role, kind: event.kind } });
      return true;
    }
    const p = event.payload as { manifest_id: string; code: string };
    void this.serial(async () => {
      const d = decideScan(this.st, this.look, { manifestId: p.manifest_id, code: p.code, by: event.deviceId, at: event.at });
      if (!d.ok) {
        settle(d);
        await this.display(event.deviceId, 'warn', d.code, d.details);
        return;
      }
      const writes =
        d.writes.length > 0 && event.msgId !== undefined ? [...d.writes, { op: 'dedupe' as const, deviceId: event.deviceId, msgId: event.msgId }] : d.writes;
      let seq: number | undefined;
      if (writes.length > 0) {
        try {
          const r = await this.deps.store.write(writes);
          seq = r.seqs[r.seqs.length - 1];
        } catch (err) {
          if (err instanceof PacklineError && err.code === 'PKL_DUPLICATE_MESSAGE') {
            settle({ ok: true });
            return;
          }
          settle(
            err instanceof PacklineError
              ? { ok: false, code: err.code, details: err.details ?? {} }
              : { ok: false, code: 'PKL_STORE_UNAVAILABLE', details: { reason: String(err) } },
          );
          return;
        }
      }
      adopt(this.st, d.value.manifest);
      settle(seq === undefined ? { ok: true } : { ok: true, seq });
      const v = this.view(d.value.manifest);
      const text = `${v.carrier} ${v.count}/${v.expected}${d.value.duplicate ? ' (again)' : ''}`;
      await this.publishDisplay(event.deviceId, 'ok', text, `${v.carrier} 交接 ${v.count}/${v.expected}${d.value.duplicate ? '（重复）' : ''}`);
    });
    return true;
  }

  private async display(deviceId: string, level: 'warn', code: ErrorCode, details: ErrorDetails): Promise<void> {
    const e = new PacklineError(code, details);
    await this.publishDisplay(deviceId, level, e.message, e.messageZh);
  }

  private async publishDisplay(deviceId: string, level: 'ok' | 'warn', text: string, textZh: string): Promise<void> {
    await this.deps.link
      .publish(topics.command(deviceId, 'display'), JSON.stringify({ level, text, text_zh: textZh }), { qos: 1 })
      .catch((err: unknown) => this.deps.logger.debug({ err, deviceId }, 'handover display not sent'));
  }

  close(manifestId: string, by: string): Promise<HandoverResult<ManifestView>> {
    return this.serial(async () => {
      const m = this.st.manifests.get(manifestId);
      const expected = m === undefined ? 0 : this.expectedFor(m);
      const r = await this.commit(decideClose(this.st, { manifestId, by, at: this.now(), expected }));
      if (!r.ok) return r;
      adopt(this.st, r.value);
      await this.printManifest(r.value, expected);
      return { ok: true, value: this.view(r.value, expected) };
    });
  }

  /** The ZPL manifest on `handover.printer`; a printer that is off misses it (reprint from the page). */
  private async printManifest(m: Manifest, expected: number): Promise<void> {
    const printerId = this.deps.config.handover.printer;
    if (printerId === undefined) return;
    const payload = { job_id: `job-${m.manifestId}`, format: 'zpl' as const, data: manifestZpl(m, expected), copies: 2 };
    await this.deps.link.publish(topics.command(printerId, 'print'), JSON.stringify(payload), { qos: 1 }).catch((err: unknown) => {
      this.deps.logger.warn({ err, manifestId: m.manifestId, printerId }, 'handover manifest not sent to its printer');
    });
  }

  /** The manifest a shipment is on (open or closed), or null. */
  manifestOf(shipmentId: string): string | null {
    return this.st.onManifest.get(shipmentId) ?? null;
  }

  get(manifestId: string): ManifestView | null {
    const m = this.st.manifests.get(manifestId);
    return m === undefined ? null : this.view(m);
  }

  list(state?: 'open' | 'closed'): ManifestView[] {
    return [...this.st.manifests.values()].filter((m) => state === undefined || m.state === state).map((m) => this.view(m));
  }

  html(manifestId: string): string | null {
    const m = this.st.manifests.get(manifestId);
    return m === undefined ? null : manifestHtml(m, this.view(m).expected, this.deps.config.gatewayId);
  }

  /** Parcels shipped and not on any manifest within the look-back, with their cut-off verdict. */
  pending(carrier?: string): PendingParcel[] {
    const now = this.now();
    return pendingHandover(this.shippedRecently(now), this.st.onManifest, now, this.deps.config.handover).filter(
      (p) => carrier === undefined || p.carrier === carrier,
    );
  }

  /** Shipped shipments of the look-back and the log position they are current to. */
  private shippedCache: { rows: Shipment[]; ids: Set<string>; seq: number } | null = null;

  /**
   * Shipped shipments within the look-back. The first call pages through the store (it
   * answers at most 1000 rows a page; a peak day ships more); later calls read only the
   * `shipment.shipped` events written since (the log's primary key, a few rows), so the counts
   * asked at every scan, scrape and screen refresh stay exact and cost next to nothing.
   */
  private shippedRecently(now: number): Shipment[] {
    const since = now - this.deps.config.handover.lookbackHours * 3_600_000;
    const store = this.deps.store;
    if (this.shippedCache === null) {
      const seq = store.stats().lastSeq; // read first: a parcel shipped meanwhile comes again below, deduplicated
      const rows: Shipment[] = [];
      const ids = new Set<string>();
      let before: number | undefined;
      while (rows.length < PENDING_SCAN_LIMIT) {
        const page = store.listShipments({ state: 'shipped', limit: 1000, ...(before === undefined ? {} : { before }) });
        let added = 0;
        let oldest = Number.POSITIVE_INFINITY;
        for (const s of page) {
          oldest = Math.min(oldest, s.updatedAt);
          if (ids.has(s.shipmentId)) continue;
          ids.add(s.shipmentId);
          added += 1;
          rows.push(s);
        }
        if (page.length < 1000 || added === 0 || oldest < since) break;
        // `before` is exclusive: start the next page at the oldest time again (ties deduplicated).
        before = oldest + 1;
      }
      this.shippedCache = { rows, ids, seq };
    }
    const cache = this.shippedCache;
    const last = store.stats().lastSeq;
    while (cache.seq < last) {
      const { rows, scannedTo } = store.eventRowsOfTypes([EVENT.shipped], cache.seq, 1000, 50_000);
      for (const row of rows) {
        const s = shippedFromEvent(row);
        if (s === null || cache.ids.has(s.shipmentId)) continue;
        cache.ids.add(s.shipmentId);
        cache.rows.push(s);
      }
      if (scannedTo <= cache.seq) break;
      cache.seq = scannedTo;
    }
    const inWindow = cache.rows.filter((s) => (s.shippedAt ?? 0) >= since);
    if (inWindow.length !== cache.rows.length) cache.rows = inWindow;
    return inWindow;
  }

  status(): HandoverStatus {
    const pending = this.pending();
    return {
      carriers: summariseByCarrier(pending, this.deps.config.handover),
      pending: pending.length,
      overdue: pending.filter((p) => p.overdue).length,
      openManifests: [...this.st.manifests.values()].filter((m) => m.state === 'open').length,
    };
  }

  private expectedFor(m: Manifest): number {
    if (m.state === 'closed') return m.parcels.length;
    return this.pending(m.carrier).length + m.parcels.length;
  }

  private view(m: Manifest, expected?: number): ManifestView {
    return {
      manifestId: m.manifestId,
      carrier: m.carrier,
      state: m.state,
      openedAt: m.openedAt,
      openedBy: m.openedBy,
      closedAt: m.closedAt,
      closedBy: m.closedBy,
      count: m.parcels.length,
      expected: expected ?? this.expectedFor(m),
      parcels: m.parcels.map((p) => ({ ...p })),
    };
  }
}
