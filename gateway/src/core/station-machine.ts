/**
 * The packing-station state machine (issue 2 §4): scan → interception check → item
 * verification → weighing (weight lock + tolerance) → waybill → last interception gate →
 * label → print result. Pure and deterministic: the same state, input and lookups give the
 * same step. docs/shipment-flow.md has the diagram, every code and every event.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import { PacklineError } from '../../../contracts/errors.js';
import type { Checkpoint } from '../config/schema.js';
import type { Order, PrintJob, Shipment, ShipmentState, WriteOp } from '../storage/types.js';
import { EVENT, shipmentEvent } from './events.js';
import { type Interception, checkInterception } from './intercept.js';
import { labelDataFor } from './label/label-data.js';
import { renderLabel } from './label/render.js';
import { errorAlert, infoAlert } from './messages.js';
import { printFailureMeaning } from '../printing/print-failure.js';
import type {
  Command,
  Reply,
  StationAlert,
  StationContext,
  StationInput,
  StationState,
  StationStep,
} from './types.js';
import { EMPTY_SCALE_GRAMS, expectedGrams, isEmptyReading, judgeWeight } from './weight.js';

/** States in which the shipment is still being worked on at the station (abandonable). */
const ACTIVE: readonly ShipmentState[] = ['verifying', 'weighing', 'held'];

export function isActiveState(state: ShipmentState): boolean {
  return ACTIVE.includes(state);
}

function isActive(s: Shipment | null): s is Shipment {
  return s !== null && ACTIVE.includes(s.state);
}

/** Holds that a new order revision can clear (waybill arrived, print data fixed). */
const ORDER_HOLDS: readonly string[] = ['PKL_AWAITING_WAYBILL', 'PKL_LABEL_TEMPLATE_ERROR'];

export function initialStationState(stationId: string, at = 0): StationState {
  return {
    stationId,
    shipment: null,
    verify: false,
    readyAt: null,
    armed: false,
    scale: null,
    pendingJobs: {},
    alert: null,
    updatedAt: at,
  };
}

/** Checkpoints the station passes while the parcel is packed (guide: 出库验货, 打包登记). */
export function packingCheckpoints(verify: boolean): Checkpoint[] {
  return verify ? ['packing', 'inspection'] : ['packing'];
}

/** Whether the station verifies this order's items by scan (station.verifyItems). */
export function needsVerification(order: Order, mode: StationContext['station']['verifyItems']): boolean {
  const total = order.lines.reduce((n, l) => n + l.qty, 0);
  if (total <= 0 || mode === 'never') return false;
  return mode === 'always' || total > 1;
}

/** item barcode → quantity the order needs (lines may share a barcode). */
function neededByBarcode(order: Order): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of order.lines) if (l.qty > 0) m.set(l.barcode, (m.get(l.barcode) ?? 0) + l.qty);
  return m;
}

export function verificationComplete(order: Order, scanned: Record<string, number>): boolean {
  for (const [barcode, qty] of neededByBarcode(order)) if ((scanned[barcode] ?? 0) < qty) return false;
  return true;
}

function identifiesOrder(order: Order, code: string): boolean {
  return order.orderId === code || order.barcodes.includes(code);
}

/** Mutable working copy of one step; the caller's state is never mutated. */
class Step {
  st: StationState;
  writes: WriteOp[] = [];
  commands: Command[] = [];
  reply: Reply = { ok: true };
  alert: StationAlert | null = null;

  constructor(
    prev: StationState,
    readonly input: StationInput,
    readonly ctx: StationContext,
  ) {
    this.st = { ...prev, pendingJobs: { ...prev.pendingJobs }, updatedAt: input.at };
  }

  get at(): number {
    return this.input.at;
  }

  refuse(code: ErrorCode, details: ErrorDetails): void {
    this.reply = { ok: false, code, details };
  }

  show(alert: StationAlert): void {
    this.alert = alert;
    this.st.alert = alert;
  }

