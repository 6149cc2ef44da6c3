/**
 * One packing station: scanner + scale + label printer (+ optional screen), each its own
 * MQTT device, running the real packing flow against the gateway:
 *
 *   scan the order barcode → scan every item (qty times) → put the parcel on the scale →
 *   the gateway sends the label to this station's printer → the printer prints →
 *   take the parcel off (scale back to 0) → next order.
 *
 * Per parcel it measures scan-to-print latency: from the moment the stable weight is
 * published to the moment the print command arrives at the printer.
 */
import type { WireOrder } from '../orders/wire-order.js';
import { expectedGrams } from '../orders/wire-order.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { makeEan13 } from '../lib/ean13.js';
import { Prng } from '../lib/prng.js';
import { Counter, LatencyRecorder, type LatencySummary } from '../lib/stats.js';
import { nowMs, sleep } from '../lib/time.js';
import type { EventReply } from './device-client.js';
import { DisplaySim } from './display.js';
import { LabelPrinterSim, type PrinterFaults } from './label-printer.js';
import { ScaleSim, type ScaleFaults } from './scale.js';
import { ScannerSim } from './scanner.js';

export interface DeviceLogin {
  deviceId: string;
  secret: string;
}

export type VerifyItems = 'always' | 'multi_item' | 'never';

export interface StationSimOptions {
  stationId: string;
  /** Post-print: one scan of the order's item barcode picks the batch's next order (no order scan, no item verification). */
  postprint?: boolean;
  mqttUrl: string;
  scanner: DeviceLogin;
  scale: DeviceLogin;
  printer: DeviceLogin;
  display?: DeviceLogin;
  /** Where the printer writes `<job_id>.zpl`; omit to discard labels. */
  labelsDir?: string;
  /** Must match the station's gateway config (stations[].verifyItems). */
  verifyItems?: VerifyItems;
  /** Which barcode opens the order: the order id or the pick-slip number (barcodes[0]). */
  orderBarcode?: 'order_id' | 'pick_slip';
  seed?: number;
  scaleSettleReadings?: number;
  scaleReadingIntervalMs?: number;
  scaleFaults?: ScaleFaults;
  printerFaults?: PrinterFaults;
  /** Chance per parcel that the packer first scans an item that is not in the order. */
  wrongItemRate?: number;
  /** Chance per parcel that the parcel is 40 % too heavy (a forgotten extra item). */
  wrongWeightRate?: number;
  /** Default packaging grams the gateway assumes for orders without one. */
  defaultPackagingGrams?: number;
  replyTimeoutMs?: number;
  printTimeoutMs?: number;
  /** Pause after each parcel in `run()`. */
  parcelEveryMs?: number;
  /** Keep retrying an unreachable broker this long when starting (the gateway may still boot). */
  connectRetryMs?: number;
  logger?: SimLogger;
}

export type ShipmentOutcome = 'printed' | 'print_failed' | 'rejected' | 'timeout';
export type ShipmentStage = 'order_scan' | 'item_scan' | 'weigh' | 'print';

export interface ShipmentResult {
  stationId: string;
  orderId: string;
  outcome: ShipmentOutcome;
  /** Where the flow stopped (`print` for printed parcels). */
  stage: ShipmentStage;
  /** PKL_* code from the gateway, `paper_out`-style printer reason, or a SIM_* local code. */
  code: string | null;
  /** Stable weight published → print command received (ms), when a label came. */
  latencyMs: number | null;
  /** `weighAt` (intended weight time) → print command received (ms), when both are known. */
  fromIntendedMs: number | null;
  jobId: string | null;
  /** The waybill the parcel now carries (for the sorter line downstream). */
  waybill: string | null;
  grams: number | null;
}

/** Local codes for things that went wrong without a gateway answer. */
export const SIM_CODES = {
  replyTimeout: 'SIM_REPLY_TIMEOUT',
  printTimeout: 'SIM_PRINT_TIMEOUT',
  scaleUnstable: 'SIM_SCALE_UNSTABLE',
  printResultUnanswered: 'SIM_PRINT_RESULT_TIMEOUT',
  deviceError: 'SIM_DEVICE_ERROR',
} as const;

export interface StationSimStats {
  stationId: string;
  shipments: number;
  outcomes: Record<string, number>;
  codes: Record<string, number>;
  latencyMs: LatencySummary;
  printer: { printed: number; failed: number; rejected: number };
  displayUpdates: number | null;
}

function codeOf(r: EventReply): string {
  if (r.status === 'error') return String(r.error.code);
  return SIM_CODES.replyTimeout;
}

