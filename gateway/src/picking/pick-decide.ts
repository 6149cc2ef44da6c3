/**
 * The decisions of picking on a PDA, pure: given the picking state and a request, the events to
 * commit or a coded refusal. The runtime commits the events as one unit, then folds them into
 * the state (state.ts) and only then answers the PDA, like the station's decide → commit → send.
 *
 * - start: the PDA accepts a wave or pick list; pick start (开始配货) runs the interception
 *   check on every order, and an intercepted order is pulled and flagged before a unit moves;
 * - confirm: the location scanned must be one with units still to pick, the item one of that
 *   location's SKUs, the quantity no more than is left and than the book holds; a confirmed pick
 *   that takes a pick face below its trigger raises a replenishment request (capacity − left);
 * - short: "not there / damaged / fewer": the units found are picked, the line closes short, the
 *   book is corrected to empty, the orders left uncovered are held, replenishment is requested;
 * - pull: an order intercepted during the wave leaves it; units picked beyond what the other
 *   orders of the line want go back to the location;
 * - sort: at the put wall or packing station each picked unit goes to the next order of the
 *   wave (slot order) that still needs it.
 * A wave closes when every line is picked or short, pulled orders and all.
 */
import type { ErrorCode, Refusal } from '../../../contracts/errors.js';
import type { Order } from '../station/domain.js';
import { PICK_EVENT, type PickEvent, pickEvent, type ShortReason } from './events.js';
import { coverage, demanded, orderPicked, type PickingState, remaining, type Wave, type WaveLine } from './state.js';

export type Decision = { ok: true; events: PickEvent[] } | Refusal;

function refuse(code: ErrorCode, details: Refusal['details']): Refusal {
  return { ok: false, code, details };
}

function openWave(state: PickingState, waveId: string, wanted: string, allowed: readonly Wave['state'][]): Wave | Refusal {
  const w = state.waves.get(waveId);
  if (w === undefined) return refuse('PKL_WAVE_UNKNOWN', { waveId });
  if (!allowed.includes(w.state)) return refuse('PKL_WAVE_STATE', { waveId, waveState: w.state, wanted });
  return w;
}

const subject = (w: Wave | string) => `wave:${typeof w === 'string' ? w : w.waveId}`;

/** Lines after the given line changes: true when every line is then picked or short. */
function closesWith(w: Wave, changed: Map<number, number>): boolean {
  return w.lines.every((l) => (changed.has(l.lineNo) ? (changed.get(l.lineNo) as number) : remaining(l)) === 0);
}

/** Replenishment request when `after` units leave a pick face below its trigger (none open yet). */
export function replenishIfLow(
  state: PickingState,
  location: string,
  sku: string,
  after: number,
  newRequestId: () => string,
  defaults: ReplenishDefaults = NO_REPLENISH_DEFAULTS,
): PickEvent[] {
  const loc = state.locations.get(location);
  const trigger = loc?.trigger ?? defaults.trigger;
  if (loc === undefined || loc.kind !== 'pick' || trigger === null) return [];
  if (after >= trigger) return [];
  if (state.openReplenishment(location, sku) !== null) return [];
  const qty = (loc.capacity ?? defaults.capacity ?? trigger) - after;
  if (qty <= 0) return [];
  const id = newRequestId();
  return [pickEvent(PICK_EVENT.replenishmentRequested, `replenishment:${id}`, { request_id: id, location, sku, qty })];
}

/** The replenishment rule for pick faces whose location carries no trigger / capacity (config picking.replenishment). */
export interface ReplenishDefaults {
  trigger: number | null;
  capacity: number | null;
}
const NO_REPLENISH_DEFAULTS: ReplenishDefaults = { trigger: null, capacity: null };

export interface PickDeps {
  /** The order as the cache holds it now (null: unknown). */
  order: (orderId: string) => Order | null;
  /** The interception check at pick start; null when none applies. */
  intercept: (order: Order) => ErrorCode | null;
  newRequestId: () => string;
  /** Config picking.replenishment; absent: only faces with their own trigger are replenished. */
  replenish?: ReplenishDefaults;
}

/** Pulls an order from a wave: its demand leaves every line, units picked beyond the rest's demand go back. */
export function pullOrder(state: PickingState, waveId: string, orderId: string, code: string): Decision {
  const w = openWave(state, waveId, 'changed', ['built', 'released', 'picking']);
  if ('ok' in w) return w;
  if (!w.orders.includes(orderId) || w.pulled.has(orderId)) return { ok: true, events: [] };
  const returned: Array<[number, number]> = [];
  const after = new Map<number, number>();
  for (const l of w.lines) {
    const mine = l.demands.filter(([o]) => o === orderId).reduce((s, [, q]) => s + q, 0);
    if (mine === 0) continue;
    const rest = demanded(l) - mine;
    const back = Math.max(0, l.picked - rest);
    if (back > 0) returned.push([l.lineNo, back]);
    after.set(l.lineNo, l.short !== null ? 0 : Math.max(0, rest - (l.picked - back)));
  }
  const events: PickEvent[] = [pickEvent(PICK_EVENT.orderPulled, subject(w), { wave_id: w.waveId, order_id: orderId, code, returned })];
  if (w.state === 'picking' && closesWith(w, after)) events.push(pickEvent(PICK_EVENT.waveClosed, subject(w), { wave_id: w.waveId }));
  return { ok: true, events };
}

