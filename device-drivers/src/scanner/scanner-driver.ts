/**
 * Bridges a barcode scanner that is not an MQTT client onto the broker as itself: a serial
 * (RS-232 / USB-CDC) scanner, or an input device read as evdev events or hidraw reports.
 * Bytes → decoder (serial lines, evdev `input_event`, HID keyboard boot reports, HID POS) →
 * post-processing (prefix/suffix, AIM id, duplicate reads) → `dev/{id}/evt/scan` with a
 * `msg_id`, QoS 1. Scans are what a parcel is made of, so unlike weights they are never
 * dropped while the broker is away: up to `maxQueued` wait and go out in order on reconnect.
 */
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from '../transports/backoff.js';
import type { ByteTransport, TransportFactory } from '../transports/byte-transport.js';
import { DeviceMqttSession, type MqttDeviceOptions } from '../scale/driver/mqtt-session.js';
import { EvdevDecoder } from './evdev.js';
import { HidKeyboardDecoder } from './hid-keyboard.js';
import { HidPosScannerDecoder } from './hid-pos.js';
import { ScanPostprocessor, type ScanPostprocessOptions } from './postprocess.js';
import { type LineTerminator, SerialScannerDecoder } from './serial-scanner.js';
import type { ScannerDecoder } from './types.js';

export type ScannerWire = 'serial' | 'evdev' | 'hid-keyboard' | 'hid-pos';

export interface ScannerDriverOptions {
  readonly deviceId: string;
  readonly wire: ScannerWire;
  readonly transport: TransportFactory;
  readonly mqtt: MqttDeviceOptions;
  /** Keyboard layout for evdev / HID keyboard scanners (`us`, `de`, `fr`). */
  readonly layout?: string;
  readonly postprocess?: ScanPostprocessOptions;
  /**
   * Idle gap that ends the scan in progress: a scan without terminator by configuration ends
   * there; one still waiting for its configured suffix was cut off and is dropped
   * (`PKL_SCAN_INCOMPLETE`, counted in `incomplete`). Also the longest gap between two keys
   * (two HID POS reports) of one scan. Default 100 ms.
   */
  readonly idleFlushMs?: number;
  /** Serial line terminator (`serial` wire); default `any`, `none` = suffix off. */
  readonly terminator?: LineTerminator;
  /** Scans kept while the broker is unreachable. Default 200. */
  readonly maxQueued?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
}

export interface ScannerDriverStats {
  readonly scans: number;
  readonly duplicates: number;
  readonly errors: number;
  /** Scans cut off before their suffix (or last report), dropped — never passed on. */
  readonly incomplete: number;
  readonly queued: number;
  readonly droppedWhileOffline: number;
}

const DEFAULT_IDLE_FLUSH_MS = 100;

function decoderFor(o: ScannerDriverOptions): ScannerDecoder {
  const gap = o.idleFlushMs ?? DEFAULT_IDLE_FLUSH_MS;
  const layout = o.layout === undefined ? {} : { layout: o.layout };
  switch (o.wire) {
    case 'serial':
      return new SerialScannerDecoder(o.terminator === undefined ? {} : { terminator: o.terminator });
    case 'evdev':
      return new EvdevDecoder({ ...layout, maxKeyGapMs: gap });
    case 'hid-keyboard':
      return new HidKeyboardDecoder({ ...layout, maxKeyGapMs: gap });
    case 'hid-pos':
      return new HidPosScannerDecoder({ maxReportGapMs: gap });
  }
}

export class ScannerDriver {
  readonly name: string;
  readonly #o: ScannerDriverOptions;
  readonly #log: Logger;
  readonly #session: DeviceMqttSession;
  readonly #post: ScanPostprocessor;
  /** msg_id stem unique per driver start, so ids never repeat across restarts. */
  readonly #stem = randomBytes(4).toString('hex');
  #n = 0;
  #running = false;
  #transport: ByteTransport | null = null;
  #decoder: ScannerDecoder;
  #flushTimer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  readonly #queue: object[] = [];
  #stats = { scans: 0, duplicates: 0, errors: 0, incomplete: 0, droppedWhileOffline: 0 };