export class StationSim {
  readonly stationId: string;
  readonly scanner: ScannerSim;
  readonly scale: ScaleSim;
  readonly printer: LabelPrinterSim;
  readonly display: DisplaySim | null;
  private readonly rng: Prng;
  private readonly log: SimLogger;
  private readonly latency = new LatencyRecorder(100_000);
  private readonly outcomes = new Counter();
  private readonly codes = new Counter();
  private shipments = 0;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();

  constructor(private readonly opts: StationSimOptions) {
    this.stationId = opts.stationId;
    this.log = opts.logger ?? silentLogger;
    const seed = opts.seed ?? 7;
    this.rng = new Prng(seed);
    const common = {
      mqttUrl: opts.mqttUrl,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    };
    const replyTimeoutMs = opts.replyTimeoutMs ?? 10_000;
    this.scanner = new ScannerSim({ ...common, ...opts.scanner, replyTimeoutMs });
    this.scale = new ScaleSim({
      ...common,
      ...opts.scale,
      seed: seed + 1,
      replyTimeoutMs,
      ...(opts.scaleSettleReadings !== undefined ? { settleReadings: opts.scaleSettleReadings } : {}),
      ...(opts.scaleReadingIntervalMs !== undefined ? { readingIntervalMs: opts.scaleReadingIntervalMs } : {}),
      ...(opts.scaleFaults ? { faults: opts.scaleFaults } : {}),
    });
    this.printer = new LabelPrinterSim({
      ...common,
      ...opts.printer,
      replyTimeoutMs,
      ...(opts.labelsDir ? { labelsDir: opts.labelsDir } : {}),
      ...(opts.printerFaults ? { faults: opts.printerFaults } : {}),
    });
    this.display = opts.display ? new DisplaySim({ ...common, ...opts.display, stationId: opts.stationId }) : null;
  }

  /** Connects every device of the station. */
  async start(): Promise<void> {
    await Promise.all([this.scanner.start(), this.scale.start(), this.printer.start(), this.display?.start()]);
  }