/** Pulls every order of open waves that the interception check now stops (an update from the cloud). */
export function pullIntercepted(state: PickingState, deps: Pick<PickDeps, 'order' | 'intercept'>, onlyOrder?: string): PickEvent[] {
  const events: PickEvent[] = [];
  const orderIds = onlyOrder !== undefined ? [onlyOrder] : [...state.orderWave.keys()];
  for (const orderId of orderIds) {
    const waveId = state.orderWave.get(orderId);
    if (waveId === undefined) continue;
    const order = deps.order(orderId);
    const code = order === null ? null : deps.intercept(order);
    if (code === null) continue;
    const d = pullOrder(state, waveId, orderId, code);
    if (d.ok) events.push(...d.events);
  }
  return events;
}

/** Supervisor releases a wave to picking, to one PDA or to whichever asks first (null). */
export function releaseWave(state: PickingState, waveId: string, deviceId: string | null): Decision {
  const w = openWave(state, waveId, 'released', ['built']);
  if ('ok' in w) return w;
  return { ok: true, events: [pickEvent(PICK_EVENT.waveReleased, subject(w), { wave_id: w.waveId, device_id: deviceId })] };
}

export function cancelWave(state: PickingState, waveId: string, reason: string): Decision {
  const w = openWave(state, waveId, 'cancelled', ['built', 'released', 'picking']);
  if ('ok' in w) return w;
  return { ok: true, events: [pickEvent(PICK_EVENT.waveCancelled, subject(w), { wave_id: w.waveId, reason })] };
}

/**
 * A PDA accepts a wave: pick start. Every order runs the interception check first; the
 * intercepted ones are pulled (nothing was picked yet) and flagged with the code. A wave whose
 * orders are all intercepted starts and closes at once.
 */
export function startPick(state: PickingState, waveId: string, deviceId: string, operator: string | null, deps: PickDeps): Decision {
  const w = openWave(state, waveId, 'started', ['built', 'released']);
  if ('ok' in w) return w;
  if (w.state === 'released' && w.device !== null && w.device !== deviceId)
    return refuse('PKL_WAVE_STATE', { waveId, waveState: `released to ${w.device}`, wanted: `started by ${deviceId}` });
  const events: PickEvent[] = [pickEvent(PICK_EVENT.pickStarted, subject(w), { wave_id: w.waveId, device_id: deviceId, operator })];
  const pulled = new Set<string>();
  for (const orderId of w.orders) {
    if (w.pulled.has(orderId)) continue;
    const order = deps.order(orderId);
    const code: string | null = order === null ? 'PKL_ORDER_NOT_FOUND' : deps.intercept(order);
    if (code === null) continue;
    pulled.add(orderId);
    events.push(pickEvent(PICK_EVENT.orderPulled, subject(w), { wave_id: w.waveId, order_id: orderId, code, returned: [] }));
  }
  const allGone = w.lines.every((l) => l.demands.every(([o]) => pulled.has(o) || w.pulled.has(o)));
  if (allGone) events.push(pickEvent(PICK_EVENT.waveClosed, subject(w), { wave_id: w.waveId }));
  return { ok: true, events };
}

/** The next line still to pick in path order, for the "go to" hint. */
export function nextLine(w: Wave): WaveLine | null {
  return w.lines.find((l) => remaining(l) > 0) ?? null;
}

function lineFor(w: Wave, location: string, barcodeOrSku: string): { line: WaveLine | null; atLocation: WaveLine[] } {
  const atLocation = w.lines.filter((l) => l.location === location && remaining(l) > 0);
  const line = atLocation.find((l) => l.sku === barcodeOrSku || (w.barcodes.get(l.sku) ?? []).includes(barcodeOrSku)) ?? null;
  return { line, atLocation };
}

export interface ConfirmRequest {
  location: string;
  /** The item barcode scanned (or the SKU). */
  item: string;
  qty: number;
  deviceId: string | null;
}

