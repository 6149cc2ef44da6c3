/**
 * Test support for driving a real gateway the way the floor does: config for N stations and
 * M lines, orders in the API's wire format, and MQTT device clients with their own
 * credentials. Used by the integration tests (in-process gateway) and the crash test
 * (gateway in a child process).
 */
import { type MqttClient, connectAsync } from 'mqtt';

export interface FloorShape {
  stations: number;
  lines: number;
  verifyItems?: 'always' | 'multi_item' | 'never';
}

export function stationDevices(i: number) {
  const st = `st-${i}`;
  return { station: st, scanner: `${st}-scanner`, scale: `${st}-scale`, printer: `${st}-printer`, display: `${st}-display` };
}

export function lineDevice(j: number) {
  return { line: `line-${j}`, dws: `line-${j}-dws` };
}

/** A config object (raw, to be validated by the gateway) with ephemeral ports. */
export function floorConfig(dataDir: string, shape: FloorShape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const devices: Array<Record<string, string>> = [];
  const stations: Array<Record<string, unknown>> = [];
  const lines: Array<Record<string, unknown>> = [];
  for (let i = 1; i <= shape.stations; i++) {
    const d = stationDevices(i);
    devices.push(
      { id: d.scanner, role: 'scanner', station: d.station },
      { id: d.scale, role: 'scale', station: d.station },
      { id: d.printer, role: 'printer', station: d.station },
      { id: d.display, role: 'display', station: d.station },
    );
    stations.push({ id: d.station, scanner: d.scanner, scale: d.scale, printer: d.printer, display: d.display, verifyItems: shape.verifyItems ?? 'always' });
  }
  for (let j = 1; j <= shape.lines; j++) {
    const d = lineDevice(j);
    devices.push({ id: d.dws, role: 'conveyor', station: d.line });
    lines.push({ id: d.line, device: d.dws, chutes: { ZTO: 'C01', SF: 'C05' }, exceptionChute: 'EXC', defaultChute: 'DEFAULT' });
  }
  return {
    gatewayId: 'gw-test',
    dataDir,
    log: { level: 'silent' },
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    storage: { minFreeMb: 0 },
    devices,
    stations,
    lines,
    ...extra,
  };
}

export interface WireOrderOptions {
  items?: Array<{ sku: string; barcode: string; qty: number; unit_grams: number }>;
  flags?: Partial<Record<'refund_requested' | 'refunded' | 'cancelled' | 'platform_closed' | 'shipped', boolean>>;
  waybill?: string | null;
  carrier?: string;
  revision?: number;
}

/** An order in the HTTP import format (docs/http.md). */
export function wireOrder(orderId: string, o: WireOrderOptions = {}): Record<string, unknown> {
  const items = o.items ?? [
    { sku: 'SKU-A', barcode: '6901234567892', qty: 1, unit_grams: 250 },
    { sku: 'SKU-B', barcode: '6909876543210', qty: 2, unit_grams: 100 },
  ];
  return {
    order_id: orderId,
    shop: 'shop-1',
    barcodes: [`PS-${orderId}`],
    lines: items.map((it) => ({ ...it, name: `商品 ${it.sku}` })),
    packaging_grams: 50,
    flags: {
      refund_requested: false,
      refunded: false,
      cancelled: false,
      platform_closed: false,
      shipped: false,
      ...o.flags,
    },
    carrier: o.carrier ?? 'ZTO',
    waybill: o.waybill === undefined ? `7312${orderId.replace(/\D/g, '').padStart(8, '0')}` : o.waybill,
    print_data: {
      receiver_name: '张三',
      receiver_phone: '138****0000',
      receiver_address: '浙江省杭州市余杭区文一西路 969 号',
      routing_code: '310-A01',
      sort_code: '杭州',
    },
    ship_by: null,
    revision: o.revision ?? 1,
  };
}

/** Expected parcel weight of a wireOrder: items + packaging. */
export function wireOrderGrams(order: Record<string, unknown>): number {
  const lines = order.lines as Array<{ qty: number; unit_grams: number }>;
  return lines.reduce((s, l) => s + l.qty * l.unit_grams, 0) + (order.packaging_grams as number);
}

export async function importOrders(httpUrl: string, adminToken: string, orders: unknown[]): Promise<Response> {
  return fetch(`${httpUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(orders),
  });
}

/** A device connected with its own identity (client id = device id, as the broker requires). */
export async function device(url: string, deviceId: string, secret: string): Promise<MqttClient> {
  return connectAsync(url, {
    clientId: deviceId,
    username: deviceId,
    password: secret,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    keepalive: 30,
  });
}

/** Collects every message on a topic filter; `next(pred)` resolves with the first match. */
export class Inbox {
  readonly messages: Array<{ topic: string; payload: Record<string, unknown> }> = [];
  private waiters: Array<{
    pred: (m: { topic: string; payload: Record<string, unknown> }) => boolean;
    resolve: (m: { topic: string; payload: Record<string, unknown> }) => void;
  }> = [];

  static async open(client: MqttClient, filter: string | string[]): Promise<Inbox> {
    const inbox = new Inbox();
    const filters = typeof filter === 'string' ? [filter] : filter;
    client.on('message', (topic, buf) => {
      if (!filters.some((f) => matches(f, topic))) return;
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(buf.toString()) as Record<string, unknown>;
      } catch {
        payload = { raw: buf.toString() };
      }
      const m = { topic, payload };
      inbox.messages.push(m);
      inbox.waiters = inbox.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return inbox;
  }

  next(pred: (m: { topic: string; payload: Record<string, unknown> }) => boolean = () => true, timeoutMs = 10_000) {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<{ topic: string; payload: Record<string, unknown> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The topics a device reads its answers on: `dev/{id}/ack` and `dev/{id}/err`. */
export function replyTopics(deviceId: string): string[] {
  return [`dev/${deviceId}/ack`, `dev/${deviceId}/err`];
}
