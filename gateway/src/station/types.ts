/**
 * Types of the shipment core: a pure state machine per packing station and a pure divert
 * decision per DWS line. No I/O here: the runtime feeds inputs, applies `writes` as one atomic
 * store unit, and only after that commit sends `commands` (so a crash never leaves a printed
 * label without its record; see docs/shipment-flow.md).
 */
import type { DisplayCommand, DivertCommand, PrintCommand } from '../../../contracts/payloads.js';
import type { RouteDecision } from './decide/print-router.js';
import type { ErrorCode, ErrorDetails, Result } from '../../../contracts/errors.js';
import type { Config, StationConfig } from '../config/schema.js';
import type { Order, PrintJob, Shipment, StationWrite } from './domain.js';
import type { LabelOptions } from '../label/zpl-label.js';

/** Read-only lookups into the local cache (map 1:1 onto Store reads, see lookups.ts). */
export interface OrderLookups {
  findOrderByBarcode(code: string): Order | null;
  getOrder(orderId: string): Order | null;
  /** Every shipment of the order (any station or line, any state). */
  shipmentsForOrder(orderId: string): Shipment[];
  getShipment(shipmentId: string): Shipment | null;
}

export type ShipmentConfig = Config['shipment'];

export interface StationContext extends OrderLookups {
  station: StationConfig;
  shipment: ShipmentConfig;
  /** A new unique id, e.g. `S-…` for shipments, `J-…` for print jobs. */
  newId(prefix: 'S' | 'J'): string;
  label?: LabelOptions;
  /**
   * Language the station's labels are rendered in (its config `labelFormat`, else its driven
   * printer's; see label/label-format.ts). Unset = ZPL.
   */
  labelFormat?: 'zpl' | 'tspl';
  /** Readings within ± this many grams mean "scale empty" (default EMPTY_SCALE_GRAMS). */
  emptyGrams?: number;
  /**
   * Pre-shipment callback (前置回传, config sync.preShipmentCallbackShops): true when this
   * shop's shipments are reported shipped upstream as soon as their label is queued.
   */
  preShipmentCallback?: (shop: string) => boolean;
  /**
   * Print channels (station/decide/print-router.ts): which printer a label goes to, by the station's
   * channel, routing rules and printer health. Absent: the station's own printer.
   * `exclude` names printers that just failed this label.
   */
  routePrinter?: (job: { carrier: string | null; shop: string; exclude?: readonly string[] }) => RouteDecision;
  /**
   * Devices that show the station's alerts on `dev/{id}/cmd/display` (docs/mqtt.md §2: its
   * display, scanner and PDAs). Absent: the station's display, if it has one.
   */
  displayTargets?: readonly string[];
  /**
   * Courier overload plan (gateway/src/handover/carrier-holds.ts): the hold on this carrier,
   * if a supervisor holds it; its parcels are not labelled meanwhile. Absent: no holds.
   */
  carrierHold?: (carrier: string | null) => { reason: string } | null;
  /**
   * The power plan (gateway/src/handover/power.ts): once a UPS shutdown started, the refusal
   * of a new parcel; parcels already open finish. Absent or null: new parcels are taken.
   */
  newWorkRefusal?: () => { code: ErrorCode; details: ErrorDetails } | null;
  /**
   * The batch this station works (gateway/src/batches/), if any: a scan of one of its item or
   * pre-pack barcodes picks its next order (post-print, decide/batch-scan.ts). Absent or null:
   * the station works order by order.
   */
  batchFor?: (stationId: string) => StationBatch | null;
  /**
   * Picking (gateway/src/picking/): where an order stands in the wave or pick list it is in, from
   * the picking runtime's fold of the log. An order still being picked or held short is not
   * packed (decide/scan.ts). Absent, or null for an order never in a wave: packed as scanned.
   */
  pickingState?: (orderId: string) => OrderPicking | null;
  /**
   * Presale (gateway/src/presale/): unpaid presale orders are staged at the label gate (a
   * staging label, no carrier label), and a scan of a staging label releases a paid one
   * (decide/presale-stage.ts). Absent: no order is presale.
   */
  presale?: StationPresale;
  /**
   * Batch pre-print (decide/preprint.ts, gateway/src/batches/preprint-book.ts): batches whose
   * labels are printed ahead, and the shipments those labels belong to. Absent: no pre-print.
   */
  preprint?: PreprintLink;
  /**
   * Carrier switches (gateway/src/handover/carrier-holds.ts): the order whose voided label (old
   * waybill) is on the recall list and not pulled yet, or null. A scan of that label, or of the
   * order, prints the new carrier's label (decide/relabel.ts). Absent: no relabel.
   */
  voidedLabel?: (waybill: string) => { orderId: string } | null;
  /** False when no voided label waits to be pulled (a scan then skips the relabel look-up). */
  anyVoided?: () => boolean;
}

/** A staged presale parcel as the station sees it (gateway/src/presale/presale-book.ts serves it). */
export interface StagedParcel {
  /** The id of the shipment that packed it; its staging label's barcode is `STG-{stagingId}`. */
  stagingId: string;
  orderId: string;
  /** staged: on the presale shelf; released: taken off it to be labelled; unpacked: its order was stopped. */
  state: 'staged' | 'released' | 'unpacked';
  grams: number | null;
  expectedGrams: number | null;
}

