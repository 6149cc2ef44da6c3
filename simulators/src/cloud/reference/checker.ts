/**
 * The sync checker: compares a gateway's event log with what the reference cloud stored and
 * says whether the guarantees of contracts/sync.ts held —
 *
 * 1. every event the gateway considers acknowledged (seq <= its `sync.acked_seq`) is in the
 *    cloud exactly once, with identical content (exactly-once effect);
 * 2. the cloud holds seqs 1..hwm without a gap, and its hwm is not below the gateway's cursor
 *    (the gateway only advances on the cloud's cumulative ack);
 * 3. the cloud holds no seq the gateway never wrote, and no redelivery brought other content;
 * 4. no intercepted order was shipped: once the gateway recorded that an order was refunded,
 *    cancelled, closed or shipped elsewhere (`order.status_applied`, `order.cancel_accepted`),
 *    no later label or shipment for it (docs/shipment-flow.md "Interception");
 * 5. presale (docs/packing-modes.md "Presale"): each staged parcel is staged once and then
 *    released or unpacked at most once, never both; released only after its order's
 *    `order.paid`; and no carrier label for a presale order imported unpaid before its payment.
 *
 * 5. stock per SKU per location matches: the cloud's stock (its count + the gateway's moves after
 *    the count's `as_of_seq`, cloud-stock.ts) equals the same figure rebuilt from the gateway's own
 *    log up to the cloud's hwm, so no pick, short pick, return or replenishment move was applied
 *    twice or lost (docs/sync.md §17);
 * 6. no unit was picked twice and no intercepted order was picked: a wave line never has more
 *    units picked than its orders asked for, no wave is built with an order already intercepted,
 *    an order intercepted while its wave was open is pulled from it, and no unit is sorted to it
 *    after its interception (docs/picking.md).
 *
 * Both databases are opened read-only and streamed in seq order, so a 720k-event backlog is
 * checked in constant memory (apart from the shipment → order map).
 */
import Database, { type Database as Db } from 'better-sqlite3';
import { PRESALE_SYNC_EVENTS, SYNC_EVENT } from '../../../../contracts/sync.js';
import type { CloudDb } from './cloud-db.js';
import { cloudPicks, cloudStock, type PickLine, type PickLines, STOCK_EVENT_TYPES, stockEffects } from './cloud-stock.js';

/** meta key holding the gateway's acknowledged cursor (gateway/src/sync/sync-store-adapter.ts). */
export const GATEWAY_ACKED_KEY = 'sync.acked_seq';
/** Written by the gateway when it applies a cloud status change (data {order_id, status, revision}). */
export const STATUS_APPLIED = 'order.status_applied';
/** Statuses after which an order must not ship; refund_withdrawn lifts refund_requested. */
export const INTERCEPTING_STATUSES: ReadonlySet<string> = new Set(['refund_requested', 'refunded', 'cancelled', 'closed', 'shipped_elsewhere']);
/** Events that put a parcel on its way (gateway/src/station/events.ts). */
const LABEL_QUEUED = 'shipment.label_queued';
const SHIPPED = 'shipment.shipped';
/** At most this many problems are listed per kind (the counts are still exact). */
const MAX_LISTED = 20;

export interface CheckSyncInput {
  gatewayDbPath: string;
  /** The cloud's store, or the path of its SQLite file. */
  cloud: CloudDb | string;
  gatewayId: string;
}

export interface CheckSyncStats {
  gatewayEvents: number;
  cloudEvents: number;
  /** The gateway's acknowledged cursor. */
  ackedSeq: number;
  /** The cloud's high-water mark for this gateway. */
  cloudHwm: number;
  /** Redeliveries the cloud absorbed (sum of deliveries - 1). */
  duplicatesReceived: number;
  rejected: number;
  conflicts: number;
  /** Shipments shipped (or labelled) after their order was intercepted. */
  interceptViolations: number;
  /** Parcels the cloud holds a `shipment.handed_over` for (distinct shipments). */
  handovers: number;
  /** Carrier switches the cloud holds (distinct switch ids). */
  carrierSwitches: number;
  /** Presale parcels the cloud holds a `presale.staged` / `presale.released` / `presale.unpacked` for (distinct parcels each). */
  presaleStaged: number;
  presaleReleased: number;
  presaleUnpacked: number;
  /** Orders the cloud holds an `order.paid` for. */
  presalePaid: number;
  /** Confirmed pick lines and units the cloud holds (accepted `pick.confirmed`). */
  picks: { lines: number; units: number };
  /** (location, SKU) pairs whose cloud stock was compared with the gateway's log, and how many differ. */
  stockCompared: number;
  stockMismatches: number;
  /** Pairs whose newest cloud count the gateway has not pulled yet (not compared). */
  stockPendingCounts: number;
}

