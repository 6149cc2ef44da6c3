/**
 * PNG previews of labels (docs/printing.md), rendered on the gateway with no internet:
 * the ZPL renderer of device-drivers/src/printer/zpl/png.ts (zpl-renderer-js, WebAssembly).
 *
 * Why a worker thread: measured on the development box (2 cores), one 76 × 130 mm carrier
 * label takes 100–450 ms of uninterrupted CPU once warm and ~2 s for the first render (plus
 * ~0.9 s to load the 9 MB module), during which the calling thread runs nothing else — on the
 * main thread that would stall MQTT, the station steps and the API. So renders run in one
 * worker (a pool of 1: the Pi has few cores and the renderer costs ~140 MB), started with the
 * first preview and stopped after `idleMs` without work. Renders are serial; at most
 * `maxQueued` wait behind the one in progress, and more are refused with PKL_OVERLOADED (503)
 * rather than queued without bound. A render that outlives `renderTimeoutMs` (a safety net:
 * cold start on a Pi included) gets the worker terminated and PKL_PREVIEW_FAILED.
 *
 * Limits: TSPL has no offline renderer (PKL_PREVIEW_UNSUPPORTED); the renderer's fonts have no
 * CJK glyphs, so Chinese shows as one box per character (the printer prints it with its own
 * font). A printed job keeps no data in the store (station-machine.ts drops it), so its preview
 * is re-rendered from the order and shipment as they are now, i.e. what a reprint would print.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PacklineError } from '../../../contracts/errors.js';
import { type PngSize, pngSizeFor } from '../../../device-drivers/src/printer/zpl/png.js';
import { labelDataFor } from '../label/label-data.js';
import { renderLabel } from '../label/render.js';
import type { LabelOptions } from '../label/zpl-label.js';
import type { Component } from '../lib/component.js';
import type { Logger } from '../lib/logger.js';
import type { PrintJob, Store } from '../storage/types.js';
import type { RenderReply, RenderRequest } from './label-render-worker.js';

export type LabelFormat = PrintJob['format'];

export interface LabelPreviewOptions {
  /** Renders that may wait behind the one in progress before PKL_OVERLOADED. Default 4. */
  maxQueued?: number;
  /** Safety net for one render, a cold worker start included. Default 60 s. */
  renderTimeoutMs?: number;
  /** The worker is stopped after this long without work (it holds ~140 MB). Default 2 min. */
  idleMs?: number;
  logger?: Logger;
}

/** A label longer than this is not a shipping label (the carrier label is ~1 KB). */
export const MAX_LABEL_BYTES = 1024 * 1024;
/** Largest image drawn: a 4 × 8 in label at 24 dots/mm (600 dpi) is ~12 M pixels. */
export const MAX_PIXELS = 16_000_000;

