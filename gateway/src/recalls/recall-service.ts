/**
 * The recall list, the I/O around recall-list.ts: pre-printed labels whose order was
 * intercepted (re-evaluated on every committed station unit and on every order change from
 * the feed or the API, so a refund puts its label on the list at once) and the carrier
 * switches' voided labels, in one list. Each entry is counted until it is reported pulled —
 * over HTTP, from the dashboard, or by a PDA scanning the pulled label (`recall_scan`,
 * docs/mqtt.md §10) — which writes `order.label_recall_pulled` (the switch's own pull for a
 * carrier-switch label). Every new entry is sent to the PDAs as a recall task on
 * `dev/{id}/cmd/task` (`{v: 1, type: "recall"}`), and a pulled one closes it.
 *
 * Nothing here is a table: the entries are rebuilt at start from the pre-print picks (batch
 * events) and the shipment rows, and the pulls from the log.
 */
import { type ErrorCode, type ErrorDetails, PacklineError } from '../../../contracts/errors.js';
import { PICK_CONTRACT_VERSION } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { PreprintBook } from '../batches/preprint-book.js';
import type { CarrierService } from '../handover/carrier-service.js';
import { type HandoverStore, logRows, rowData, rowTime } from '../handover/handover-service.js';
import type { Logger } from '../lib/logger.js';
import type { Shipment, StationWrite } from '../station/domain.js';
import type { CommandLink, DeviceEvent, EventOwner, Outcome } from '../station/ports.js';
import { batchEvent, EVENT } from '../station/events.js';
import { carrierRecall, findRecall, preprintRecall, type RecallEntry, recallWire } from './recall-list.js';

export type RecallStore = Pick<HandoverStore, 'eventRowsOfTypes' | 'stats' | 'getShipment' | 'getOrder' | 'findOrderByBarcode' | 'write'>;

export interface RecallDeps {
  store: RecallStore;
  preprints: PreprintBook;
  carriers: Pick<CarrierService, 'recalls' | 'pulled'>;
  link: CommandLink;
  logger: Logger;
  /** PDAs that get recall tasks (every configured PDA). */
  pdas(): readonly string[];
  /** The list changed: station screens draw it again. */
  changed?(): void;
  /**
   * A pull was committed (its writes): the batches see a pulled pre-printed label's order
   * leave its batch, so a batch whose last labels were pulled, not scanned, gets done.
   */
  committed?(writes: readonly StationWrite[]): void;
  now?: () => number;
}

export type RecallResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

/** Items the station view lists (the count covers all). */
const VIEW_ITEMS = 5;

export class RecallService implements EventOwner {
  readonly name = 'recalls';
  /** Pre-print entries by waybill. */
  private readonly preprint = new Map<string, RecallEntry>();
  /** Pulls of pre-print labels from the log: waybill → when, by whom. */
  private readonly pulls = new Map<string, { at: number; by: string }>();
  /** Waybills whose task went to the PDAs (this run). */
  private readonly announced = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private started = false;

  constructor(private readonly deps: RecallDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    for (const row of logRows(this.deps.store, [EVENT.recallPulled])) {
      const d = rowData(row);
      if (d.kind === 'preprint' && typeof d.waybill === 'string') this.pulls.set(d.waybill, { at: rowTime(row), by: String(d.by ?? '') });
    }
    for (const e of this.deps.preprints.all()) this.evaluate(e.shipmentId, this.deps.store.getShipment(e.shipmentId));
    this.started = true;
    // Open entries go to the PDAs connected now; one that connects later gets them when it
    // announces itself (deviceState).
    this.announce();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.chain.catch(() => undefined);
  }

  /** Open entries (with `all`, pulled ones too), oldest first. */
  list(all = false): RecallEntry[] {
    const out = [...this.preprint.values(), ...this.deps.carriers.recalls(true).map(carrierRecall)];
    return out.filter((r) => all || r.pulledAt === null).sort((a, b) => a.at - b.at || (a.waybill < b.waybill ? -1 : 1));
  }

  open(): number {
    return this.list().length;
  }

  /** The station view's `recalls` block (docs/mqtt.md station view), absent when nothing is to pull. */
  view(): { open: number; items: Array<{ waybill: string; order_id: string; kind: string; code: string }> } | null {
    const open = this.list();
    if (open.length === 0) return null;
    return {
      open: open.length,
      items: open.slice(0, VIEW_ITEMS).map((r) => ({ waybill: r.waybill, order_id: r.orderId, kind: r.kind, code: r.code })),
    };
  }

