/**
 * Shape checks for write ops. Writes come from our own code, but a unit that would store a
 * malformed row must fail with a coded error (PKL_STORE_OP_INVALID) and change nothing,
 * rather than poison the cache or the event log that cloud sync replays.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { SHIPMENT_STATES, type WriteOp } from './types.js';

const PRINT_JOB_STATES = ['queued', 'sent', 'printing', 'printed', 'failed', 'cancelled'];
const FLAG_KEYS = ['refundRequested', 'refunded', 'cancelled', 'platformClosed', 'shipped'];
/** Keys the store itself keeps in `meta` (boot counter, last HLC); not writable by callers. */
export const RESERVED_META_PREFIX = 'store.';

class Check {
  constructor(private readonly op: string) {}

  fail(reason: string): never {
    throw new PacklineError('PKL_STORE_OP_INVALID', { op: this.op, reason });
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${path} must be an object`);
    return v as Record<string, unknown>;
  }
  str(o: Record<string, unknown>, k: string, path: string): void {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0) this.fail(`${path}.${k} must be a non-empty string`);
  }
  strOrNull(o: Record<string, unknown>, k: string, path: string): void {
    const v = o[k];
    if (v !== null && (typeof v !== 'string' || v.length === 0)) this.fail(`${path}.${k} must be a non-empty string or null`);
  }
  int(o: Record<string, unknown>, k: string, path: string, min = 0): void {
    const v = o[k];
    if (!Number.isSafeInteger(v) || (v as number) < min) this.fail(`${path}.${k} must be an integer >= ${min}`);
  }
  intOrNull(o: Record<string, unknown>, k: string, path: string): void {
    if (o[k] !== null) this.int(o, k, path);
  }
  num(o: Record<string, unknown>, k: string, path: string): void {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(`${path}.${k} must be a finite number >= 0`);
  }
  numOrNull(o: Record<string, unknown>, k: string, path: string): void {
    if (o[k] !== null) this.num(o, k, path);
  }
  oneOf(o: Record<string, unknown>, k: string, path: string, allowed: readonly string[]): void {
    if (typeof o[k] !== 'string' || !allowed.includes(o[k] as string)) {
      this.fail(`${path}.${k} must be one of ${allowed.join('|')}`);
    }
  }
  bool(o: Record<string, unknown>, k: string, path: string): void {
    if (typeof o[k] !== 'boolean') this.fail(`${path}.${k} must be a boolean`);
  }
  supervisorName(name: string, path: string): void {
    if (!isSupervisorName(name)) this.fail(`${path} ${SUPERVISOR_NAME_RULE}`);
  }
}

/** Supervisor names: what people are called (Chinese names too), without edge spaces or control characters. */
export const SUPERVISOR_NAME_MAX = 64;
export const SUPERVISOR_NAME_RULE = `must be 1-${SUPERVISOR_NAME_MAX} characters, no control characters, no leading or trailing space`;

export function isSupervisorName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Array.from(name).length <= SUPERVISOR_NAME_MAX &&
    name.trim() === name &&
    !/[\u0000-\u001f\u007f-\u009f]/.test(name)
  );
}

/** Throws PKL_STORE_OP_INVALID unless `op` is a well-formed {@link WriteOp}. */
export function assertWriteOp(op: unknown): asserts op is WriteOp {
  const kind = typeof op === 'object' && op !== null ? (op as { op?: unknown }).op : undefined;
  const c = new Check(typeof kind === 'string' ? kind : String(kind));
  const o = c.obj(op, 'op');
  switch (o.op) {
    case 'shipment.put': {
      const s = c.obj(o.shipment, 'shipment');
      for (const k of ['shipmentId', 'orderId', 'stationId']) c.str(s, k, 'shipment');
      c.oneOf(s, 'state', 'shipment', SHIPMENT_STATES);
      for (const k of ['reasonCode', 'carrier', 'waybill', 'labelJobId', 'operator']) c.strOrNull(s, k, 'shipment');
      const scanned = c.obj(s.scanned, 'shipment.scanned');
      for (const k of Object.keys(scanned)) c.int(scanned, k, 'shipment.scanned');
      c.numOrNull(s, 'expectedGrams', 'shipment');
      c.numOrNull(s, 'actualGrams', 'shipment');
      c.int(s, 'openedAt', 'shipment');
      c.int(s, 'updatedAt', 'shipment');
      c.intOrNull(s, 'shippedAt', 'shipment');
      return;
    }
    case 'order.put': {
      const r = c.obj(o.order, 'order');
      c.str(r, 'orderId', 'order');
      c.str(r, 'shop', 'order');
      if (!Array.isArray(r.barcodes) || r.barcodes.some((b) => typeof b !== 'string' || b.length === 0)) {
        c.fail('order.barcodes must be an array of non-empty strings');
      }
      if (!Array.isArray(r.lines)) c.fail('order.lines must be an array');
      (r.lines as unknown[]).forEach((l, i) => {
        const line = c.obj(l, `order.lines[${i}]`);
        for (const k of ['sku', 'barcode']) c.str(line, k, `order.lines[${i}]`);
        // ERP feeds do send items without a name; the label then shows the SKU.
        if (typeof line.name !== 'string') c.fail(`order.lines[${i}].name must be a string`);
        c.int(line, 'qty', `order.lines[${i}]`, 1);
        c.num(line, 'unitGrams', `order.lines[${i}]`);
      });
      c.numOrNull(r, 'packagingGrams', 'order');
      const flags = c.obj(r.flags, 'order.flags');
      for (const k of FLAG_KEYS) c.bool(flags, k, 'order.flags');
      c.strOrNull(r, 'carrier', 'order');
      c.strOrNull(r, 'waybill', 'order');
      if (r.printData !== null) {
        const p = c.obj(r.printData, 'order.printData');
        for (const k of ['receiverName', 'receiverPhone', 'receiverAddress']) {
          if (typeof p[k] !== 'string') c.fail(`order.printData.${k} must be a string`);
        }
      }
      c.intOrNull(r, 'shipBy', 'order');
      c.int(r, 'revision', 'order');
      c.int(r, 'updatedAt', 'order');
      return;
    }
    case 'order.flags': {
      c.str(o, 'orderId', 'op');
      const flags = c.obj(o.flags, 'flags');
      const keys = Object.keys(flags);
      if (keys.length === 0) c.fail('flags must set at least one flag');
      for (const k of keys) {
        if (!FLAG_KEYS.includes(k)) c.fail(`unknown flag ${k}`);
        c.bool(flags, k, 'flags');
      }
      if (o.revision !== undefined) c.int(o, 'revision', 'op');
      return;
    }
    case 'order.hold': {
      c.str(o, 'orderId', 'op');
      const flags = c.obj(o.flags, 'flags');
      const keys = Object.keys(flags);
      if (keys.length === 0) c.fail('flags must set at least one flag');
      for (const k of keys) {
        if (!FLAG_KEYS.includes(k)) c.fail(`unknown flag ${k}`);
        c.bool(flags, k, 'flags');
      }
      c.intOrNull(o, 'revision', 'op');
      c.bool(o, 'sticky', 'op');
      c.int(o, 'at', 'op');
      return;
    }
    case 'order.hold_prune':
      c.int(o, 'before', 'op');
      return;
    case 'printjob.put': {
      const j = c.obj(o.job, 'job');
      c.str(j, 'jobId', 'job');
      c.strOrNull(j, 'shipmentId', 'job');
      c.str(j, 'printerId', 'job');
      c.oneOf(j, 'format', 'job', ['zpl', 'tspl']);
      if (typeof j.data !== 'string') c.fail('job.data must be a string');
      c.oneOf(j, 'state', 'job', PRINT_JOB_STATES);
      c.strOrNull(j, 'reason', 'job');
      c.int(j, 'createdAt', 'job');
      c.int(j, 'updatedAt', 'job');
      return;
    }
    case 'event':
      c.str(o, 'type', 'op');
      c.str(o, 'subject', 'op');
      return;
    case 'dedupe':
      c.str(o, 'deviceId', 'op');
      c.str(o, 'msgId', 'op');
      return;
    case 'device.put': {
      const d = c.obj(o.device, 'device');
      for (const k of ['deviceId', 'role', 'secretHash']) c.str(d, k, 'device');
      c.strOrNull(d, 'station', 'device');
      c.strOrNull(d, 'model', 'device');
      c.int(d, 'createdAt', 'device');
      c.int(d, 'rotatedAt', 'device');
      return;
    }
    case 'device.delete':
      c.str(o, 'deviceId', 'op');
      return;
    case 'station.put': {
      const r = c.obj(o.station, 'station');
      c.str(r, 'stationId', 'station');
      c.obj(r.settings, 'station.settings');
      c.int(r, 'createdAt', 'station');
      return;
    }
    case 'station.delete':
      c.str(o, 'stationId', 'op');
      return;
    case 'supervisor.put': {
      const r = c.obj(o.supervisor, 'supervisor');
      c.str(r, 'name', 'supervisor');
      c.supervisorName(r.name as string, 'supervisor.name');
      c.str(r, 'secretHash', 'supervisor');
      c.int(r, 'createdAt', 'supervisor');
      c.int(r, 'rotatedAt', 'supervisor');
      return;
    }
    case 'supervisor.delete':
      c.str(o, 'name', 'op');
      return;
    case 'meta.put':
      c.str(o, 'key', 'op');
      if (typeof o.value !== 'string') c.fail('value must be a string');
      if ((o.key as string).startsWith(RESERVED_META_PREFIX)) c.fail(`meta keys starting with "${RESERVED_META_PREFIX}" are reserved`);
      return;
    case 'syncfail.put':
      c.int(o, 'seq', 'op');
      c.str(o, 'code', 'op');
      if (typeof o.reason !== 'string') c.fail('reason must be a string');
      c.int(o, 'at', 'op');
      return;
    case 'syncfail.state':
      c.int(o, 'seq', 'op');
      c.oneOf(o, 'state', 'op', ['failed', 'retry_requested', 'resolved']);
      c.int(o, 'at', 'op');
      return;
    default:
      c.fail('unknown op');
  }
}