  /** Stops the parcel loop (after the parcel in hand) and disconnects every device. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
    this.loop = null;
    await Promise.all([this.scanner.stop(), this.scale.stop(), this.printer.stop(), this.display?.stop()]);
  }

  /**
   * Packs parcels until stop(): takes orders from `nextOrder` (undefined: nothing to do, poll
   * again shortly) and reports each result to `onResult`.
   */
  run(nextOrder: () => WireOrder | undefined, onResult?: (r: ShipmentResult) => void): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        const order = nextOrder();
        if (!order) {
          await sleep(500, signal);
          continue;
        }
        const result = await this.pack(order);
        onResult?.(result);
        await sleep(this.opts.parcelEveryMs ?? 0, signal);
      }
    })().catch((err: Error) => this.log.error({ stationId: this.stationId, err: err.message }, 'station sim loop failed'));
  }

  stats(): StationSimStats {
    return {
      stationId: this.stationId,
      shipments: this.shipments,
      outcomes: this.outcomes.toJSON(),
      codes: this.codes.toJSON(),
      latencyMs: this.latency.summary(),
      printer: this.printer.stats(),
      displayUpdates: this.display ? this.display.updates : null,
    };
  }

  /**
   * Packs one order through the whole flow. `weighAt` (performance.now() time) holds the
   * parcel back until then, for open-loop load: latency is then also measured from the
   * intended time, so a late station cannot hide queueing (coordinated omission).
   */
  async pack(order: WireOrder, options: { weighAt?: number } = {}): Promise<ShipmentResult> {
    this.shipments++;
    let result: ShipmentResult;
    try {
      result = await this.packInner(order, options);
    } catch (err) {
      // A device dropped mid-parcel (stop(), broker gone): count it, keep the loop alive.
      this.log.warn({ stationId: this.stationId, err: (err as Error).message }, 'station sim parcel failed');
      result = {
        stationId: this.stationId,
        orderId: order.order_id,
        outcome: 'timeout',
        stage: 'order_scan',
        code: SIM_CODES.deviceError,
        latencyMs: null,
        fromIntendedMs: null,
        jobId: null,
        waybill: null,
        grams: null,
      };
    }
    this.outcomes.add(result.outcome);
    if (result.code) this.codes.add(result.code);
    if (result.latencyMs !== null) this.latency.record(result.latencyMs);
    this.log.debug({ ...result }, 'station sim parcel done');
    return result;
  }

  private async packInner(order: WireOrder, options: { weighAt?: number }): Promise<ShipmentResult> {
    const base = {
      stationId: this.stationId,
      orderId: order.order_id,
      latencyMs: null,
      fromIntendedMs: null,
      jobId: null,
      waybill: null,
      grams: null,
    };
    const stop = (stage: ShipmentStage, outcome: ShipmentOutcome, code: string | null): ShipmentResult => ({
      ...base,
      stage,
      outcome,
      code,
    });

    const orderCode = this.opts.postprint
      ? (order.lines[0]?.barcode ?? order.order_id)
      : this.opts.orderBarcode === 'pick_slip'
        ? (order.barcodes[0] ?? order.order_id)
        : order.order_id;
    const opened = await this.scanner.scan(orderCode);
    if (opened.status !== 'ack') return stop('order_scan', opened.status === 'error' ? 'rejected' : 'timeout', codeOf(opened));

    const verify = this.opts.postprint ? 'never' : (this.opts.verifyItems ?? 'always');
    const units = order.lines.reduce((s, l) => s + l.qty, 0);
    if (verify === 'always' || (verify === 'multi_item' && units > 1)) {
      if (this.rng.chance(this.opts.wrongItemRate ?? 0)) {
        // The packer grabs the wrong product; the gateway must refuse it and change nothing.
        const wrong = await this.scanner.scan(makeEan13(`200${this.rng.digits(9)}`));
        if (wrong.status === 'error') this.codes.add(String(wrong.error.code));
      }
      for (const line of order.lines) {
        for (let i = 0; i < line.qty; i++) {
          const r = await this.scanner.scan(line.barcode);
          if (r.status !== 'ack') return stop('item_scan', r.status === 'error' ? 'rejected' : 'timeout', codeOf(r));
        }
      }
    }

    let grams = expectedGrams(order, this.opts.defaultPackagingGrams);
    if (this.rng.chance(this.opts.wrongWeightRate ?? 0)) grams = Math.round(grams * 1.4);
    if (options.weighAt !== undefined) {
      // Timers work in whole milliseconds and may fire a fraction early; never weigh before due.
      while (nowMs() < options.weighAt) await sleep(Math.max(1, Math.ceil(options.weighAt - nowMs())));
    }

    const waiting = new AbortController();
    const printTimeoutMs = this.opts.printTimeoutMs ?? 15_000;
    const nextCmd = this.printer.nextCommand(printTimeoutMs, waiting.signal);
    const weighed = await this.scale.place(grams);
    if (weighed.reply === null || weighed.publishedAt === null) {
      waiting.abort();
      await nextCmd;
      await this.scale.remove();
      return stop('weigh', 'timeout', SIM_CODES.scaleUnstable);
    }
    const publishedAt = weighed.publishedAt;
    type Race = { kind: 'cmd'; v: Awaited<typeof nextCmd> } | { kind: 'err'; v: EventReply };
    const refused = weighed.reply.then((r) => (r.status === 'error' ? r : new Promise<never>(() => {})));
    const first: Race = await Promise.race([nextCmd.then((v): Race => ({ kind: 'cmd', v })), refused.then((v): Race => ({ kind: 'err', v }))]);
    if (first.kind === 'err' || first.v === null) {
      waiting.abort();
      await nextCmd;
      await this.scale.remove();
      if (first.kind === 'err') return { ...stop('weigh', 'rejected', codeOf(first.v)), grams: weighed.stableGrams };
      return { ...stop('print', 'timeout', SIM_CODES.printTimeout), grams: weighed.stableGrams };
    }
    const { cmd, receivedAt } = first.v;
    const latencyMs = receivedAt - publishedAt;
    const fromIntendedMs = options.weighAt !== undefined ? receivedAt - options.weighAt : null;
    const printed = await this.printer.whenPrinted(cmd.job_id, printTimeoutMs);
    await this.scale.remove();
    const common = {
      ...base,
      stage: 'print' as const,
      latencyMs,
      fromIntendedMs,
      jobId: cmd.job_id,
      // Post-print: the gateway picked the order (same composition, maybe not this one): its
      // waybill is not known here, so the parcel is not handed to the DWS line.
      waybill: this.opts.postprint ? null : order.waybill,
      grams: weighed.stableGrams,
    };
    if (!printed) return { ...common, outcome: 'timeout', code: SIM_CODES.printResultUnanswered };
    if (printed.status === 'failed') return { ...common, outcome: 'print_failed', code: printed.reason ?? 'failed' };
    if (printed.reply.status === 'error') return { ...common, outcome: 'printed', code: codeOf(printed.reply) };
    return { ...common, outcome: 'printed', code: null };
  }
}
