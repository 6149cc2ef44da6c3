/**
 * A packing station whose scale and printer are wire-protocol devices, driven by the gateway
 * exactly as on a real site (`devices[].driver`): the scale is a simulated indicator on the
 * device end of a pseudo-terminal pair (the gateway's scale driver opens the other end)
 * and the printer is the ZPL raw-TCP printer simulator (the gateway's printer driver connects
 * to it). The scanner and the screen stay MQTT devices with their own credentials.
 *
 * The packer's loop is the MQTT station's (station-sim.ts): scan the order and its items → put
 * the parcel on the scale → wait for the label to come out of the printer → take the parcel
 * off. The parcel's weight goes on the simulated indicator, not on MQTT; the outcome is read
 * from the printer (a label with the order's waybill) and from the station screen (a hold or
 * an intercept instead of a label).
 */
import { join } from 'node:path';
import type { ProtocolOptions, SerialLineSettings } from '../../../device-drivers/src/scale/types.js';
import { DisplaySim } from '../devices/display.js';
import { ScannerSim } from '../devices/scanner.js';
import { type DeviceLogin, SIM_CODES, type ShipmentResult, type ShipmentStage, type StationSimStats, type VerifyItems } from '../devices/station-sim.js';
import { makeEan13 } from '../lib/ean13.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { Prng } from '../lib/prng.js';
import { Counter, LatencyRecorder } from '../lib/stats.js';
import { nowMs, sleep } from '../lib/time.js';
import { expectedGrams, type WireOrder } from '../orders/wire-order.js';
import type { PrintedLabel } from '../printer/raw-printer-sim.js';
import { ZplPrinterSim } from '../printer/zpl-printer-sim.js';
import type { SimulatedProtocol } from '../scale/device-side.js';
import { PtyPair } from '../scale/pty-pair.js';
import { ScaleSimulator } from '../scale/scale-simulator.js';

export interface WireScaleOptions {
  readonly protocol: SimulatedProtocol;
  /** Protocol options of the gateway's scale definition (e.g. `{ unit: 'kg' }`). */
  readonly options?: ProtocolOptions;
  /** Line settings of the definition (parity and baud are not emulated by a pty, but set). */
  readonly line?: SerialLineSettings;
  /** The pty link the gateway's scale driver opens (its config's `link.path`). */
  readonly driverPath: string;
  /** The pty link the simulated indicator opens. */
  readonly devicePath: string;
}

export interface WireStationSimOptions {
  stationId: string;
  mqttUrl: string;
  scanner: DeviceLogin;
  display?: DeviceLogin;
  scale: WireScaleOptions;
  /** The ZPL printer simulator listens on 127.0.0.1:`port` (the gateway's printer driver config). */
  printerPort: number;
  /** Labels are written here as label-NNNN.zpl; omit to keep them in memory only. */
  labelsDir?: string;
  verifyItems?: VerifyItems;
  orderBarcode?: 'order_id' | 'pick_slip';
  seed?: number;
  wrongItemRate?: number;
  defaultPackagingGrams?: number;
  replyTimeoutMs?: number;
  printTimeoutMs?: number;
  parcelEveryMs?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

/** Readings within this many grams of zero count as an empty platform (the gateway's default is wider). */
const EMPTY_GRAMS = 5;

export class WireStationSim {
  readonly stationId: string;
  readonly scanner: ScannerSim;
  readonly display: DisplaySim | null;
  readonly pty: PtyPair;
  readonly scale: ScaleSimulator;
  readonly printer: ZplPrinterSim;
  private readonly rng: Prng;
  private readonly log: SimLogger;
  private readonly latency = new LatencyRecorder(100_000);
  private readonly outcomes = new Counter();
  private readonly codes = new Counter();
  private shipments = 0;
  private printFailed = 0;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();