export interface CheckSyncResult {
  ok: boolean;
  problems: string[];
  stats: CheckSyncStats;
}

interface GwRow {
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: number;
  type: string;
  subject: string;
  data: string;
}

interface CloudRow extends GwRow {
  n: number;
}

export function checkSync(input: CheckSyncInput): CheckSyncResult {
  const gw = new Database(input.gatewayDbPath, { readonly: true, fileMustExist: true });
  const ownCloud = typeof input.cloud === 'string';
  const cloud = typeof input.cloud === 'string' ? new Database(input.cloud, { readonly: true, fileMustExist: true }) : input.cloud.db;
  try {
    return check(gw, cloud, input.gatewayId);
  } finally {
    gw.close();
    if (ownCloud) cloud.close();
  }
}

class Problems {
  readonly list: string[] = [];
  private readonly counts = new Map<string, number>();

  add(kind: string, text: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= MAX_LISTED) this.list.push(text);
  }

  /** Appends "... and N more" lines for kinds over the listing limit. */
  summarise(): string[] {
    const out = [...this.list];
    for (const [kind, n] of this.counts) if (n > MAX_LISTED) out.push(`${kind}: ${n - MAX_LISTED} more not listed`);
    return out;
  }
}

function check(gwDb: Db, cloudDb: Db, gatewayId: string): CheckSyncResult {
  const problems = new Problems();
  const ackedSeq = readAcked(gwDb);
  const gwCount = gwDb.prepare('SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM events').get() as { n: number; lo: number | null; hi: number | null };
  const gateway = cloudDb.prepare('SELECT hwm FROM gateways WHERE id = ?').get(gatewayId) as { hwm: number } | undefined;
  const cloudHwm = gateway?.hwm ?? 0;
  if (gateway === undefined) problems.add('gateway', `the cloud does not know gateway ${gatewayId}`);
  const agg = cloudDb
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(deliveries - 1), 0) AS dups,
              COALESCE(SUM(status = 'rejected'), 0) AS rejected FROM events WHERE gateway_id = ?`,
    )
    .get(gatewayId) as { n: number; dups: number; rejected: number };
  const conflicts = cloudDb.prepare('SELECT seq, COUNT(*) AS n FROM conflicts WHERE gateway_id = ? GROUP BY seq ORDER BY seq').all(gatewayId) as {
    seq: number;
    n: number;
  }[];
  for (const c of conflicts) problems.add('conflict', `seq ${c.seq}: the cloud received ${c.n} redelivery(ies) with different content`);

  if (cloudHwm < ackedSeq) problems.add('hwm', `cloud hwm ${cloudHwm} is below the gateway's acknowledged cursor ${ackedSeq}`);
  if (gwCount.hi !== null && ackedSeq > gwCount.hi) problems.add('hwm', `gateway cursor ${ackedSeq} is beyond its last event ${gwCount.hi}`);

  // Merge the two logs in seq order.
  const gwIt = gwDb.prepare('SELECT seq, hlc, boot, clock_unsynced, type, subject, data FROM events ORDER BY seq').iterate() as IterableIterator<GwRow>;
  const cloudIt = cloudDb
    .prepare(
      `SELECT seq, MIN(hlc) AS hlc, MIN(boot) AS boot, MIN(clock_unsynced) AS clock_unsynced, MIN(type) AS type,
              MIN(subject) AS subject, MIN(data) AS data, COUNT(*) AS n
       FROM events WHERE gateway_id = ? GROUP BY seq ORDER BY seq`,
    )
    .iterate(gatewayId) as IterableIterator<CloudRow>;
  const intercepts = new InterceptCheck(problems);
  const once = new OnceCheck(problems);
  const presale = new PresaleCheck(problems);
  const picking = new PickingCheck(problems, intercepts, cloudHwm);
  let g = gwIt.next();
  let c = cloudIt.next();
  let expectCloud = 1;
  const gwLo = gwCount.lo ?? Number.POSITIVE_INFINITY;
  const gwHi = gwCount.hi ?? 0;
  while (!g.done || !c.done) {
    const gs = g.done ? Number.POSITIVE_INFINITY : g.value.seq;
    const cs = c.done ? Number.POSITIVE_INFINITY : c.value.seq;
    if (!c.done && cs <= gs) {
      const row = c.value;
      if (row.seq !== expectCloud) {
        if (row.seq > expectCloud) problems.add('gap', `cloud is missing seqs ${expectCloud}..${row.seq - 1} (gap before ${row.seq})`);
      }
      expectCloud = row.seq + 1;
      if (row.n > 1) problems.add('multi', `seq ${row.seq} is stored ${row.n} times in the cloud`);
      if (row.seq > cloudHwm) problems.add('beyond', `cloud holds seq ${row.seq} above its hwm ${cloudHwm}`);
      if (cs < gs && (row.seq > gwHi || row.seq >= gwLo)) {
        problems.add('unknown', `cloud holds seq ${row.seq}, which the gateway never wrote`);
      }
    }
    if (!g.done && gs <= cs) {
      const ev = g.value;
      intercepts.feed(ev);
      once.feed(ev);
      presale.feed(ev);
      picking.feed(ev);
      if (gs < cs && ev.seq <= ackedSeq) problems.add('missing', `seq ${ev.seq} (${ev.type}) is acknowledged but not in the cloud`);
    }
    if (!g.done && !c.done && gs === cs && !sameContent(g.value, c.value)) {
      problems.add('content', `seq ${gs}: cloud content differs from the gateway's (${c.value.type} vs ${g.value.type})`);
    }
    if (!c.done && cs <= gs) c = cloudIt.next();
    if (!g.done && gs <= cs) g = gwIt.next();
  }
  if (expectCloud - 1 < cloudHwm) problems.add('gap', `cloud hwm is ${cloudHwm} but it holds seqs only up to ${expectCloud - 1}`);
  picking.finish();
  const stock = picking.compareStock(cloudDb);

  return {
    ok: problems.list.length === 0,
    problems: problems.summarise(),
    stats: {
      gatewayEvents: gwCount.n,
      cloudEvents: agg.n,
      ackedSeq,
      cloudHwm,
      duplicatesReceived: agg.dups,
      rejected: agg.rejected,
      conflicts: conflicts.length,
      interceptViolations: intercepts.violations,
      handovers: countDistinct(cloudDb, gatewayId, SYNC_EVENT.handedOver, 'subject'),
      carrierSwitches: countDistinct(cloudDb, gatewayId, SYNC_EVENT.carrierSwitched, "json_extract(data, '$.switch_id')"),
      presaleStaged: countDistinct(cloudDb, gatewayId, PRESALE_SYNC_EVENTS.staged, 'subject'),
      presaleReleased: countDistinct(cloudDb, gatewayId, PRESALE_SYNC_EVENTS.released, 'subject'),
      presaleUnpacked: countDistinct(cloudDb, gatewayId, PRESALE_SYNC_EVENTS.unpacked, 'subject'),
      presalePaid: countDistinct(cloudDb, gatewayId, PRESALE_SYNC_EVENTS.paid, 'subject'),
      picks: hasTable(cloudDb, 'stock_moves') ? cloudPicks(cloudDb, gatewayId) : { lines: 0, units: 0 },
      stockCompared: stock.compared,
      stockMismatches: stock.mismatches,
      stockPendingCounts: stock.pending,
    },
  };
}

