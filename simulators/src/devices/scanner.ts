/**
 * A barcode scanner: each scan is a `dev/{id}/evt/scan` {msg_id, code}; the result of a scan
 * is the gateway's ack or coded err (or a timeout), kept for inspection.
 */
import type { SimLogger } from '../lib/logger.js';
import { DeviceClient, type EventReply } from './device-client.js';

export interface ScannerOptions {
  mqttUrl: string;
  deviceId: string;
  secret: string;
  replyTimeoutMs?: number;
  /** Most recent results kept in `results` (older ones are dropped). */
  keepResults?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export type ScanResult = EventReply & { code: string; at: number };

export class ScannerSim {
  readonly client: DeviceClient;
  readonly results: ScanResult[] = [];
  private readonly keep: number;

  constructor(opts: ScannerOptions) {
    this.client = new DeviceClient({
      mqttUrl: opts.mqttUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      replyTimeoutMs: opts.replyTimeoutMs ?? 10_000,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.keep = opts.keepResults ?? 100;
  }

  get deviceId(): string {
    return this.client.deviceId;
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  /** Scans `code` and waits for the gateway's answer. */
  async scan(code: string): Promise<ScanResult> {
    const reply = await this.client.publishEvent('scan', { code, ts: Date.now() });
    const result: ScanResult = { ...reply, code, at: Date.now() };
    this.results.push(result);
    if (this.results.length > this.keep) this.results.splice(0, this.results.length - this.keep);
    return result;
  }
}