  constructor(private readonly opts: WireStationSimOptions) {
    this.stationId = opts.stationId;
    this.log = opts.logger ?? silentLogger;
    this.rng = new Prng(opts.seed ?? 11);
    const common = {
      mqttUrl: opts.mqttUrl,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    };
    this.scanner = new ScannerSim({ ...common, ...opts.scanner, replyTimeoutMs: opts.replyTimeoutMs ?? 10_000 });
    this.display = opts.display ? new DisplaySim({ ...common, ...opts.display, stationId: opts.stationId }) : null;
    this.pty = new PtyPair({ driverPath: opts.scale.driverPath, devicePath: opts.scale.devicePath });
    this.scale = new ScaleSimulator({
      protocol: opts.scale.protocol,
      ...(opts.scale.options ? { options: opts.scale.options } : {}),
      link: { kind: 'serial', path: opts.scale.devicePath, ...(opts.scale.line ? { line: opts.scale.line } : {}) },
      loadGrams: 0,
    });
    // PNG previews are left off: rendering costs more CPU than the rest of the floor on a Pi.
    this.printer = new ZplPrinterSim({ port: opts.printerPort, renderPng: false, ...(opts.labelsDir ? { outDir: opts.labelsDir } : {}) });
  }

  /** Creates the pty pair, opens the indicator, listens as the printer, connects the MQTT devices. */
  async start(): Promise<void> {
    await this.pty.start();
    try {
      await this.scale.start();
      await this.printer.start();
      await Promise.all([this.scanner.start(), this.display?.start()]);
    } catch (err) {
      await this.stopDevices();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
    this.loop = null;
    await this.stopDevices();
  }

  private async stopDevices(): Promise<void> {
    await Promise.allSettled([this.scanner.stop(), this.display?.stop(), this.printer.stop(), this.scale.stop()]);
    await this.pty.stop();
  }

  /** Packs parcels until stop(), like StationSim.run. */
  run(nextOrder: () => WireOrder | undefined, onResult?: (r: ShipmentResult) => void): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.loop = (async () => {
      await this.driversReady(signal);
      while (!signal.aborted) {
        const order = nextOrder();
        if (!order) {
          await sleep(500, signal);
          continue;
        }
        const result = await this.pack(order, signal);
        onResult?.(result);
        await sleep(this.opts.parcelEveryMs ?? 0, signal);
      }
    })().catch((err: Error) => this.log.error({ stationId: this.stationId, err: err.message }, 'wire station sim loop failed'));
  }

  stats(): StationSimStats {
    return {
      stationId: this.stationId,
      shipments: this.shipments,
      outcomes: this.outcomes.toJSON(),
      codes: this.codes.toJSON(),
      latencyMs: this.latency.summary(),
      printer: { printed: this.printer.labels.length, failed: this.printFailed, rejected: 0 },
      displayUpdates: this.display ? this.display.updates : null,
    };
  }

  async pack(order: WireOrder, signal?: AbortSignal): Promise<ShipmentResult> {
    this.shipments++;
    let result: ShipmentResult;
    try {
      result = await this.packInner(order, signal);
    } catch (err) {
      this.log.warn({ stationId: this.stationId, err: (err as Error).message }, 'wire station parcel failed');
      result = this.result(order, 'order_scan', 'timeout', SIM_CODES.deviceError);
    }
    this.outcomes.add(result.outcome);
    if (result.code) this.codes.add(result.code);
    if (result.latencyMs !== null) this.latency.record(result.latencyMs);
    this.log.debug({ ...result }, 'wire station parcel done');
    return result;
  }

  private result(order: WireOrder, stage: ShipmentStage, outcome: ShipmentResult['outcome'], code: string | null): ShipmentResult {
    return {
      stationId: this.stationId,
      orderId: order.order_id,
      outcome,
      stage,
      code,
      latencyMs: null,
      fromIntendedMs: null,
      jobId: null,
      waybill: null,
      grams: null,
    };
  }

