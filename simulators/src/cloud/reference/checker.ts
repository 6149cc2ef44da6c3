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
 * Both databases are opened read-only and streamed in seq order, so a 720k-event backlog is
 * checked in constant memory (apart from the shipment → order map).
 */
import Database, { type Database as Db } from 'better-sqlite3';
import { PRESALE_SYNC_EVENTS, SYNC_EVENT } from '../../../../contracts/sync.js';
import type { CloudDb } from './cloud-db.js';

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
      if (gs < cs && ev.seq <= ackedSeq) problems.add('missing', `seq ${ev.seq} (${ev.type}) is acknowledged but not in the cloud`);
    }
    if (!g.done && !c.done && gs === cs && !sameContent(g.value, c.value)) {
      problems.add('content', `seq ${gs}: cloud content differs from the gateway's (${c.value.type} vs ${g.value.type})`);
    }
    if (!c.done && cs <= gs) c = cloudIt.next();
    if (!g.done && gs <= cs) g = gwIt.next();
  }
  if (expectCloud - 1 < cloudHwm) problems.add('gap', `cloud hwm is ${cloudHwm} but it holds seqs only up to ${expectCloud - 1}`);

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
