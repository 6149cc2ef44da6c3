/**
 * An Android PDA (handheld terminal) as the gateway sees it: an MQTT client — over WebSocket
 * by default, like the real apps — with the `pda` role (docs/mqtt.md §7). It logs an operator
 * in at its station, scans like the station's scanner, watches the station's retained view,
 * receives tasks on `cmd/task` and confirms them. As a picker (docs/mqtt.md §8) it asks for
 * work, accepts a pick task, walks its lines in path order scanning location then item, makes
 * the mistakes pickers make (wrong location, wrong item, a short face) and sorts picked units.
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
  /** The station the PDA serves (its view is watched); a picker on the floor has none. */
  stationId?: string;
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
      extraTopics: opts.stationId === undefined ? [] : [topics.stationView(opts.stationId)],
      replyTimeoutMs: opts.replyTimeoutMs ?? 10_000,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.client.on('message', (topic, payload) => {
      if (opts.stationId !== undefined && topic === topics.stationView(opts.stationId)) this.view = payload as StationView;
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

  // ---- picking (docs/mqtt.md §8) -----------------------------------------------------------

  /** The newest pick task offer for `taskId` (or any), as the PDA screen holds it. */
  pickTask(taskId?: string): PickTaskOffer | null {
    for (let i = this.tasks.length - 1; i >= 0; i--) {
      const t = this.tasks[i] as PickTaskOffer;
      if (t?.type === 'pick' && (taskId === undefined || t.task_id === taskId)) return t;
    }
    return null;
  }

  /** Ask for work (with `order`: a pick list for the order scanned). */
  requestWork(order?: string): Promise<EventReply> {
    return this.client.publishEvent('pick_request', order === undefined ? {} : { order });
  }

  accept(taskId: string, operator?: string): Promise<EventReply> {
    return this.client.publishEvent('pick_accept', { task_id: taskId, ...(operator === undefined ? {} : { operator }) });
  }

  pickLine(taskId: string, location: string, item: string, qty: number): Promise<EventReply> {
    return this.client.publishEvent('pick_line', { task_id: taskId, location, item, qty });
  }

  short(taskId: string, location: string, item: string, found: number, reason: 'not_there' | 'damaged' | 'fewer'): Promise<EventReply> {
    return this.client.publishEvent('pick_short', { task_id: taskId, location, item, found, reason });
  }

  sort(taskId: string, item: string): Promise<EventReply> {
    return this.client.publishEvent('pick_sort', { task_id: taskId, item });
  }

  confirmReplenishment(requestId: string, qty?: number): Promise<EventReply> {
    return this.client.publishEvent('replenish_confirm', { task_id: requestId, ...(qty === undefined ? {} : { qty }) });
  }

  /**
   * Works a pick task line by line, in the order offered (the path). With `mistakes` > 0 it
   * first scans a wrong location or a wrong item now and then (the gateway must refuse them at
   * once); with `shortRate` > 0 it reports a line short, finding fewer units than wanted.
   * `onLine` lets a test pull the plug between lines. Returns what it did and what came back.
   */
  async work(task: PickTaskOffer, o: PickWorkOptions = {}): Promise<PickWorkLog> {
    const rand = o.random ?? Math.random;
    const log: PickWorkLog = { confirmed: 0, shorts: 0, refused: [], timeouts: 0, closed: false };
    for (const line of task.lines) {
      let left = line.qty - line.picked;
      if (line.short || left <= 0) continue;
      const item = line.barcodes[0] ?? line.sku;
      if (rand() < (o.mistakes ?? 0)) {
        const r = await this.pickLine(task.task_id, `${line.location}-X`, item, 1);
        if (r.status === 'error') log.refused.push(r.error.code);
      }
      if (rand() < (o.mistakes ?? 0)) {
        const r = await this.pickLine(task.task_id, line.location, `${item}9`, 1);
        if (r.status === 'error') log.refused.push(r.error.code);
      }
      if (rand() < (o.shortRate ?? 0)) {
        const found = Math.floor(rand() * left);
        const r = await this.short(task.task_id, line.location, item, found, found === 0 ? 'not_there' : 'fewer');
        if (r.status === 'ack') log.shorts++;
        else if (r.status === 'timeout') log.timeouts++;
        else log.refused.push(r.error.code);
      } else {
        while (left > 0) {
          const qty = Math.min(left, 1 + Math.floor(rand() * left));
          const r = await this.pickLine(task.task_id, line.location, item, qty);
          if (r.status === 'timeout') {
            log.timeouts++;
            return log;
          }
          if (r.status === 'error') {
            log.refused.push(r.error.code);
            // The face holds fewer than the book says (or the order left the wave): report it short.
            if (r.error.code === 'PKL_PICK_STOCK_LOW') {
              const s = await this.short(task.task_id, line.location, item, 0, 'not_there');
              if (s.status === 'ack') log.shorts++;
            }
            break;
          }
          log.confirmed += qty;
          left -= qty;
        }
      }
      if (o.onLine !== undefined && (await o.onLine(line)) === 'stop') return log;
    }
    log.closed = this.tasks.some((t) => (t as { type?: string; task_id?: string }).type === 'closed' && (t as { task_id?: string }).task_id === task.task_id);
    return log;
  }
}

/** A pick task offer on `dev/{id}/cmd/task` (contract v1, docs/mqtt.md §8). */
export interface PickTaskOffer {
  v: number;
  type: 'pick';
  task_id: string;
  mode: 'wave' | 'order';
  state: string;
  orders: Array<{ order_id: string; slot: number; state: string; code: string | null }>;
  lines: Array<{ line_no: number; location: string; sku: string; barcodes: string[]; qty: number; picked: number; short: boolean }>;
}

export interface PickWorkOptions {
  mistakes?: number;
  shortRate?: number;
  random?: () => number;
  onLine?: (line: PickTaskOffer['lines'][number]) => Promise<'stop' | undefined> | 'stop' | undefined;
}

export interface PickWorkLog {
  confirmed: number;
  shorts: number;
  refused: string[];
  timeouts: number;
  closed: boolean;
}
