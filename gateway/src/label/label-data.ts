/**
 * What a carrier label shows, whatever the printer language: built once from the order and
 * the weighed shipment, then rendered by zpl-label.ts or tspl-label.ts (same fields, same
 * layout), so a ZPL and a TSPL station print the same label.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { Order, Shipment } from '../station/domain.js';
import type { LabelFormat } from './label-format.js';

export interface LabelData {
  waybill: string;
  carrier: string;
  receiverName: string;
  receiverPhone: string;
  receiverAddress: string;
  routingCode: string | null;
  /** 大头笔 / 三段码, printed big. */
  sortCode: string | null;
  grams: number | null;
  orderId: string;
  /** e.g. `白色T恤 x2; 袜子 x1` (already built, see {@link itemSummary}). */
  items: string;
  /** The order's shop (templates may print it). */
  shop?: string;
  /**
   * A label printed ahead for a batch (batch pre-print, docs/packing-modes.md): the batch id
   * and the order's place in it, printed so the packer matches labels and parcels in sequence.
   */
  batch?: LabelBatch;
}

export interface LabelBatch {
  batchId: string;
  /** 1-based place of the order in the batch. */
  seq: number;
  total: number;
}

/** The batch line of a pre-printed label: `批次 B-1 12/500`. */
export function batchLine(b: LabelBatch): string {
  return `批次 ${b.batchId} ${b.seq}/${b.total}`;
}

/** Longest item summary in code points: four short lines of the label. */
const MAX_ITEMS = 80;

export function itemSummary(order: Order): string {
  const text = order.lines.map((l) => `${l.name === '' ? l.sku : l.name} x${l.qty}`).join('; ');
  const chars = Array.from(text);
  return chars.length > MAX_ITEMS ? `${chars.slice(0, MAX_ITEMS - 1).join('')}…` : text;
}

/**
 * Every label prints the receiver's phone masked (the platforms' e-waybill rule: the full
 * number stays in the carrier's system, not on a parcel): 11-digit mainland mobile numbers keep
 * 3 + 4 digits (`138****0000`); already masked or other numbers pass.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '');
  if (/^\+?(86)?1\d{10}$/.test(digits)) {
    const n = digits.slice(-11);
    return `${n.slice(0, 3)}****${n.slice(7)}`;
  }
  return phone;
}

/** The weight line's figure: kilograms with two decimals, `-` when not weighed. */
export function formatKg(grams: number | null): string {
  return grams === null ? '-' : `${(grams / 1000).toFixed(2)} kg`;
}

/** The label of a shipment; throws PKL_LABEL_TEMPLATE_ERROR when the order cannot be labelled. */
export function labelDataFor(order: Order, shipment: Shipment, batch?: LabelBatch): LabelData {
  const pd = order.printData;
  if (pd === null || order.waybill === null) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: 'order has no waybill print data' });
  }
  return {
    waybill: order.waybill,
    carrier: order.carrier ?? '',
    receiverName: pd.receiverName,
    receiverPhone: pd.receiverPhone,
    receiverAddress: pd.receiverAddress,
    routingCode: pd.routingCode ?? null,
    sortCode: pd.sortCode ?? null,
    grams: shipment.actualGrams,
    orderId: order.orderId,
    items: itemSummary(order),
    shop: order.shop,
    ...(batch === undefined ? {} : { batch }),
  };
}

/** The site's templates as the renderer sees them: null = no template for this carrier. */
export interface TemplateRenderer {
  render(format: LabelFormat, d: LabelData): string | null;
}