  /** Writes the row; if it is the shipment on screen, the screen follows. */
  put(s: Shipment): Shipment {
    this.writes.push({ op: 'shipment.put', shipment: s });
    if (this.st.shipment?.shipmentId === s.shipmentId) this.st.shipment = s;
    return s;
  }

  event(type: (typeof EVENT)[keyof typeof EVENT], shipmentId: string, data: Record<string, string | number | boolean | null | undefined>): void {
    this.writes.push(shipmentEvent(type, shipmentId, data));
  }

  finish(): StationStep {
    const display = this.ctx.station.display;
    const targets = this.ctx.displayTargets ?? (display === undefined ? [] : [display]);
    if (this.alert !== null) {
      for (const deviceId of targets) {
        this.commands.push({
          kind: 'display',
          deviceId,
          payload: { level: this.alert.level, text: this.alert.message, text_zh: this.alert.messageZh },
        });
      }
    }
    return { state: this.st, writes: this.writes, commands: this.commands, reply: this.reply, alert: this.alert };
  }
}

export function stepStation(state: StationState, input: StationInput, ctx: StationContext): StationStep {
  const w = new Step(state, input, ctx);
  switch (input.kind) {
    case 'scan':
      onScan(w, input.code, input.operator ?? null);
      break;
    case 'weight':
      onWeight(w, input.grams, input.stable);
      break;
    case 'print_result':
      onPrintResult(w, input.jobId, input.status, input.reason ?? null);
      break;
    case 'supervisor_override':
      onOverride(w, input.supervisor, input.shipmentId ?? null, input.note ?? null);
      break;
    case 'order_updated':
      onOrderUpdated(w, input.orderId);
      break;
    case 'reset':
      onReset(w);
      break;
  }
  return w.finish();
}

// ---- scans --------------------------------------------------------------------------------

function onScan(w: Step, code: string, operator: string | null): void {
  const cur = w.st.shipment;
  const curOrder = isActive(cur) ? w.ctx.getOrder(cur.orderId) : null;
  if (isActive(cur) && curOrder !== null) {
    if (identifiesOrder(curOrder, code)) {
      // The same order again: re-run the checks of the current phase and show where it stands.
      reevaluate(w, cur, curOrder, 'scan');
      return;
    }
    if (neededByBarcode(curOrder).has(code)) {
      onItem(w, cur, curOrder, code);
      return;
    }
  }
  const order = w.ctx.findOrderByBarcode(code);
  if (order !== null) {
    openOrder(w, order, operator);
    return;
  }
  if (isActive(cur)) {
    w.event(EVENT.itemRejected, cur.shipmentId, { barcode: code, code: 'PKL_ITEM_WRONG' });
    const details = { barcode: code, orderId: cur.orderId };
    w.refuse('PKL_ITEM_WRONG', details);
    w.show(errorAlert('PKL_ITEM_WRONG', details, 'warn'));
    return;
  }
  const details = { barcode: code };
  w.refuse('PKL_ORDER_NOT_FOUND', details);
  w.show(errorAlert('PKL_ORDER_NOT_FOUND', details, 'warn'));
}

function onItem(w: Step, cur: Shipment, order: Order, barcode: string): void {
  const needed = neededByBarcode(order).get(barcode) ?? 0;
  const have = cur.scanned[barcode] ?? 0;
  if (cur.state !== 'verifying') {
    if (!w.st.verify) return; // verification skipped for this order: item scans are not counted
    rejectExtra(w, cur, barcode, needed);
    return;
  }
  if (have >= needed) {
    rejectExtra(w, cur, barcode, needed);
    return;
  }
  const scanned = { ...cur.scanned, [barcode]: have + 1 };
  const complete = verificationComplete(order, scanned);
  w.event(EVENT.itemScanned, cur.shipmentId, {
    barcode,
    scanned: have + 1,
    qty: needed,
    complete: complete || undefined,
  });
  // Item scans are events only; the row is next written when the parcel is weighed, with the
  // final counts (SD-card wear: a row version is ~350 bytes). After a restart the counts are
  // rebuilt from these acknowledged events (restore.ts), so no item has to be scanned twice.
  w.st.shipment = { ...cur, scanned, state: complete ? 'weighing' : 'verifying', updatedAt: w.at };
  if (complete) {
    w.st.readyAt = w.at;
    w.show(infoAlert('place_on_scale', { orderId: order.orderId }));
  } else {
    w.show(infoAlert('item_counted', { barcode, scanned: have + 1, qty: needed }));
  }
}