/** A line confirmation: right location, right item, no more than left and than the book holds. */
export function confirmPick(state: PickingState, waveId: string, req: ConfirmRequest, deps: PickDeps): Decision {
  const w = openWave(state, waveId, 'picked', ['picking']);
  if ('ok' in w) return w;
  const { line, atLocation } = lineFor(w, req.location, req.item);
  if (atLocation.length === 0) return refuse('PKL_PICK_WRONG_LOCATION', { location: req.location, expected: nextLine(w)?.location ?? '-' });
  if (line === null) return refuse('PKL_PICK_WRONG_ITEM', { barcode: req.item, location: req.location, sku: atLocation.map((l) => l.sku).join(', ') });
  const left = remaining(line);
  if (req.qty > left) return refuse('PKL_PICK_QTY_OVER', { qty: req.qty, remaining: left, location: req.location });
  const onHand = state.onHand(line.location, line.sku);
  if (req.qty > onHand) return refuse('PKL_PICK_STOCK_LOW', { onHand, sku: line.sku, location: line.location });
  const events: PickEvent[] = [
    pickEvent(PICK_EVENT.pickConfirmed, subject(w), {
      wave_id: w.waveId,
      line_no: line.lineNo,
      location: line.location,
      sku: line.sku,
      qty: req.qty,
      device_id: req.deviceId,
    }),
    ...replenishIfLow(state, line.location, line.sku, onHand - req.qty, deps.newRequestId, deps.replenish),
  ];
  if (closesWith(w, new Map([[line.lineNo, left - req.qty]]))) events.push(pickEvent(PICK_EVENT.waveClosed, subject(w), { wave_id: w.waveId }));
  return { ok: true, events };
}

export interface ShortRequest {
  location: string;
  item: string;
  /** Good units found and picked (0 when nothing was there). */
  found: number;
  reason: ShortReason;
  deviceId: string | null;
}

/**
 * A short pick: the units found are picked, the line closes short, the book at the location is
 * corrected to empty (what was there was taken or is damaged), uncovered orders are held, and a
 * replenishment (or count) request goes out for the face.
 */
export function reportShort(state: PickingState, waveId: string, req: ShortRequest, deps: PickDeps): Decision {
  const w = openWave(state, waveId, 'picked', ['picking']);
  if ('ok' in w) return w;
  const { line, atLocation } = lineFor(w, req.location, req.item);
  if (atLocation.length === 0) return refuse('PKL_PICK_WRONG_LOCATION', { location: req.location, expected: nextLine(w)?.location ?? '-' });
  if (line === null) return refuse('PKL_PICK_WRONG_ITEM', { barcode: req.item, location: req.location, sku: atLocation.map((l) => l.sku).join(', ') });
  const left = remaining(line);
  if (req.found > left) return refuse('PKL_PICK_QTY_OVER', { qty: req.found, remaining: left, location: req.location });
  if (req.found === left) {
    // Everything wanted was found: that is a confirmation, not a short pick.
    return confirmPick(state, waveId, { location: req.location, item: req.item, qty: req.found, deviceId: req.deviceId }, deps);
  }
  const onHand = state.onHand(line.location, line.sku);
  const events: PickEvent[] = [];
  // The picker holds `found` units the book did not count: count them in first, so the book never goes negative.
  if (req.found > onHand) {
    events.push(
      pickEvent(PICK_EVENT.stockCorrected, `location:${line.location}`, {
        location: line.location,
        sku: line.sku,
        from: onHand,
        to: req.found,
        reason: `short_${req.reason}`,
      }),
    );
  }
  const bookAfter = Math.max(onHand, req.found) - req.found;
  events.push(
    pickEvent(PICK_EVENT.pickShort, subject(w), {
      wave_id: w.waveId,
      line_no: line.lineNo,
      location: line.location,
      sku: line.sku,
      found: req.found,
      missing: left - req.found,
      reason: req.reason,
      device_id: req.deviceId,
    }),
  );
  if (bookAfter > 0) {
    events.push(
      pickEvent(PICK_EVENT.stockCorrected, `location:${line.location}`, {
        location: line.location,
        sku: line.sku,
        from: bookAfter,
        to: 0,
        reason: `short_${req.reason}`,
      }),
    );
  }
  events.push(...replenishIfLow(state, line.location, line.sku, 0, deps.newRequestId, deps.replenish));
  if (closesWith(w, new Map([[line.lineNo, 0]]))) events.push(pickEvent(PICK_EVENT.waveClosed, subject(w), { wave_id: w.waveId }));
  return { ok: true, events };
}