  private async packInner(order: WireOrder, signal?: AbortSignal): Promise<ShipmentResult> {
    const codeOf = (r: Awaited<ReturnType<ScannerSim['scan']>>) => (r.status === 'error' ? String(r.error.code) : SIM_CODES.replyTimeout);
    const orderCode = this.opts.orderBarcode === 'pick_slip' ? (order.barcodes[0] ?? order.order_id) : order.order_id;
    const opened = await this.scanner.scan(orderCode);
    if (opened.status !== 'ack') return this.result(order, 'order_scan', opened.status === 'error' ? 'rejected' : 'timeout', codeOf(opened));

    const verify = this.opts.verifyItems ?? 'always';
    const units = order.lines.reduce((s, l) => s + l.qty, 0);
    if (verify === 'always' || (verify === 'multi_item' && units > 1)) {
      if (this.rng.chance(this.opts.wrongItemRate ?? 0)) {
        const wrong = await this.scanner.scan(makeEan13(`200${this.rng.digits(9)}`));
        if (wrong.status === 'error') this.codes.add(String(wrong.error.code));
      }
      for (const line of order.lines) {
        for (let i = 0; i < line.qty; i++) {
          const r = await this.scanner.scan(line.barcode);
          if (r.status !== 'ack') return this.result(order, 'item_scan', r.status === 'error' ? 'rejected' : 'timeout', codeOf(r));
        }
      }
    }

    // The parcel goes on the indicator; the gateway's driver reads it off the serial line.
    const grams = expectedGrams(order, this.opts.defaultPackagingGrams);
    const waybill = order.waybill;
    const label = this.nextLabel(waybill, order.order_id, this.opts.printTimeoutMs ?? 15_000, signal);
    const placedAt = nowMs();
    this.scale.setLoad(grams);
    const outcome = await label;
    await this.takeOff(signal);
    if (outcome.kind === 'label') {
      const latencyMs = outcome.at - placedAt;
      return { ...this.result(order, 'print', 'printed', null), latencyMs, waybill, grams };
    }
    if (outcome.kind === 'held') return { ...this.result(order, 'weigh', 'rejected', outcome.code), grams };
    if (outcome.kind === 'print_failed') {
      this.printFailed++;
      return { ...this.result(order, 'print', 'print_failed', outcome.code), grams };
    }
    return { ...this.result(order, 'print', 'timeout', SIM_CODES.printTimeout), grams };
  }

  /**
   * Resolves when the printer prints the label carrying `waybill`, or the screen shows that the
   * gateway held or intercepted the order (or that the print failed), or after `timeoutMs`.
   */
  private nextLabel(
    waybill: string | null,
    orderId: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ kind: 'label'; at: number } | { kind: 'held' | 'print_failed'; code: string } | { kind: 'timeout' }> {
    type Outcome = { kind: 'label'; at: number } | { kind: 'held' | 'print_failed'; code: string } | { kind: 'timeout' };
    return new Promise<Outcome>((resolve) => {
      const done = (o: Outcome) => {
        clearTimeout(timer);
        clearInterval(watch);
        this.printer.off('printed', onLabel);
        signal?.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const onLabel = (l: PrintedLabel) => {
        if (waybill === null || l.data.includes(waybill)) done({ kind: 'label', at: nowMs() });
      };
      const onAbort = () => done({ kind: 'timeout' });
      const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
      // The screen says when no label will come: a hold, an intercept, a failed print.
      const watch = setInterval(() => {
        const v = this.display?.view;
        if (!v || v.order_id !== orderId) return;
        if (v.state === 'held' || v.state === 'intercepted') done({ kind: 'held', code: v.alert?.code ?? v.state });
        else if (v.alert?.code === 'PKL_PRINT_FAILED') done({ kind: 'print_failed', code: 'PKL_PRINT_FAILED' });
      }, 100);
      this.printer.on('printed', onLabel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The gateway's drivers come up on their own schedule (they retry with backoff until the far
   * end of the wire exists): wait until the printer driver is connected and the gateway has
   * seen the empty scale, so the first parcel is not weighed before the scale driver reads.
   */
  private async driversReady(signal: AbortSignal): Promise<void> {
    const until = Date.now() + 60_000;
    while (!signal.aborted && Date.now() < until && this.printer.connections === 0) await sleep(100, signal);
    await this.emptySeen(60_000, signal);
    if (!signal.aborted)
      this.log.info({ stationId: this.stationId, protocol: this.opts.scale.protocol }, 'wire station devices are being driven by the gateway');
  }

  /**
   * Takes the parcel off and waits until the gateway saw the empty platform: it takes the next
   * parcel's weight only after that (weight lock).
   */
  private async takeOff(signal?: AbortSignal): Promise<void> {
    this.scale.setLoad(0);
    await this.emptySeen(5_000, signal);
  }

  /** Waits until the station screen shows an empty scale; without a screen, a fixed second (several poll/stream periods of any protocol). */
  private async emptySeen(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.display) return sleep(1_000, signal);
    const until = Date.now() + timeoutMs;
    while (!signal?.aborted && Date.now() < until) {
      const w = this.display.view?.weight;
      if (w && Math.abs(w.grams) <= EMPTY_GRAMS) return;
      await sleep(50, signal);
    }
  }
}

/** Where a wire station's printer writes its labels: one folder per station under the floor's labels dir. */
export function wireLabelsDir(labelsDir: string, stationId: string): string {
  return join(labelsDir, stationId);
}