  /** A committed station unit: pre-printed shipments it wrote are evaluated again. */
  committed(writes: readonly StationWrite[]): void {
    let grew = false;
    for (const w of writes) {
      if (w.op === 'event' && w.type === EVENT.relabelled) {
        // The station printed the new label: the packer took the old one off (recorded as pulled).
        const d = w.data as { old_waybill?: unknown };
        const station = w.subject;
        if (typeof d.old_waybill === 'string') {
          void this.pulled(d.old_waybill, `relabel ${station}`).then((r) => {
            if (!r.ok) this.deps.logger.warn({ code: r.code, waybill: d.old_waybill }, 'relabelled label not recorded pulled');
          });
        }
        continue;
      }
      if (w.op !== 'shipment.put' || this.deps.preprints.entry(w.shipment.shipmentId) === null) continue;
      grew = this.evaluate(w.shipment.shipmentId, w.shipment) || grew;
    }
    if (grew) this.grew();
  }

  /** Orders changed in the cache (feed, API): a pre-printed label of an intercepted order joins the list at once. */
  ordersChanged(orderIds: readonly string[]): void {
    const ids = new Set(orderIds);
    let grew = false;
    for (const e of this.deps.preprints.all()) {
      if (!ids.has(e.orderId)) continue;
      grew = this.evaluate(e.shipmentId, this.deps.store.getShipment(e.shipmentId)) || grew;
    }
    // A carrier switch signals its orders too: its voided labels go to the PDAs.
    if (grew || this.deps.carriers.recalls().some((r) => !this.announced.has(r.waybill))) this.grew();
  }

  /** True when the shipment's label newly joined the list. */
  private evaluate(shipmentId: string, shipment: Shipment | null): boolean {
    const entry = this.deps.preprints.entry(shipmentId);
    if (entry === null || entry.waybill === null || this.preprint.has(entry.waybill)) return false;
    const r = preprintRecall(entry, shipment, shipment === null ? null : this.deps.store.getOrder(shipment.orderId), this.now());
    if (r === null) return false;
    const pulled = this.pulls.get(r.waybill);
    if (pulled !== undefined) {
      r.pulledAt = pulled.at;
      r.pulledBy = pulled.by;
    }
    this.preprint.set(r.waybill, r);
    if (pulled === undefined)
      this.deps.logger.warn({ audit: 'label_recall', waybill: r.waybill, orderId: r.orderId, code: r.code }, `label ${r.waybill} to pull: ${r.code}`);
    return pulled === undefined;
  }

  private grew(): void {
    if (!this.started) return;
    this.announce();
    this.deps.changed?.();
  }

  /** Sends a recall task for every open entry the PDAs were not told about. */
  private announce(): void {
    for (const r of this.list()) {
      if (this.announced.has(r.waybill)) continue;
      this.announced.add(r.waybill);
      this.task({ v: PICK_CONTRACT_VERSION, type: 'recall', task_id: taskId(r.waybill), ...recallWire(r) });
    }
  }

  /**
   * A device announced itself (`dev/{id}/state` online, published after it subscribed,
   * docs/mqtt.md §2): a PDA gets every open recall task again — tasks are not retained, and one
   * sent while it was away is lost.
   */
  deviceState(deviceId: string, state: string): void {
    if (!this.started || state !== 'online' || !this.deps.pdas().includes(deviceId)) return;
    for (const r of this.list()) this.task({ v: PICK_CONTRACT_VERSION, type: 'recall', task_id: taskId(r.waybill), ...recallWire(r) }, [deviceId]);
  }