  constructor(options: ScannerDriverOptions) {
    this.#o = options;
    this.name = `scanner:${options.deviceId}`;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#decoder = decoderFor(options);
    this.#post = new ScanPostprocessor(options.postprocess ?? {});
    this.#session = new DeviceMqttSession(options.mqtt, ['display'], () => undefined);
  }

  stats(): ScannerDriverStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.#session.start();
    void this.#connectLoop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#retry) clearTimeout(this.#retry);
    await this.#transport?.close().catch(() => undefined);
    this.#transport = null;
    await this.#session.stop('offline', 'driver stopped');
  }

  async #connectLoop(): Promise<void> {
    const backoff = new Backoff({ ...DEFAULT_BACKOFF, ...this.#o.backoff });
    while (this.#running) {
      const t = this.#o.transport();
      this.#transport = t;
      const closed = new Promise<string>((resolve) => t.onClose(resolve));
      t.onData((chunk) => this.#onBytes(chunk));
      try {
        await t.open();
        backoff.reset();
        const leaks = t.keystrokeLeaks;
        if (leaks && leaks.length > 0) {
          // Online, but every scan is also typed into the console: say so where operators look.
          const reason = `keystrokes leak: ${leaks.join(', ')} not inhibited (udev rule docs/udev/70-packline-hid.rules)`;
          this.#log.warn({ device: t.description, leaks }, 'keyboard-wedge scanner still types into the console');
          this.#session.setState('online', reason);
        } else {
          this.#session.setState('online');
        }
        const reason = await closed;
        if (!this.#running) return;
        this.#session.setState('offline', reason);
      } catch (err) {
        this.#session.setState('offline', `cannot open ${t.description}: ${err instanceof Error ? err.message : String(err)}`);
      }
      // A scan the unplug cut off is dropped and counted, never carried over to the device's return.
      this.#handle(this.#decoder.flush());
      this.#decoder.reset();
      await new Promise((r) => setTimeout(r, backoff.next()));
    }
  }

  #onBytes(chunk: Uint8Array): void {
    this.#handle(this.#decoder.push(chunk, performance.now()));
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    // Armed while anything waits: held bytes or a scan still missing its suffix (whole HID
    // reports leave no bytes behind, but can leave half a code).
    if (this.#decoder.pending) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = null;
        this.#handle(this.#decoder.flush());
      }, this.#o.idleFlushMs ?? DEFAULT_IDLE_FLUSH_MS);
    }
  }

  #handle(frames: ReturnType<ScannerDecoder['push']>): void {
    for (const f of frames) {
      if (f.type === 'error') {
        this.#stats.errors++;
        if (f.code === 'PKL_SCAN_INCOMPLETE') this.#stats.incomplete++;
        this.#log.warn({ code: f.code, detail: f.detail }, 'scanner frame refused');
        continue;
      }
      const r = this.#post.process(f, Date.now());
      if (r.type === 'duplicate') {
        this.#stats.duplicates++;
        continue;
      }
      if (r.type === 'error') {
        this.#stats.errors++;
        this.#log.warn({ code: r.code, detail: r.detail }, 'scan refused');
        continue;
      }
      this.#stats.scans++;
      const payload: Record<string, unknown> = { msg_id: `${this.#o.deviceId}-${this.#stem}-${(this.#n++).toString(36)}`, code: r.code, ts: Date.now() };
      if (r.symbology !== undefined) payload.symbology = r.symbology;
      this.#queue.push(payload);
      if (this.#queue.length > (this.#o.maxQueued ?? 200)) {
        this.#queue.shift();
        this.#stats.droppedWhileOffline++;
      }
    }
    this.#drain();
  }

  /** Sends queued scans in order while the broker link is up; retries shortly otherwise. */
  #drain(): void {
    while (this.#queue.length > 0 && this.#session.connected) {
      this.#session.publishEvent('scan', this.#queue.shift() as object, 1);
    }
    if (this.#queue.length > 0 && this.#running && this.#retry === null) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        this.#drain();
      }, 500);
    }
  }
}
