/**
 * The dashboard's figures as Prometheus series (docs/operations.md "Metrics"), read at scrape
 * time so the shipping path pays nothing: parcels shipped per station and line (counted from
 * the event log, forward from the gateway's start), device online / fault and printer media
 * (device watch), sync lag (oldest unacknowledged event), waybill coverage, and the exception
 * queue by kind. The queries that scan (coverage, print exceptions, recalls, refused cancels)
 * are refreshed at most every `slowEveryMs`, however often Prometheus scrapes.
 */
import { SYNC_EVENT } from '../../../contracts/sync.js';
import type { Config } from '../config/schema.js';
import { EVENT } from '../station/events.js';
import type { StationSummary } from '../station/ports.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../storage/types.js';
import { wallMs } from '../sync/shipment-feed.js';
import { mediaState } from './checks/printer-media.js';
import type { DeviceWatch } from './device-watch.js';

/** What the ops metrics read of the store (narrow: they never write). */
export type OpsMetricsStore = Pick<
  Store,
  'eventRowsOfTypes' | 'getShipment' | 'openSyncFailureCount' | 'printExceptions' | 'readEventRows' | 'shippedButIntercepted' | 'stats' | 'waybillCoverage'
>;

/**
 * Log rows looked at per read, and reads per scrape: a scrape after a long pause stays short.
 * Each read of shipped events costs a shipment lookup per row; reads are small and the
 * collector yields to the event loop between them, so a scrape after 15 s at 100 shipments/s
 * (1,500 shipped events) never holds the loop for more than one small read (it held it
 * 50-130 ms in bench core with 1,000-row reads).
 */
const SCAN_PER_READ = 12_500;
const READS_PER_SCRAPE = 16;
const ROWS_PER_READ = 250;

export interface OpsMetricsDeps {
  config: Readonly<Config>;
  metrics: Metrics;
  store: OpsMetricsStore;
  watch: DeviceWatch;
  stations: () => StationSummary[];
  ackedSeq: () => number;
  now?: () => number;
  slowEveryMs?: number;
}

/** Registers the collectors; returns the function that unregisters them. */
export function collectOpsMetrics(deps: OpsMetricsDeps): () => void {
  const { config, metrics, store, watch } = deps;
  const now = deps.now ?? Date.now;
  const slowEveryMs = deps.slowEveryMs ?? 30_000;
  metrics.declareShippingPoints(
    config.stations.map((s) => s.id),
    config.lines.map((l) => l.id),
  );
  const lineIds = new Set(config.lines.map((l) => l.id));
  let shippedAfter = store.stats().lastSeq; // counters start at the gateway's start, as Prometheus expects
  let refusedAfter = 0;
  let refusedCancels = 0;
  let slowAt = Number.NEGATIVE_INFINITY;

  // One count at a time: two scrapes that overlap share it (each read moves shippedAfter).
  let counting: Promise<void> | null = null;
  const countShipped = (): Promise<void> => {
    counting ??= countShippedNow().finally(() => {
      counting = null;
    });
    return counting;
  };
  const countShippedNow = async () => {
    for (let read = 0; read < READS_PER_SCRAPE; read++) {
      if (read > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const { rows, scannedTo } = store.eventRowsOfTypes([EVENT.shipped, EVENT.parcelDiverted], shippedAfter, ROWS_PER_READ, SCAN_PER_READ);
      for (const r of rows) {
        const data = JSON.parse(r.data) as { line_id?: unknown; reason?: unknown };
        if (r.type === EVENT.parcelDiverted) {
          // A line's parcels: sorted to a carrier's chute (shipped at a station or on the line).
          if (data.reason === 'carrier' && r.subject.startsWith('line:')) metrics.parcelShipped('line', r.subject.slice('line:'.length));
        } else if (typeof data.line_id === 'string') {
          // Shipped by the line itself: its divert event (above) counts it.
        } else {
          const shipment = store.getShipment(r.subject.slice('shipment:'.length));
          if (shipment !== null) metrics.parcelShipped(lineIds.has(shipment.stationId) ? 'line' : 'station', shipment.stationId);
        }
      }
      if (scannedTo <= shippedAfter) break; // caught up with the log
      shippedAfter = scannedTo;
    }
  };

  const slow = () => {
    const cov = store.waybillCoverage();
    metrics.setWaybillCoverage(cov.open, cov.withWaybill);
    metrics.setExceptionQueue('intercept', store.shippedButIntercepted(10_000).length);
    metrics.setExceptionQueue('print_failure', store.printExceptions({ limit: 10_000 }).length);
    // Refused cancels stay on the queue until someone decides; the log is append-only, so count forward.
    const { rows, scannedTo } = store.eventRowsOfTypes([SYNC_EVENT.cancelRefused], refusedAfter, ROWS_PER_READ, SCAN_PER_READ);
    refusedCancels += rows.length;
    refusedAfter = Math.max(refusedAfter, scannedTo);
    metrics.setExceptionQueue('refused_cancel', refusedCancels);
  };

  return deps.metrics.collectFrom(async () => {
    await countShipped();
    for (const d of watch.devices()) {
      metrics.setDevice(d.id, d.role, d.online, d.online && d.state === 'error');
      if (d.role === 'printer') metrics.setPrinterMedia(d.id, mediaState(d) as Parameters<Metrics['setPrinterMedia']>[1]);
    }
    const acked = deps.ackedSeq();
    const oldest = store.readEventRows(acked, 1)[0];
    metrics.setSyncLag(oldest === undefined ? 0 : (now() - wallMs(oldest.hlc)) / 1000);
    metrics.setExceptionQueue('sync_failure', store.openSyncFailureCount());
    metrics.setExceptionQueue('weight_hold', deps.stations().filter((s) => s.state === 'held').length);
    if (now() - slowAt >= slowEveryMs) {
      slowAt = now();
      slow();
    }
  });
}