export interface StationPresale {
  /** True while the order is an unpaid presale order: staged at the label gate, never labelled for a carrier. */
  unpaid(orderId: string): boolean;
  /** The order's staged parcel (the latest one), or null. */
  stagedFor(orderId: string): StagedParcel | null;
  /** The staged parcel a scanned staging barcode names, or null (not a staging label, or an unknown one). */
  byBarcode(code: string): StagedParcel | null;
}

/** A pre-printed label's place: its batch, 1-based sequence number and the batch's size. */
export interface PreprintPlace {
  batchId: string;
  seq: number;
  total: number;
}

/** What the station's deciders need of batch pre-print. */
export interface PreprintLink {
  /** A batch to print ahead: its size and its orders not yet taken, in sequence; null if unknown. */
  batch(batchId: string): { batchId: string; total: number; remaining(): ReadonlyArray<{ orderId: string; seq: number }> } | null;
  /** The place of a shipment opened by a pre-print; null for any other shipment. */
  placeOf(shipmentId: string): PreprintPlace | null;
  /** False when no pre-printed label waits for its parcel (a scan then skips the look-up). */
  anyOut?(): boolean;
}

/**
 * An order's picking as the station sees it: `picking` (units still to pick), `short` (held
 * short or cancelled short by a supervisor), `picked`, `released_short` (a supervisor ships
 * what was picked). `short` names the line reported short, when the wave still lists it.
 */
export interface OrderPicking {
  state: 'picking' | 'short' | 'picked' | 'released_short';
  waveId: string;
  slot: number;
  short: { sku: string; location: string } | null;
}

/** What a scan it accepts stands for: an item of the composition, or one pre-packed unit. */
export type BatchCode = { kind: 'item' } | { kind: 'prepack'; jobId: string; usedBy: string | null };

/** A batch as the station's post-print decider sees it (batches/batch-book.ts serves it). */
export interface StationBatch {
  batchId: string;
  /** Weigh each parcel on the station scale before its label (false: label on the scan). */
  weigh: boolean;
  /** Whether a scan of `code` picks this batch's next order, and as what; null: not this batch's. */
  accepts(code: string): BatchCode | null;
  /** Whether the order is one of the batch's (any state). */
  contains(orderId: string): boolean;
  /** Orders not yet taken (shipped, being packed) or removed, in sequence, with their 1-based sequence number. */
  remaining(): ReadonlyArray<{ orderId: string; seq: number }>;
}

interface InputBase {
  /** Gateway receive time, epoch ms. All timestamps written come from here. */
  at: number;
  /** The device the input came from (scanner, scale, printer, PDA, or `api` for the HTTP API). */
  deviceId: string;
}

export type StationInput =
  | (InputBase & { kind: 'scan'; code: string; operator?: string })
  | (InputBase & { kind: 'weight'; grams: number; stable: boolean })
  | (InputBase & { kind: 'print_result'; jobId: string; status: 'printed' | 'failed'; reason?: string })
  | (InputBase & { kind: 'supervisor_override'; supervisor: string; shipmentId?: string; note?: string })
  /** The order cache changed (the runtime has already stored the new revision). */
  | (InputBase & { kind: 'order_updated'; orderId: string })
  /** Operator clears the station: the open shipment (if any) is abandoned. */
  | (InputBase & { kind: 'reset' })
  /** Print the next `limit` labels of a pre-print batch ahead, in sequence (decide/preprint.ts). */
  | (InputBase & { kind: 'preprint'; batchId: string; limit: number; operator?: string });

export type AlertLevel = DisplayCommand['level'];

export interface StationAlert {
  level: AlertLevel;
  code: ErrorCode | null;
  details: ErrorDetails | null;
  message: string;
  messageZh: string;
}

export interface ScaleReading {
  grams: number;
  stable: boolean;
  at: number;
}

export interface StationState {
  stationId: string;
  /**
   * The shipment on screen: an open one (verifying / weighing / held / labelling) or the last
   * finished one (shipped / intercepted / abandoned), which only stays for display.
   */
  shipment: Shipment | null;
  /** Whether items of the current shipment are verified by scan (from station.verifyItems). */
  verify: boolean;
  /** Weight lock: time the current shipment became ready to weigh (last item scan). */
  readyAt: number | null;
  /** Weight lock: the scale was near empty since the last weight was taken. */
  armed: boolean;
  scale: ScaleReading | null;
  /** Print jobs sent and not yet answered, by job id (a shipment may leave the screen meanwhile). */
  pendingJobs: Record<string, PrintJob>;
  /**
   * Printers that reported they could not print the current label (failover never sends it
   * back to one of them, so two faulted printers cannot ping-pong a label). In memory only:
   * after a restart the label may be tried on each printer once more, which cannot double
   * print (each refused it).
   */
  printFailures?: { shipmentId: string; printers: string[] };
  alert: StationAlert | null;
  updatedAt: number;
}

export type Command =
  | { kind: 'print'; deviceId: string; payload: PrintCommand }
  | { kind: 'display'; deviceId: string; payload: DisplayCommand }
  | { kind: 'divert'; deviceId: string; payload: DivertCommand };

/** The device's answer: ok, or the refusal with its code (contracts/errors.ts `Result`). */
export type Reply = Result;

export interface StationStep {
  state: StationState;
  /** Shipment / print-job rows and their `event` ops: ONE atomic unit. */
  writes: StationWrite[];
  /** Sent only after `writes` committed. */
  commands: Command[];
  /** The answer to the device that sent the input (`dev/{id}/ack` or `dev/{id}/err`). */
  reply: Reply;
  /** The alert raised by this input, if any (also kept in `state.alert`). */
  alert: StationAlert | null;
}