interface Task {
  id: number;
  zpl: string;
  size: PngSize;
  resolve: (png: Buffer) => void;
  reject: (err: PacklineError) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Under vitest and `node --import tsx` this module is a .ts file and so is the worker; a
 * worker gets no ESM loader hooks on Node 20 (nodejs/node#47747), so the .ts worker starts from
 * a CommonJS bootstrap that installs tsx's require hook first (as storage/sqlite-store.ts does).
 */
function startRenderWorker(): Worker {
  const ext = new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./label-render-worker${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(url);
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

export class LabelPreview implements Component {
  readonly name = 'label-preview';
  private running = false;
  private worker: Worker | null = null;
  private current: Task | null = null;
  private readonly queue: Task[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly maxQueued: number;
  private readonly renderTimeoutMs: number;
  private readonly idleMs: number;
  /** Counters for tests and logs: renders done, failed, workers started. */
  readonly counters = { rendered: 0, failed: 0, workersStarted: 0 };

  constructor(private readonly options: LabelPreviewOptions = {}) {
    this.maxQueued = options.maxQueued ?? 4;
    this.renderTimeoutMs = options.renderTimeoutMs ?? 60_000;
    this.idleMs = options.idleMs ?? 120_000;
  }

  /** Nothing to acquire yet: the worker starts with the first render. */
  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clearIdle();
    const waiting = [...(this.current === null ? [] : [this.current]), ...this.queue.splice(0)];
    this.current = null;
    for (const t of waiting) this.settle(t, new PacklineError('PKL_PREVIEW_FAILED', { reason: 'the gateway is stopping' }));
    await this.retireWorker();
  }

  /** Whether the worker is up (it is started by the first render and stopped when idle). */
  get workerRunning(): boolean {
    return this.worker !== null;
  }

  /**
   * The label as a PNG. ZPL only; the size comes from the format's `^PW`/`^LL` at `dpmm`
   * (default 8 dots/mm) unless given. Rejects with PKL_PREVIEW_UNSUPPORTED (TSPL),
   * PKL_OVERLOADED (too many renders waiting) or PKL_PREVIEW_FAILED.
   */
  renderLabelPng(format: LabelFormat, data: string, size: Partial<PngSize> = {}): Promise<Buffer> {
    if (format !== 'zpl') return Promise.reject(new PacklineError('PKL_PREVIEW_UNSUPPORTED', { format }));
    if (!this.running) return Promise.reject(new PacklineError('PKL_PREVIEW_FAILED', { reason: 'the preview renderer is not running' }));
    // Checked here, not in the worker: a format without a label makes the renderer throw, and
    // an oversize canvas would take the worker's memory.
    if (!/\^XA/i.test(data)) return Promise.reject(new PacklineError('PKL_PREVIEW_FAILED', { reason: 'the data holds no ^XA…^XZ label' }));
    if (Buffer.byteLength(data, 'utf8') > MAX_LABEL_BYTES) {
      return Promise.reject(new PacklineError('PKL_PREVIEW_FAILED', { reason: `label larger than ${MAX_LABEL_BYTES} bytes` }));
    }
    const s = pngSizeFor(data, size);
    const pixels = Math.ceil(s.widthMm * s.dpmm) * Math.ceil(s.heightMm * s.dpmm);
    if (!(s.widthMm > 0 && s.heightMm > 0 && s.dpmm > 0) || pixels > MAX_PIXELS) {
      return Promise.reject(
        new PacklineError('PKL_PREVIEW_FAILED', { reason: `label of ${s.widthMm} × ${s.heightMm} mm at ${s.dpmm} dots/mm is too large to draw` }),
      );
    }
    if (this.current !== null && this.queue.length >= this.maxQueued) {
      return Promise.reject(new PacklineError('PKL_OVERLOADED'));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, zpl: data, size: s, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current !== null || !this.running) return;
    const task = this.queue.shift();
    if (task === undefined) {
      this.scheduleIdle();
      return;
    }
    this.clearIdle();
    this.current = task;
    const worker = this.worker ?? this.spawn();
    task.timer = setTimeout(() => {
      if (this.current !== task) return;
      this.current = null;
      this.settle(task, new PacklineError('PKL_PREVIEW_FAILED', { reason: `the renderer took longer than ${this.renderTimeoutMs} ms` }));
      // A worker stuck in a render is terminated; the next render starts a fresh one.
      void this.retireWorker().then(() => this.pump());
    }, this.renderTimeoutMs);
    worker.postMessage({ id: task.id, zpl: task.zpl, size: task.size } satisfies RenderRequest);
  }

  private spawn(): Worker {
    const worker = startRenderWorker();
    // A preview never keeps the process alive on its own (the render's timer does, meanwhile).
    worker.unref();
    this.worker = worker;
    this.counters.workersStarted++;
    worker.on('message', (reply: RenderReply) => this.onReply(worker, reply));
    worker.on('error', (err) => this.options.logger?.warn({ err }, 'label preview worker failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return; // retired on purpose
      this.worker = null;
      const task = this.current;
      if (task !== null) {
        this.current = null;
        this.settle(task, new PacklineError('PKL_PREVIEW_FAILED', { reason: `the renderer exited (code ${code})` }));
      }
      this.pump();
    });
    return worker;
  }

  private onReply(worker: Worker, reply: RenderReply): void {
    const task = this.current;
    if (worker !== this.worker || task === null || task.id !== reply.id) return;
    this.current = null;
    if (reply.ok) {
      this.settle(task, Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
      this.pump();
      return;
    }
    this.settle(task, new PacklineError('PKL_PREVIEW_FAILED', { reason: reply.reason }));
    // The renderer is a Go program: after a failure it may be unusable ("Go program has
    // already exited"), so the next render gets a fresh worker.
    void this.retireWorker().then(() => this.pump());
  }

  private settle(task: Task, result: Buffer | PacklineError): void {
    clearTimeout(task.timer);
    if (result instanceof PacklineError) {
      this.counters.failed++;
      this.options.logger?.warn({ code: result.code, reason: result.details?.reason }, 'label preview failed');
      task.reject(result);
    } else {
      this.counters.rendered++;
      task.resolve(result);
    }
  }

  private async retireWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private scheduleIdle(): void {
    if (this.worker === null || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.current === null && this.queue.length === 0) void this.retireWorker();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** Where a preview's ZPL or TSPL comes from. */
export type PreviewLookups = Pick<Store, 'getShipment' | 'getOrder'>;

/**
 * The label text of a stored print job: its data, or — for a printed job, whose data the
 * store no longer holds — the label re-rendered from its shipment and order as they are now.
 */
export function labelSourceOf(job: PrintJob, store: PreviewLookups, label?: LabelOptions): { format: LabelFormat; data: string } {
  if (job.data !== '') return { format: job.format, data: job.data };
  if (job.format !== 'zpl') throw new PacklineError('PKL_PREVIEW_UNSUPPORTED', { format: job.format });
  const shipment = job.shipmentId === null ? null : store.getShipment(job.shipmentId);
  const order = shipment === null ? null : store.getOrder(shipment.orderId);
  if (shipment === null || order === null) {
    throw new PacklineError('PKL_PREVIEW_FAILED', { reason: `job ${job.jobId} was printed and its label can no longer be rebuilt` });
  }
  try {
    // The site's template for the carrier when given (its ZPL text is ^GF graphics, so Chinese
    // previews as it prints), else the built-in label.
    return { format: 'zpl', data: renderLabel('zpl', labelDataFor(order, shipment), label) };
  } catch (err) {
    if (err instanceof PacklineError) throw new PacklineError('PKL_PREVIEW_FAILED', { reason: err.message }, { cause: err });
    throw err;
  }
}