function rejectExtra(w: Step, cur: Shipment, barcode: string, expected: number): void {
  w.event(EVENT.itemRejected, cur.shipmentId, { barcode, code: 'PKL_ITEM_EXTRA' });
  const details = { barcode, orderId: cur.orderId, expected };
  w.refuse('PKL_ITEM_EXTRA', details);
  w.show(errorAlert('PKL_ITEM_EXTRA', details, 'warn'));
}

/**
 * Takes the shipment on screen off the station before another one opens (or on reset).
 * Active ones and labelling ones whose print failed are abandoned; a labelling one whose job is
 * still out keeps waiting for its print result in `pendingJobs`.
 */
function leaveCurrent(w: Step, by: 'scan' | 'reset', nextOrderId: string | null): boolean {
  const cur = w.st.shipment;
  if (cur === null) return false;
  const failedLabel = cur.state === 'labelling' && cur.labelJobId !== null && !(cur.labelJobId in w.st.pendingJobs);
  let abandoned = false;
  if (isActive(cur) || failedLabel) {
    w.put({ ...cur, state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED', updatedAt: w.at });
    w.event(EVENT.abandoned, cur.shipmentId, { by, state: cur.state, next_order_id: nextOrderId });
    abandoned = true;
  }
  w.st.shipment = null;
  w.st.verify = false;
  w.st.readyAt = null;
  return abandoned;
}

function newShipment(w: Step, order: Order, state: ShipmentState, operator: string | null): Shipment {
  return {
    shipmentId: w.ctx.newId('S'),
    orderId: order.orderId,
    stationId: w.ctx.station.id,
    state,
    reasonCode: null,
    scanned: {},
    expectedGrams: expectedGrams(order, w.ctx.shipment.defaultPackagingGrams),
    actualGrams: null,
    carrier: order.carrier,
    waybill: order.waybill,
    labelJobId: null,
    operator,
    openedAt: w.at,
    updatedAt: w.at,
    shippedAt: null,
  };
}

function openOrder(w: Step, order: Order, operator: string | null): void {
  // Back-pressure (print channels): every printer this label could go to already holds its
  // queue limit of unanswered labels. Refuse the scan (nothing changes) rather than pile up
  // parcels whose labels may never print; the operator scans again in a moment.
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  if (route !== undefined && !route.ok && route.code === 'PKL_PRINT_QUEUE_FULL') {
    w.refuse(route.code, route.details);
    w.show(errorAlert(route.code, route.details, 'warn'));
    return;
  }
  const previous = w.st.shipment;
  const abandoned = leaveCurrent(w, 'scan', order.orderId);
  const verify = needsVerification(order, w.ctx.station.verifyItems);
  const icpt = checkInterception(order, {
    checkpoint: packingCheckpoints(verify),
    enabled: w.ctx.shipment.checkpoints,
    shipments: w.ctx.shipmentsForOrder(order.orderId),
  });
  if (icpt !== null) {
    const s = newShipment(w, order, 'intercepted', operator);
    w.st.shipment = s;
    interceptShipment(w, s, icpt);
    return;
  }
  const s = newShipment(w, order, verify ? 'verifying' : 'weighing', operator);
  w.st.shipment = s;
  w.st.verify = verify;
  w.st.readyAt = verify ? null : w.at;
  w.put(s);
  w.event(EVENT.opened, s.shipmentId, {
    order_id: order.orderId,
    station_id: s.stationId,
    verify,
    expected_grams: s.expectedGrams,
    operator,
  });
  if (abandoned && previous !== null) {
    w.show(errorAlert('PKL_SHIPMENT_ABANDONED', { shipmentId: previous.shipmentId }, 'warn'));
  } else {
    w.show(infoAlert(verify ? 'scan_items' : 'place_on_scale', { orderId: order.orderId }));
  }
}

// ---- interception, holds, the label gate --------------------------------------------------

function interceptShipment(w: Step, s: Shipment, icpt: Interception, afterLabelJob?: string): void {
  w.put({ ...s, state: 'intercepted', reasonCode: icpt.code, updatedAt: w.at });
  w.event(EVENT.intercepted, s.shipmentId, {
    order_id: s.orderId,
    station_id: s.stationId,
    code: icpt.code,
    checkpoint: icpt.checkpoint,
    previous_shipment_id: icpt.previousShipmentId,
    after_label_job_id: afterLabelJob,
  });
  const details = { orderId: s.orderId };
  w.refuse(icpt.code, details);
  const alert = errorAlert(icpt.code, details, 'alert');
  if (afterLabelJob !== undefined) {
    // The label is (being) printed: the operator must take the parcel out of the flow.
    const pull = infoAlert('pull_parcel', details);
    alert.message = pull.message;
    alert.messageZh = pull.messageZh;
  }
  if (w.st.shipment?.shipmentId === s.shipmentId) {
    w.st.readyAt = null;
  }
  w.show(alert);
}

function hold(w: Step, s: Shipment, code: ErrorCode, details: ErrorDetails, figures: Record<string, number> = {}): void {
  w.put({ ...s, state: 'held', reasonCode: code, updatedAt: w.at });
  w.event(EVENT.held, s.shipmentId, { code, ...figures });
  w.refuse(code, details);
  w.show(errorAlert(code, details, 'warn'));
}

/**
 * The last gate before the label: interception check again (the refund may have arrived while
 * the parcel was packed; domain §1.4 "weighing triggers exception order"), then the waybill,
 * then the label and its print job.
 */
function labelGate(w: Step, s: Shipment, order: Order): void {
  const icpt = checkInterception(order, {
    checkpoint: 'weighing',
    enabled: w.ctx.shipment.checkpoints,
    shipments: w.ctx.shipmentsForOrder(order.orderId),
    selfShipmentId: s.shipmentId,
  });
  if (icpt !== null) {
    interceptShipment(w, s, icpt);
    return;
  }
  if (order.waybill === null || order.printData === null) {
    hold(w, s, 'PKL_AWAITING_WAYBILL', { orderId: order.orderId });
    return;
  }
  const labelled: Shipment = { ...s, waybill: order.waybill, carrier: order.carrier };
  // The printer's language (runtime: config labelFormat or the driven printer's definition).
  const format = w.ctx.labelFormat ?? 'zpl';
  let data: string;
  try {
    const label = labelDataFor(order, labelled);
    data = renderLabel(format, label, w.ctx.label);
  } catch (err) {
    if (err instanceof PacklineError && err.code === 'PKL_LABEL_TEMPLATE_ERROR') {
      hold(w, s, err.code, err.details ?? {});
      return;
    }
    // The site's template or font is broken (PKL_TEMPLATE_*): a print exception with cause
    // template_error, reprinted once the template is fixed (printing/label-templates.ts).
    if (err instanceof PacklineError && err.code.startsWith('PKL_TEMPLATE_')) {
      templateFailed(w, { ...s, waybill: order.waybill, carrier: order.carrier }, format, err);
      return;
    }
    throw err;
  }
  // The channel's choice; with no healthy printer the label waits for the station's own
  // printer (re-issued when it comes back), which the station screen says.
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  const printerId = route?.ok === true ? route.printerId : w.ctx.station.printer;
  const job: PrintJob = {
    jobId: w.ctx.newId('J'),
    shipmentId: s.shipmentId,
    printerId,
    format,
    data,
    state: 'queued',
    reason: null,
    createdAt: w.at,
    updatedAt: w.at,
  };
  w.put({ ...labelled, state: 'labelling', reasonCode: null, labelJobId: job.jobId, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.labelQueued, s.shipmentId, {
    order_id: order.orderId,
    job_id: job.jobId,
    printer_id: job.printerId,
    waybill: order.waybill,
    carrier: order.carrier,
  });
  // Pre-shipment callback: once per order — not for a relabel (the shipment already has a job
  // id) nor for a fresh shipment after a failed print (an earlier one was labelled): the
  // cloud has reported the order shipped already, and later changes are not re-sent.
  const labelledBefore =
    s.labelJobId !== null || w.ctx.shipmentsForOrder(order.orderId).some((x) => x.shipmentId !== s.shipmentId && x.labelJobId !== null);
  if (!labelledBefore && w.ctx.preShipmentCallback?.(order.shop) === true) {
    w.event(EVENT.shipConfirmed, s.shipmentId, {
      order_id: order.orderId,
      waybill: order.waybill,
      carrier: order.carrier,
      trigger: 'label_queued',
    });
  }
  w.st.pendingJobs[job.jobId] = job;
  w.st.readyAt = null;
  w.commands.push({
    kind: 'print',
    deviceId: job.printerId,
    payload: { job_id: job.jobId, shipment_id: s.shipmentId, format, data, copies: 1 },
  });
  if (route !== undefined && !route.ok) w.show(errorAlert('PKL_PRINTER_UNAVAILABLE', { deviceId: printerId }, 'warn'));
  else w.show(infoAlert('label_queued', { waybill: order.waybill }));
}

/**
 * The label could not be rendered because of the site's template (PKL_TEMPLATE_*): the ledger
 * gets a failed job with cause `template_error` and the shipment is a print exception, like a
 * label the printer refused; a supervisor reprints it once the template is fixed.
 */
function templateFailed(w: Step, s: Shipment, format: PrintJob['format'], err: PacklineError): void {
  const job: PrintJob = {
    jobId: w.ctx.newId('J'),
    shipmentId: s.shipmentId,
    printerId: w.ctx.station.printer,
    format,
    data: '',
    state: 'failed',
    reason: 'template_error',
    createdAt: w.at,
    updatedAt: w.at,
  };
  w.writes.push({ op: 'printjob.put', job });
  w.put({ ...s, state: 'labelling', reasonCode: 'PKL_PRINT_FAILED', labelJobId: job.jobId, updatedAt: w.at });
  w.event(EVENT.printFailed, s.shipmentId, { job_id: job.jobId, reason: 'template_error', code: err.code, ...err.details });
  w.st.readyAt = null;
  w.refuse(err.code, err.details ?? {});
  w.show(errorAlert('PKL_PRINT_FAILED', { deviceId: job.printerId, reason: 'template_error' }, 'alert'));
}

/**
 * Re-runs the checks of the shipment's current phase after the order changed (or was scanned
 * again): interception first, then a hold that the new revision can clear.
 */
function reevaluate(w: Step, cur: Shipment, order: Order, by: 'scan' | 'order_update'): void {
  const checkpoint = cur.state === 'verifying' ? packingCheckpoints(w.st.verify) : (['weighing'] as Checkpoint[]);
  const icpt = checkInterception(order, {
    checkpoint,
    enabled: w.ctx.shipment.checkpoints,
    shipments: w.ctx.shipmentsForOrder(order.orderId),
    selfShipmentId: cur.shipmentId,
  });
  if (icpt !== null) {
    interceptShipment(w, cur, icpt);
    return;
  }
  if (cur.state === 'held' && cur.reasonCode !== null && ORDER_HOLDS.includes(cur.reasonCode)) {
    const ready = order.waybill !== null && order.printData !== null;
    if (ready) {
      w.event(EVENT.released, cur.shipmentId, { code: cur.reasonCode, by });
      labelGate(w, cur, order);
      return;
    }
    const code = cur.reasonCode as ErrorCode;
    w.refuse(code, { orderId: order.orderId });
    w.show(errorAlert(code, { orderId: order.orderId }, 'warn'));
    return;
  }
  if (cur.state === 'held' && cur.actualGrams !== null && cur.expectedGrams !== null) {
    // Still held for the weight: show the figures again.
    const v = judgeWeight(cur.actualGrams, cur.expectedGrams, w.ctx.shipment.weight);
    w.show(
      errorAlert(
        'PKL_WEIGHT_OUT_OF_TOLERANCE',
        { actual: v.actual, expected: v.expected, tolerance: v.tolerance, diff: v.diff },
        'warn',
      ),
    );
    return;
  }
  w.show(infoAlert(cur.state === 'verifying' ? 'scan_items' : 'place_on_scale', { orderId: order.orderId }));
}

// ---- weight -------------------------------------------------------------------------------

function onWeight(w: Step, grams: number, stable: boolean): void {
  const emptyGrams = w.ctx.emptyGrams ?? EMPTY_SCALE_GRAMS;
  const empty = isEmptyReading(grams, emptyGrams);
  w.st.scale = { grams, stable, at: w.at };
  if (empty) w.st.armed = true;
  const cur = w.st.shipment;
  const awaiting =
    cur !== null &&
    (cur.state === 'weighing' || (cur.state === 'held' && cur.reasonCode === 'PKL_WEIGHT_OUT_OF_TOLERANCE'));
  // Unstable readings, empty-scale readings and readings nobody waits for only update the
  // live weight on screen.
  if (!awaiting || !stable || empty) return;
  // Weight lock: the reading must be taken after verification completed, and the scale must
  // have been near empty since the last weight was taken (so the previous parcel, still lying
  // on the scale, can never be weighed as this one).
  if (!w.st.armed || w.st.readyAt === null || w.at < w.st.readyAt) {
    w.refuse('PKL_WEIGHT_STALE', { grams });
    w.show(errorAlert('PKL_WEIGHT_STALE', {}, 'warn'));
    return;
  }
  w.st.armed = false;
  const order = w.ctx.getOrder(cur.orderId);
  if (order === null) {
    w.refuse('PKL_ORDER_NOT_FOUND', { barcode: cur.orderId });
    return;
  }
  const expected = cur.expectedGrams ?? expectedGrams(order, w.ctx.shipment.defaultPackagingGrams);
  const v = judgeWeight(grams, expected, w.ctx.shipment.weight);
  const weighed: Shipment = { ...cur, actualGrams: grams, expectedGrams: expected, updatedAt: w.at };
  w.event(EVENT.weighed, cur.shipmentId, { grams, expected_grams: expected, tolerance: v.tolerance, ok: v.ok });
  if (!v.ok) {
    hold(
      w,
      weighed,
      'PKL_WEIGHT_OUT_OF_TOLERANCE',
      { actual: grams, expected, tolerance: v.tolerance, diff: v.diff },
      { grams, expected_grams: expected, tolerance: v.tolerance },
    );
    return;
  }
  if (cur.state === 'held') {
    w.event(EVENT.released, cur.shipmentId, { code: 'PKL_WEIGHT_OUT_OF_TOLERANCE', by: 'reweigh' });
  }
  labelGate(w, weighed, order);
}

// ---- supervisor override ------------------------------------------------------------------

function onOverride(w: Step, supervisor: string, shipmentId: string | null, note: string | null): void {
  const cur = w.st.shipment;
  if (cur === null || !isActive(cur)) {
    w.refuse('PKL_NO_OPEN_SHIPMENT', { stationId: w.st.stationId });
    return;
  }
  if (shipmentId !== null && shipmentId !== cur.shipmentId) {
    w.refuse('PKL_SHIPMENT_NOT_FOUND', { shipmentId });
    return;
  }
  if (cur.state !== 'held' || cur.reasonCode !== 'PKL_WEIGHT_OUT_OF_TOLERANCE') {
    // Only a weight hold is a judgement call; intercepts and missing waybills are not.
    w.refuse('PKL_SHIPMENT_STATE', {
      shipmentId: cur.shipmentId,
      state: cur.reasonCode ?? cur.state,
      action: 'supervisor override',
    });
    return;
  }
  if (supervisor.trim() === '') {
    w.refuse('PKL_PAYLOAD_INVALID', { reason: 'supervisor name is required' });
    return;
  }
  const order = w.ctx.getOrder(cur.orderId);
  if (order === null) {
    w.refuse('PKL_ORDER_NOT_FOUND', { barcode: cur.orderId });
    return;
  }
  w.event(EVENT.released, cur.shipmentId, {
    code: cur.reasonCode,
    by: 'supervisor',
    supervisor,
    note,
    grams: cur.actualGrams,
    expected_grams: cur.expectedGrams,
  });
  w.show(infoAlert('released', { supervisor }));
  labelGate(w, cur, order);
}

// ---- order updates ------------------------------------------------------------------------

function onOrderUpdated(w: Step, orderId: string): void {
  const order = w.ctx.getOrder(orderId);
  if (order === null) return;
  const cur = w.st.shipment;
  if (isActive(cur) && cur.orderId === orderId) {
    reevaluate(w, cur, order, 'order_update');
    return;
  }
  // A refund that arrives while the label is printing: the parcel must not leave.
  for (const job of Object.values(w.st.pendingJobs)) {
    if (job.shipmentId === null) continue;
    const s = shipmentOf(w, job.shipmentId);
    if (s === null || s.orderId !== orderId || s.state !== 'labelling') continue;
    const icpt = checkInterception(order, {
      checkpoint: 'weighing',
      enabled: w.ctx.shipment.checkpoints,
      shipments: w.ctx.shipmentsForOrder(orderId),
      selfShipmentId: s.shipmentId,
    });
    if (icpt !== null) interceptShipment(w, s, icpt, job.jobId);
  }
}

function shipmentOf(w: Step, shipmentId: string): Shipment | null {
  const cur = w.st.shipment;
  if (cur !== null && cur.shipmentId === shipmentId) return cur;
  // A shipment written earlier in this same step is newer than the lookup.
  for (let i = w.writes.length - 1; i >= 0; i--) {
    const op = w.writes[i];
    if (op?.op === 'shipment.put' && op.shipment.shipmentId === shipmentId) return op.shipment;
  }
  return w.ctx.getShipment(shipmentId);
}

// ---- print results ------------------------------------------------------------------------

function onPrintResult(w: Step, jobId: string, status: 'printed' | 'failed', reason: string | null): void {
  const job = w.st.pendingJobs[jobId];
  if (job === undefined || job.printerId !== w.input.deviceId) {
    // Unknown, already answered (duplicate), or answered by another printer: change nothing.
    w.refuse('PKL_PRINT_JOB_UNKNOWN', { jobId });
    return;
  }
  delete w.st.pendingJobs[jobId];
  const s = job.shipmentId === null ? null : shipmentOf(w, job.shipmentId);
  const isCurrent = s !== null && w.st.shipment?.shipmentId === s.shipmentId;
  if (status === 'failed') {
    const why = reason ?? 'unknown';
    w.writes.push({ op: 'printjob.put', job: { ...job, state: 'failed', reason: why, updatedAt: w.at } });
    // Only a label the printer certainly did not print moves to another printer; one that may
    // have come out (connection lost mid-job…) waits for a supervisor's reprint (printing/print-failure.ts).
    if (s !== null && s.state === 'labelling' && printFailureMeaning(why).notPrinted && failOver(w, s, job, why)) return;
    if (s !== null && s.state === 'labelling') {
      w.put({ ...s, reasonCode: 'PKL_PRINT_FAILED', updatedAt: w.at });
      w.event(EVENT.printFailed, s.shipmentId, { job_id: jobId, reason: why });
    }
    w.show(errorAlert('PKL_PRINT_FAILED', { deviceId: job.printerId, reason: why }, 'alert'));
    return;
  }
  // A printed job drops its ZPL: the label is re-rendered from the order for a reprint, and
  // writing ~600 bytes again per shipment is the largest single cost on the SD card.
  w.writes.push({ op: 'printjob.put', job: { ...job, data: '', state: 'printed', reason: null, updatedAt: w.at } });
  if (s === null) return;
  if (s.state === 'intercepted') {
    // Intercepted while the label was printing: remind the operator to pull the parcel.
    const details = { orderId: s.orderId };
    const pull = infoAlert('pull_parcel', details, 'alert');
    w.show({ ...pull, code: s.reasonCode as ErrorCode | null, details });
    return;
  }
  if (s.state !== 'labelling') return;
  const order = w.ctx.getOrder(s.orderId);
  const icpt =
    order === null
      ? null
      : checkInterception(order, {
          checkpoint: 'weighing',
          enabled: w.ctx.shipment.checkpoints,
          shipments: w.ctx.shipmentsForOrder(s.orderId),
          selfShipmentId: s.shipmentId,
        });
  if (icpt !== null) {
    interceptShipment(w, s, icpt, jobId);
    w.reply = { ok: true }; // the printer's report itself was applied
    return;
  }
  w.put({ ...s, state: 'shipped', reasonCode: null, shippedAt: w.at, updatedAt: w.at });
  w.event(EVENT.shipped, s.shipmentId, {
    order_id: s.orderId,
    job_id: jobId,
    waybill: s.waybill,
    carrier: s.carrier,
    grams: s.actualGrams,
  });
  if (isCurrent) w.show(infoAlert('shipped', { waybill: s.waybill ?? '' }, 'ok'));
}

/**
 * Failover: the printer answered that it did NOT print this label (paper out, head open…),
 * so sending the same label to another printer of the channel cannot print it twice. A new
 * job id (the failed one stays failed in the ledger), the same label data. Returns false when
 * no other printer can take it (the shipment is then tagged print failed, reprint from there).
 * A printer that went silent is never failed over automatically: it may have printed.
 */
function failOver(w: Step, s: Shipment, failed: PrintJob, why: string): boolean {
  const order = w.ctx.getOrder(s.orderId);
  if (order === null || w.ctx.routePrinter === undefined) return false;
  const before = w.st.printFailures?.shipmentId === s.shipmentId ? w.st.printFailures.printers : [];
  const tried = [...before, failed.printerId];
  w.st.printFailures = { shipmentId: s.shipmentId, printers: tried };
  const route = w.ctx.routePrinter({ carrier: order.carrier, shop: order.shop, exclude: tried });
  if (!route.ok || tried.includes(route.printerId)) return false;
  const job: PrintJob = { ...failed, jobId: w.ctx.newId('J'), printerId: route.printerId, state: 'queued', reason: null, createdAt: w.at, updatedAt: w.at };
  w.put({ ...s, labelJobId: job.jobId, reasonCode: null, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.printRerouted, s.shipmentId, {
    job_id: job.jobId,
    previous_job_id: failed.jobId,
    printer_id: job.printerId,
    previous_printer_id: failed.printerId,
    reason: why,
  });
  w.st.pendingJobs[job.jobId] = job;
  w.commands.push({
    kind: 'print',
    deviceId: job.printerId,
    payload: { job_id: job.jobId, shipment_id: s.shipmentId, format: job.format, data: job.data, copies: 1 },
  });
  w.show(errorAlert('PKL_PRINT_FAILED_OVER', { deviceId: failed.printerId, reason: why, to: job.printerId }, 'warn'));
  return true;
}

// ---- reset --------------------------------------------------------------------------------

function onReset(w: Step): void {
  leaveCurrent(w, 'reset', null);
  w.show(infoAlert('cleared', {}));
}
