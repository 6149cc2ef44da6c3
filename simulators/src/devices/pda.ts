/**
 * An Android PDA (handheld terminal) as the gateway sees it: an MQTT client — over WebSocket
 * by default, like the real apps — with the `pda` role (docs/mqtt.md §7). It logs an operator
 * in at its station, scans like the station's scanner, watches the station's retained view,
 * receives tasks on `cmd/task` and confirms them.
 */
import type { StationView } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { SimLogger } from '../lib/logger.js';
import { DeviceClient, type EventReply } from './device-client.js';

export interface PdaOptions {
  /** ws://host:port/mqtt (or mqtt://host:port). */
  mqttUrl: string;
  deviceId: string;
  secret: string;
  stationId: string;
  replyTimeoutMs?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export class PdaSim {
  readonly client: DeviceClient;
  /** The station's latest retained view, as the PDA screen would show it. */
  view: StationView | null = null;
  /** Tasks received on `dev/{id}/cmd/task`, newest last. */
  readonly tasks: unknown[] = [];
  /** Messages received on `dev/{id}/cmd/display` (the handover count, refusals), newest last. */
  readonly displays: Array<{ level: string; text: string; text_zh: string }> = [];

  constructor(private readonly opts: PdaOptions) {
    this.client = new DeviceClient({
      mqttUrl: opts.mqttUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      commands: ['task', 'display'],
      extraTopics: [topics.stationView(opts.stationId)],
      replyTimeoutMs: opts.replyTimeoutMs ?? 10_000,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.client.on('message', (topic, payload) => {
      if (topic === topics.stationView(opts.stationId)) this.view = payload as StationView;
    });
    this.client.on('command', (kind, payload) => {
      if (kind === 'task') this.tasks.push(payload);
      if (kind === 'display') this.displays.push(payload as { level: string; text: string; text_zh: string });
    });
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  login(operator: string): Promise<EventReply> {
    return this.client.publishEvent('pda_login', { operator, station_id: this.opts.stationId });
  }

  scan(code: string): Promise<EventReply> {
    return this.client.publishEvent('scan', { code, ts: Date.now() });
  }

  /** A parcel scanned into a courier handover manifest (docs/mqtt.md §8). */
  handoverScan(manifestId: string, code: string): Promise<EventReply> {
    return this.client.publishEvent('handover_scan', { manifest_id: manifestId, code, ts: Date.now() });
  }

  confirm(taskId: string, result: 'done' | 'failed', note?: string): Promise<EventReply> {
    return this.client.publishEvent('pda_confirm', { task_id: taskId, result, ...(note === undefined ? {} : { note }) });
  }
}