/** Sort a picked unit: the next order of the wave (slot order) with a picked unit of that SKU not yet sorted. */
export function sortUnit(state: PickingState, waveId: string, item: string): { ok: true; events: PickEvent[]; orderId: string; slot: number } | Refusal {
  const w = state.waves.get(waveId);
  if (w === undefined) return refuse('PKL_WAVE_UNKNOWN', { waveId });
  if (w.state === 'cancelled' || w.state === 'built' || w.state === 'released')
    return refuse('PKL_WAVE_STATE', { waveId, waveState: w.state, wanted: 'sorted' });
  let sku: string | null = null;
  for (const [s, codes] of w.barcodes) if (s === item || codes.includes(item)) sku = s;
  if (sku === null) return refuse('PKL_SORT_NOT_NEEDED', { waveId, barcode: item });
  const covered = new Map<string, number>();
  for (const l of w.lines) {
    if (l.sku !== sku) continue;
    for (const [o, q] of coverage(l)) covered.set(o, (covered.get(o) ?? 0) + q);
  }
  for (let i = 0; i < w.orders.length; i++) {
    const orderId = w.orders[i] as string;
    if (w.pulled.has(orderId)) continue;
    const done = w.sorted.get(orderId)?.get(sku) ?? 0;
    if (done < (covered.get(orderId) ?? 0)) {
      const slot = i + 1;
      return { ok: true, orderId, slot, events: [pickEvent(PICK_EVENT.unitSorted, subject(w), { wave_id: w.waveId, order_id: orderId, sku, slot })] };
    }
  }
  return refuse('PKL_SORT_NOT_NEEDED', { waveId, barcode: item });
}

/** Whether an order picked in a wave may go to packing: every unit picked, not pulled, not held short (unless released). */
export function readyToPack(state: PickingState, orderId: string): boolean {
  const waveId = state.orderWave.get(orderId);
  if (waveId === undefined) return false;
  const w = state.waves.get(waveId);
  if (w === undefined || w.state === 'cancelled') return false;
  const hold = state.shortHolds.get(orderId);
  if (hold === 'released') return true;
  if (hold !== undefined) return false;
  return orderPicked(w, orderId);
}

/** A supervisor decides on an order held short: ship what was picked (if the order allows), or cancel it. */
export function decideShort(state: PickingState, orderId: string, action: 'release' | 'cancel', supervisor: string, partialAllowed: boolean): Decision {
  if (state.shortHolds.get(orderId) !== 'held') return refuse('PKL_PICK_NOT_SHORT', { orderId });
  if (action === 'release') {
    if (!partialAllowed) return refuse('PKL_PICK_PARTIAL_NOT_ALLOWED', { orderId });
    return { ok: true, events: [pickEvent(PICK_EVENT.shortReleased, `order:${orderId}`, { order_id: orderId, supervisor })] };
  }
  const events: PickEvent[] = [pickEvent(PICK_EVENT.shortCancelled, `order:${orderId}`, { order_id: orderId, supervisor })];
  const waveId = state.orderWave.get(orderId);
  if (waveId !== undefined) {
    const pulled = pullOrder(state, waveId, orderId, 'PKL_PICK_SHORT');
    if (pulled.ok) events.push(...pulled.events);
  }
  return { ok: true, events };
}

/** A replenishment request becomes a task: move from the reserve location holding the most of the SKU. */
export function taskReplenishment(state: PickingState, requestId: string, deviceId: string | null): Decision {
  const r = state.replenishments.get(requestId);
  if (r === undefined) return refuse('PKL_REPLENISH_UNKNOWN', { requestId });
  if (r.state !== 'requested') return refuse('PKL_REPLENISH_STATE', { requestId, replenishState: r.state });
  let best: { code: string; qty: number } | null = null;
  for (const [code, skus] of state.stock) {
    if (state.locations.get(code)?.kind !== 'reserve') continue;
    const q = skus.get(r.sku) ?? 0;
    if (q > 0 && (best === null || q > best.qty || (q === best.qty && code < best.code))) best = { code, qty: q };
  }
  if (best === null) return refuse('PKL_REPLENISH_NO_RESERVE', { sku: r.sku, location: r.location });
  return {
    ok: true,
    events: [pickEvent(PICK_EVENT.replenishmentTasked, `replenishment:${requestId}`, { request_id: requestId, from: best.code, device_id: deviceId })],
  };
}

/** Confirms a replenishment move: at most what was asked and what the reserve holds. */
export function confirmReplenishment(state: PickingState, requestId: string, qty: number | null): Decision {
  const r = state.replenishments.get(requestId);
  if (r === undefined) return refuse('PKL_REPLENISH_UNKNOWN', { requestId });
  if (r.state !== 'tasked' || r.from === null) return refuse('PKL_REPLENISH_STATE', { requestId, replenishState: r.state });
  const onHand = state.onHand(r.from, r.sku);
  const want = qty ?? r.qty;
  if (want > onHand) return refuse('PKL_PICK_STOCK_LOW', { onHand, sku: r.sku, location: r.from });
  return {
    ok: true,
    events: [
      pickEvent(PICK_EVENT.replenishmentConfirmed, `replenishment:${requestId}`, {
        request_id: requestId,
        from: r.from,
        to: r.location,
        sku: r.sku,
        qty: want,
      }),
    ],
  };
}