function readAcked(gwDb: Db): number {
  const hasMeta = gwDb.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  if (!hasMeta) return 0;
  const v = gwDb.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(GATEWAY_ACKED_KEY) as string | undefined;
  const n = Number(v ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Same event: every column equal, `data` compared as JSON values (key order ignored). */
function sameContent(a: GwRow, b: GwRow): boolean {
  return (
    a.hlc === b.hlc &&
    Number(a.boot) === Number(b.boot) &&
    Boolean(a.clock_unsynced) === Boolean(b.clock_unsynced) &&
    a.type === b.type &&
    a.subject === b.subject &&
    canonicalData(a.data) === canonicalData(b.data)
  );
}

function canonicalData(text: string): string {
  try {
    return canonical(JSON.parse(text));
  } catch {
    return `\u0000invalid:${text}`;
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Walks the gateway's log in seq order and flags a label or a shipment for an order the
 * gateway had already been told to stop. Shipment → order comes from the events' data: every
 * shipment event but label_queued carries `order_id`, and label_queued follows the
 * shipment.opened that does (subject `shipment:<id>`).
 */
class InterceptCheck {
  violations = 0;
  private readonly orderOfShipment = new Map<string, string>();
  /** order → statuses in force (and the seq that set each). */
  private readonly stops = new Map<string, Map<string, number>>();

  constructor(private readonly problems: Problems) {}

  feed(e: GwRow): void {
    let data: Record<string, unknown>;
    try {
      const d = JSON.parse(e.data) as unknown;
      if (d === null || typeof d !== 'object' || Array.isArray(d)) return;
      data = d as Record<string, unknown>;
    } catch {
      return;
    }
    const orderId = typeof data.order_id === 'string' ? data.order_id : null;
    const shipmentId = e.subject.startsWith('shipment:') ? e.subject.slice('shipment:'.length) : null;
    if (shipmentId !== null && orderId !== null) this.orderOfShipment.set(shipmentId, orderId);

    if (e.type === STATUS_APPLIED && orderId !== null && typeof data.status === 'string') {
      const stops = this.stopsOf(orderId);
      if (data.status === 'refund_withdrawn') stops.delete('refund_requested');
      else if (INTERCEPTING_STATUSES.has(data.status) && !stops.has(data.status)) stops.set(data.status, e.seq);
      return;
    }
    if (e.type === SYNC_EVENT.cancelAccepted && orderId !== null) {
      const stops = this.stopsOf(orderId);
      if (!stops.has('cancel_accepted')) stops.set('cancel_accepted', e.seq);
      return;
    }
    if ((e.type === LABEL_QUEUED || e.type === SHIPPED) && shipmentId !== null) {
      const order = orderId ?? this.orderOfShipment.get(shipmentId);
      if (order === undefined) return;
      const stops = this.stops.get(order);
      if (stops === undefined || stops.size === 0) return;
      const [status, at] = [...stops.entries()][0]!;
      this.violations += 1;
      this.problems.add('intercept', `order ${order} was ${status} at seq ${at} but shipment ${shipmentId} got ${e.type} at seq ${e.seq}`);
    }
  }

  /** The first interception in force for an order (status and seq), or null. */
  stopped(orderId: string): [status: string, seq: number] | null {
    const s = this.stops.get(orderId);
    return s === undefined || s.size === 0 ? null : ([...s.entries()][0] as [string, number]);
  }

  private stopsOf(orderId: string): Map<string, number> {
    let s = this.stops.get(orderId);
    if (s === undefined) {
      s = new Map();
      this.stops.set(orderId, s);
    }
    return s;
  }
}

function countDistinct(cloudDb: Db, gatewayId: string, type: string, expr: string): number {
  return (cloudDb.prepare(`SELECT COUNT(DISTINCT ${expr}) AS n FROM events WHERE gateway_id = ? AND type = ?`).get(gatewayId, type) as { n: number }).n;
}

/**
 * A parcel is handed to its courier once (one `shipment.handed_over` per shipment) and a
 * carrier switch is applied once (one `order.carrier_switched` per switch id): a second one
 * in the gateway's log is a problem even when sync delivered each event exactly once.
 */
class OnceCheck {
  private readonly handedOver = new Map<string, number>();
  private readonly switches = new Map<string, number>();

  constructor(private readonly problems: Problems) {}

  feed(e: GwRow): void {
    if (e.type === SYNC_EVENT.handedOver) {
      const first = this.handedOver.get(e.subject);
      if (first !== undefined) this.problems.add('handover', `${e.subject} was handed over at seq ${first} and again at seq ${e.seq}`);
      else this.handedOver.set(e.subject, e.seq);
    } else if (e.type === SYNC_EVENT.carrierSwitched) {
      let id: unknown;
      try {
        id = (JSON.parse(e.data) as { switch_id?: unknown }).switch_id;
      } catch {
        return;
      }
      if (typeof id !== 'string') return;
      const first = this.switches.get(id);
      if (first !== undefined) this.problems.add('switch', `carrier switch ${id} applied at seq ${first} and again at seq ${e.seq}`);
      else this.switches.set(id, e.seq);
    }
  }
}

/**
 * Presale in the gateway's log: a parcel is staged once (`presale.staged`, subject
 * `presale:{staging_id}`), then released (`presale.released`) or unpacked (`presale.unpacked`)
 * at most once and never both; a release comes after its order's `order.paid`; and an order
 * imported as unpaid presale (`order.imported` with `presale: true`) gets no carrier label
 * (`shipment.label_queued`) before its `order.paid`.
 */
class PresaleCheck {
  /** Orders imported presale and not paid yet (in log order). */
  private readonly unpaid = new Set<string>();
  private readonly paid = new Set<string>();
  /** staging subject → what happened to it, with the seq. */
  private readonly parcels = new Map<string, { order: string; staged: number; released?: number; unpacked?: number }>();
  private readonly orderOfShipment = new Map<string, string>();

  constructor(private readonly problems: Problems) {}

  feed(e: GwRow): void {
    let data: Record<string, unknown>;
    try {
      const d = JSON.parse(e.data) as unknown;
      if (d === null || typeof d !== 'object' || Array.isArray(d)) return;
      data = d as Record<string, unknown>;
    } catch {
      return;
    }
    const orderId = typeof data.order_id === 'string' ? data.order_id : null;
    if (e.subject.startsWith('shipment:') && orderId !== null) this.orderOfShipment.set(e.subject, orderId);
    switch (e.type) {
      case 'order.imported':
        if (orderId !== null && data.presale === true && !this.paid.has(orderId)) this.unpaid.add(orderId);
        else if (orderId !== null) this.unpaid.delete(orderId);
        return;
      case PRESALE_SYNC_EVENTS.paid:
        if (orderId === null) return;
        if (this.paid.has(orderId)) this.problems.add('presale', `order ${orderId} was paid twice (seq ${e.seq})`);
        this.paid.add(orderId);
        this.unpaid.delete(orderId);
        return;
      case PRESALE_SYNC_EVENTS.staged: {
        if (this.parcels.has(e.subject)) this.problems.add('presale', `${e.subject} was staged twice (again at seq ${e.seq})`);
        else this.parcels.set(e.subject, { order: orderId ?? '', staged: e.seq });
        return;
      }
      case PRESALE_SYNC_EVENTS.released:
      case PRESALE_SYNC_EVENTS.unpacked: {
        const p = this.parcels.get(e.subject);
        const what = e.type === PRESALE_SYNC_EVENTS.released ? 'released' : 'unpacked';
        if (p === undefined) {
          this.problems.add('presale', `${e.subject} was ${what} at seq ${e.seq} but never staged`);
          return;
        }
        if (p.released !== undefined || p.unpacked !== undefined) {
          this.problems.add('presale', `${e.subject} was ${what} at seq ${e.seq} after being ${p.released !== undefined ? 'released' : 'unpacked'}`);
          return;
        }
        if (what === 'released') {
          p.released = e.seq;
          if (!this.paid.has(p.order)) this.problems.add('presale', `${e.subject} (order ${p.order}) was released at seq ${e.seq} before its payment`);
        } else {
          p.unpacked = e.seq;
        }
        return;
      }
      case 'shipment.label_queued': {
        const order = orderId ?? this.orderOfShipment.get(e.subject);
        if (order !== undefined && this.unpaid.has(order)) {
          this.problems.add('presale', `order ${order} is presale and unpaid but ${e.subject} got a carrier label at seq ${e.seq}`);
        }
        return;
      }
      default:
    }
  }
}

function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

interface GwCount {
  qty: number;
  asOf: number;
  revision: number;
}

/**
 * Walks the gateway's log for picking: rebuilds its stock per (location, SKU) up to the cloud's
 * hwm with the cloud's own derivation (cloud-stock.ts stockEffects), and checks each wave — no
 * line picked beyond what its orders asked for, no intercepted order built into a wave, pulled
 * when intercepted mid-wave, or sorted to after its interception.
 */
class PickingCheck {
  private readonly counts = new Map<string, GwCount>();
  /** pair → [seq, delta] moves up to the cloud's hwm. */
  private readonly moves = new Map<string, Array<[number, number]>>();
  private readonly lines = new Map<string, Map<number, PickLine>>();
  /** wave → line → units asked for. */
  private readonly asked = new Map<string, Map<number, number>>();
  /** wave → its orders not pulled, while the wave is open. */
  private readonly openWaves = new Map<string, Set<string>>();
  /** "wave order" pairs intercepted while the wave was open, not pulled yet: → the interception. */
  private readonly mustPull = new Map<string, string>();
  private readonly lineStore: PickLines = {
    get: (w, n) => this.lines.get(w)?.get(n) ?? null,
    lines: (w) => [...(this.lines.get(w) ?? new Map<number, PickLine>())],
    put: (w, n, l) => {
      let m = this.lines.get(w);
      if (m === undefined) {
        m = new Map();
        this.lines.set(w, m);
      }
      m.set(n, l);
    },
  };

  constructor(
    private readonly problems: Problems,
    private readonly intercepts: InterceptCheck,
    private readonly hwm: number,
  ) {}

  feed(e: GwRow): void {
    if (e.type === STATUS_APPLIED || e.type === SYNC_EVENT.cancelAccepted) return this.afterIntercept(e);
    if (!STOCK_EVENT_TYPES.has(e.type) && e.type !== 'pick.sorted' && e.type !== 'wave.closed') return;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (data === null || typeof data !== 'object') return;
    const waveId = typeof data.wave_id === 'string' ? data.wave_id : '';
    if (e.type === 'wave.built') this.built(e, waveId, data);
    if (e.type === 'wave.closed' || e.type === 'wave.cancelled') this.openWaves.delete(waveId);
    if (e.type === 'pick.order_pulled' && typeof data.order_id === 'string') {
      this.openWaves.get(waveId)?.delete(data.order_id);
      this.mustPull.delete(`${waveId} ${data.order_id}`);
    }
    if (e.type === 'pick.sorted' && typeof data.order_id === 'string') {
      const stop = this.intercepts.stopped(data.order_id);
      if (stop !== null) this.problems.add('pick-intercept', `a unit was sorted to order ${data.order_id} at seq ${e.seq}, ${stop[0]} at seq ${stop[1]}`);
      return;
    }
    if (e.type === 'wave.closed') return;
    const fx = stockEffects(e.type, data, this.lineStore);
    if (e.type === 'pick.confirmed' || e.type === 'pick.short') this.overPick(e, waveId, data);
    if (e.seq > this.hwm) return;
    for (const [location, sku, delta] of fx.moves) {
      const k = `${location}\u0000${sku}`;
      const list = this.moves.get(k) ?? [];
      list.push([e.seq, delta]);
      this.moves.set(k, list);
    }
    if (fx.count !== null) this.counts.set(`${fx.count.location}\u0000${fx.count.sku}`, { qty: fx.count.qty, asOf: e.seq, revision: fx.count.revision });
    if (e.type === 'stock.set' && typeof data.as_of_seq === 'number' && typeof data.location === 'string' && typeof data.sku === 'string') {
      this.counts.set(`${data.location}\u0000${data.sku}`, { qty: Number(data.qty), asOf: data.as_of_seq, revision: Number(data.revision) });
    }
  }

  private built(e: GwRow, waveId: string, data: Record<string, unknown>): void {
    const orders = Array.isArray(data.orders) ? (data.orders as unknown[]).filter((o): o is string => typeof o === 'string') : [];
    for (const o of orders) {
      const stop = this.intercepts.stopped(o);
      if (stop !== null) this.problems.add('pick-intercept', `wave ${waveId} (seq ${e.seq}) took order ${o}, ${stop[0]} at seq ${stop[1]}`);
    }
    this.openWaves.set(waveId, new Set(orders));
    const asked = new Map<number, number>();
    for (const l of Array.isArray(data.lines) ? (data.lines as unknown[]) : []) {
      if (!Array.isArray(l) || typeof l[0] !== 'number' || !Array.isArray(l[3])) continue;
      asked.set(
        l[0],
        (l[3] as unknown[]).reduce<number>((t, d) => t + (Array.isArray(d) && typeof d[1] === 'number' ? d[1] : 0), 0),
      );
    }
    this.asked.set(waveId, asked);
  }

  private afterIntercept(e: GwRow): void {
    let orderId: unknown;
    try {
      orderId = (JSON.parse(e.data) as { order_id?: unknown }).order_id;
    } catch {
      return;
    }
    if (typeof orderId !== 'string' || this.intercepts.stopped(orderId) === null) return;
    for (const [waveId, orders] of this.openWaves) if (orders.has(orderId)) this.mustPull.set(`${waveId} ${orderId}`, `${e.type} at seq ${e.seq}`);
  }

  private overPick(e: GwRow, waveId: string, data: Record<string, unknown>): void {
    const lineNo = Number(data.line_no);
    const line = this.lines.get(waveId)?.get(lineNo);
    const asked = this.asked.get(waveId)?.get(lineNo);
    if (line !== undefined && asked !== undefined && line.picked > asked) {
      this.problems.add('pick-twice', `wave ${waveId} line ${lineNo}: ${line.picked} units picked of ${asked} asked for (seq ${e.seq})`);
    }
  }

  /** Orders intercepted while their wave was open and never pulled from it. */
  finish(): void {
    for (const [k, why] of this.mustPull) {
      const [waveId, orderId] = k.split(' ');
      if (this.openWaves.get(waveId as string)?.has(orderId as string))
        this.problems.add('pick-intercept', `order ${orderId} (${why}) was never pulled from wave ${waveId}`);
    }
  }

  /** Compares the cloud's stock with the figure rebuilt from the gateway's log. */
  compareStock(cloudDb: Db): { compared: number; mismatches: number; pending: number } {
    const out = { compared: 0, mismatches: 0, pending: 0 };
    if (!hasTable(cloudDb, 'stock_counts')) return out;
    const seen = new Set<string>();
    for (const row of cloudStock(cloudDb)) {
      const k = `${row.location}\u0000${row.sku}`;
      seen.add(k);
      const count = this.counts.get(k);
      if (row.revision !== null && (count === undefined || count.revision !== row.revision)) {
        out.pending++;
        continue;
      }
      const gw = this.figure(k, count);
      out.compared++;
      if (gw !== row.qty) {
        out.mismatches++;
        this.problems.add('stock', `${row.sku} at ${row.location}: cloud holds ${row.qty}, the gateway's log says ${gw}`);
      }
    }
    for (const k of new Set([...this.counts.keys(), ...this.moves.keys()])) {
      if (seen.has(k)) continue;
      const gw = this.figure(k, this.counts.get(k));
      out.compared++;
      if (gw !== 0) {
        out.mismatches++;
        const [location, sku] = k.split('\u0000');
        this.problems.add('stock', `${sku} at ${location}: the gateway's log says ${gw}, the cloud has no stock there`);
      }
    }
    return out;
  }

  private figure(k: string, count: GwCount | undefined): number {
    const asOf = count?.asOf ?? 0;
    return (count?.qty ?? 0) + (this.moves.get(k) ?? []).reduce((t, [seq, d]) => (seq > asOf ? t + d : t), 0);
  }
}