  private task(payload: Record<string, unknown>, to: readonly string[] = this.deps.pdas()): void {
    const body = JSON.stringify(payload);
    for (const id of to) {
      this.deps.link
        .publish(topics.command(id, 'task'), body, { qos: 1 })
        .catch((err: unknown) => this.deps.logger.debug({ err, deviceId: id }, 'recall task not sent'));
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Reports a label pulled: `code` is its waybill, or an order barcode of an order with a
   * label on the list. Pulled again: answered with the entry, nothing written.
   */
  pulled(code: string, by: string, dedupe?: { deviceId: string; msgId: string }): Promise<RecallResult<RecallEntry & { logSeq?: number }>> {
    return this.serial(async (): Promise<RecallResult<RecallEntry & { logSeq?: number }>> => {
      const r = findRecall(this.list(true), code, (c) => this.deps.store.findOrderByBarcode(c)?.orderId ?? null);
      if (r === null) return { ok: false, code: 'PKL_RECALL_UNKNOWN', details: { code } };
      if (r.pulledAt !== null) return { ok: true, value: r };
      if (r.kind === 'carrier_switch') {
        const c = await this.deps.carriers.pulled(r.waybill, by);
        if (!c.ok) return c;
        this.closed(r.waybill);
        return { ok: true, value: { ...r, pulledAt: c.value.pulledAt, pulledBy: by } };
      }
      const at = this.now();
      const ops: StationWrite[] = [
        {
          op: 'event',
          type: EVENT.recallPulled,
          subject: `order:${r.orderId}`,
          data: { order_id: r.orderId, waybill: r.waybill, kind: r.kind, by, batch_id: r.batchId, shipment_id: r.shipmentId, code: r.code },
        },
      ];
      // A pre-printed label pulled off the shelf: its order leaves the batch (the parcel will not
      // be scanned), in the same unit, so the batch can be done and a restart replays it.
      if (r.batchId !== null && r.shipmentId !== null && r.seq !== null && this.deps.store.getShipment(r.shipmentId)?.state === 'printed') {
        ops.push(
          batchEvent(EVENT.batchOrderRemoved, r.batchId, { order_id: r.orderId, seq: r.seq, code: r.code, shipment_id: r.shipmentId, by: 'recall_pulled' }),
        );
      }
      if (dedupe !== undefined) ops.push({ op: 'dedupe', deviceId: dedupe.deviceId, msgId: dedupe.msgId });
      let seq: number | undefined;
      try {
        seq = (await this.deps.store.write(ops)).seqs[0];
      } catch (err) {
        if (err instanceof PacklineError) return { ok: false, code: err.code, details: err.details ?? {} };
        return { ok: false, code: 'PKL_STORE_UNAVAILABLE', details: { reason: String(err) } };
      }
      this.deps.committed?.(ops);
      this.pulls.set(r.waybill, { at, by });
      const pulled = { ...r, pulledAt: at, pulledBy: by };
      this.preprint.set(r.waybill, pulled);
      this.deps.logger.info({ audit: 'label_recall_pulled', waybill: r.waybill, orderId: r.orderId, by }, `label ${r.waybill} pulled`);
      this.closed(r.waybill);
      return { ok: true, value: seq === undefined ? pulled : { ...pulled, logSeq: seq } };
    });
  }

  private closed(waybill: string): void {
    this.task({ v: PICK_CONTRACT_VERSION, type: 'closed', task_id: taskId(waybill) });
    this.deps.changed?.();
  }

  /**
   * `recall_scan` from a PDA (docs/mqtt.md §10): the label it pulled. Acknowledged once the
   * pull is durable; the message id is stored with it, so a redelivery is answered, not
   * applied twice. The PDA's display says what it was.
   */
  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    if (event.kind !== 'recall_scan') {
      settle({ ok: false, code: 'PKL_DEVICE_ROLE_MISMATCH', details: { deviceId: event.deviceId, role: event.binding.role, kind: event.kind } });
      return true;
    }
    const { code } = event.payload as { code: string };
    const dedupe = event.msgId === undefined ? undefined : { deviceId: event.deviceId, msgId: event.msgId };
    void this.pulled(code, event.deviceId, dedupe).then(async (r) => {
      if (!r.ok) {
        if (r.code === 'PKL_DUPLICATE_MESSAGE') {
          settle({ ok: true });
          return;
        }
        settle(r);
        const e = new PacklineError(r.code, r.details);
        await this.display(event.deviceId, 'warn', e.message, e.messageZh);
        return;
      }
      settle(r.value.logSeq === undefined ? { ok: true } : { ok: true, seq: r.value.logSeq });
      const left = this.open();
      await this.display(event.deviceId, 'ok', `Pulled ${r.value.waybill}: ${left} left to pull`, `已取下 ${r.value.waybill}：还有 ${left} 张待召回`);
    });
    return true;
  }

  private async display(deviceId: string, level: 'ok' | 'warn', text: string, textZh: string): Promise<void> {
    await this.deps.link
      .publish(topics.command(deviceId, 'display'), JSON.stringify({ level, text, text_zh: textZh }), { qos: 1 })
      .catch((err: unknown) => this.deps.logger.debug({ err, deviceId }, 'recall display not sent'));
  }
}

export function taskId(waybill: string): string {
  return `recall:${waybill}`;
}
