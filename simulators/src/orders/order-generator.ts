/**
 * Deterministic, realistic orders for the simulated cloud and the load generator: the same
 * seed (and `now`) always yields the same orders.
 *
 * Orders look like Chinese e-commerce orders: receivers and addresses in Chinese, carriers
 * ZTO/YTO/YUNDA/STO/SF/JD/EMS with plausible waybill shapes, SKUs with valid EAN-13
 * barcodes (China GS1 prefix 690–695) and unit weights, 1–4 lines. A configurable share is
 * intercepted (refund requested, cancelled, closed on the platform) or still has no waybill.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { makeEan13 } from '../lib/ean13.js';
import { Prng } from '../lib/prng.js';
import { CARRIERS, CITIES, COMPOUNDS, GIVEN_CHARS, PRODUCT_KINDS, SHOPS, STREETS, SURNAMES, VARIANTS } from './catalogue.js';
import type { WireOrder, WireOrderFlags, WirePrintData } from './wire-order.js';

export interface OrderShares {
  /** Buyer asked for a refund (intercept at packing). */
  refundRequested: number;
  cancelled: number;
  platformClosed: number;
  /** No e-waybill yet (the station holds at labelling). Independent of the three above. */
  noWaybill: number;
}

export const DEFAULT_SHARES: OrderShares = { refundRequested: 0.03, cancelled: 0.01, platformClosed: 0.01, noWaybill: 0.04 };
/** Every order shippable: what a load test needs. */
export const CLEAN_SHARES: OrderShares = { refundRequested: 0, cancelled: 0, platformClosed: 0, noWaybill: 0 };

export interface Sku {
  sku: string;
  barcode: string;
  name: string;
  unitGrams: number;
}

export interface OrderGeneratorOptions {
  seed: number;
  /** Base time for ship-by deadlines (epoch ms). Default: Date.now() at construction. */
  now?: number;
  /** Prefix of order ids and pick-slip numbers, e.g. a run tag so reruns never collide. */
  idPrefix?: string;
  /** Number of distinct SKUs in the catalogue. */
  skuCount?: number;
  shares?: Partial<OrderShares>;
  /**
   * Share of orders (0..1) that are one unit of a promoted best seller (爆款), one of the first
   * {@link HOT_SKUS} SKUs of the catalogue: the single-SKU orders that post-print batches and
   * pre-packs exist for (docs/packing-modes.md). Default 0: every order drawn at random.
   */
  hotSkuShare?: number;
}

/** How many of the catalogue's SKUs are the promoted best sellers of {@link OrderGeneratorOptions.hotSkuShare}. */
export const HOT_SKUS = 3;

function checkShare(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `share ${name} must be within 0..1, got ${v}` });
}

/** Weighted pick: `weights[i]` is the relative chance of index i. */
function weighted(rng: Prng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

const CARRIER_WEIGHTS = CARRIERS.map((c) => c.weight);

export function buildCatalogue(seed: number, count: number): Sku[] {
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `skuCount must be 1..100000, got ${count}` });
  }
  const rng = new Prng(seed ^ 0x5eed5);
  const seen = new Set<string>();
  const out: Sku[] = [];
  for (let i = 0; out.length < count; i++) {
    const kind = rng.pick(PRODUCT_KINDS);
    // GS1 China prefixes 690–695, then manufacturer + item reference.
    const barcode = makeEan13(`69${rng.int(0, 5)}${rng.digits(9)}`);
    if (seen.has(barcode)) continue;
    seen.add(barcode);
    out.push({
      sku: `SKU${String(i + 1).padStart(5, '0')}`,
      barcode,
      name: `${kind.name} ${rng.pick(VARIANTS)}`,
      unitGrams: rng.int(kind.grams[0], kind.grams[1]),
    });
  }
  return out;
}

export class OrderGenerator {
  readonly catalogue: readonly Sku[];
  readonly shares: OrderShares;
  private readonly hotSkuShare: number;
  private readonly rng: Prng;
  private readonly now: number;
  private readonly prefix: string;
  private count = 0;

  constructor(opts: OrderGeneratorOptions) {
    if (!Number.isFinite(opts.seed)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'seed must be a number' });
    this.shares = { ...DEFAULT_SHARES, ...opts.shares };
    for (const [k, v] of Object.entries(this.shares)) checkShare(k, v);
    const intercept = this.shares.refundRequested + this.shares.cancelled + this.shares.platformClosed;
    if (intercept > 1) throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'intercept shares add up to more than 1' });
    const prefix = opts.idPrefix ?? 'SO';
    if (!/^[A-Za-z0-9]{0,24}$/.test(prefix)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'idPrefix must be up to 24 letters or digits' });
    }
    this.prefix = prefix;
    this.now = opts.now ?? Date.now();
    this.catalogue = buildCatalogue(opts.seed, opts.skuCount ?? 120);
    this.hotSkuShare = opts.hotSkuShare ?? 0;
    checkShare('hotSkuShare', this.hotSkuShare);
    this.rng = new Prng(opts.seed);
  }

  /** How many orders this generator has produced. */
  get generated(): number {
    return this.count;
  }

  batch(n: number): WireOrder[] {
    const out: WireOrder[] = [];
    for (let i = 0; i < n; i++) out.push(this.next());
    return out;
  }

  next(): WireOrder {
    const rng = this.rng;
    this.count++;
    const n = this.count;
    const shop = rng.pick(SHOPS);
    const orderId = `${this.prefix}${String(n).padStart(8, '0')}`;
    const platformNo =
      shop === 'pdd-store'
        ? `${rng.int(24, 25)}${String(rng.int(1, 12)).padStart(2, '0')}${String(rng.int(1, 28)).padStart(2, '0')}-${rng.digits(15)}`
        : shop === 'jd-pop'
          ? `3${rng.digits(11)}`
          : `${rng.int(1, 4)}${rng.digits(18)}`;
    const pickSlip = `PK${this.prefix}${String(n).padStart(8, '0')}`;

    // The draw for a best seller is made only when the option is on, so seeded runs without it
    // produce the same orders as before.
    const hot =
      this.hotSkuShare > 0 && rng.next() < this.hotSkuShare ? (this.catalogue[rng.int(0, Math.min(HOT_SKUS, this.catalogue.length) - 1)] as Sku) : null;
    const lineCount = hot === null ? 1 + weighted(rng, [60, 25, 10, 5]) : 0;
    const used = new Set<number>();
    const lines = hot === null ? [] : [{ sku: hot.sku, barcode: hot.barcode, name: hot.name, qty: 1, unit_grams: hot.unitGrams }];
    while (lines.length < lineCount) {
      const idx = rng.int(0, this.catalogue.length - 1);
      if (used.has(idx) && used.size < this.catalogue.length) continue;
      used.add(idx);
      const sku = this.catalogue[idx] as Sku;
      lines.push({ sku: sku.sku, barcode: sku.barcode, name: sku.name, qty: 1 + weighted(rng, [80, 15, 5]), unit_grams: sku.unitGrams });
    }
    const itemGrams = lines.reduce((s, l) => s + l.qty * l.unit_grams, 0);
    // Light goods ship in a poly mailer, heavier ones in a carton; some orders leave it to the default.
    const packagingRoll = rng.next();
    const packaging = packagingRoll < 0.1 ? null : itemGrams < 500 ? rng.int(12, 35) : rng.int(80, 260);

    const intercept = rng.next();
    const s = this.shares;
    const flags: WireOrderFlags = {
      refund_requested: intercept < s.refundRequested,
      cancelled: intercept >= s.refundRequested && intercept < s.refundRequested + s.cancelled,
      platform_closed: intercept >= s.refundRequested + s.cancelled && intercept < s.refundRequested + s.cancelled + s.platformClosed,
      refunded: false,
      shipped: false,
    };
    const noWaybill = rng.next() < s.noWaybill;
    const carrier = CARRIERS[weighted(rng, CARRIER_WEIGHTS)] ?? CARRIERS[0];
    const receiver = this.receiver(rng);
    const waybill = carrier ? carrier.waybill(rng) : null;
    const shipBy = Math.ceil((this.now + rng.int(12, 48) * 3_600_000) / 3_600_000) * 3_600_000;

    return {
      order_id: orderId,
      shop,
      barcodes: [pickSlip, platformNo],
      lines,
      packaging_grams: packaging,
      flags,
      carrier: carrier?.code ?? null,
      waybill: noWaybill ? null : waybill,
      print_data: noWaybill ? null : receiver,
      ship_by: shipBy,
      revision: 1,
    };
  }

  /** The same order with a waybill assigned (what the cloud sends once the e-waybill is issued). */
  assignWaybill(order: WireOrder): WireOrder {
    const carrier = CARRIERS.find((c) => c.code === order.carrier) ?? (CARRIERS[0] as (typeof CARRIERS)[number]);
    return {
      ...order,
      carrier: carrier.code,
      waybill: carrier.waybill(this.rng),
      print_data: order.print_data ?? this.receiver(this.rng),
      revision: order.revision + 1,
    };
  }

  private receiver(rng: Prng): WirePrintData {
    const city = rng.pick(CITIES);
    const district = rng.pick(city.districts);
    const given = rng.pick(GIVEN_CHARS) + (rng.chance(0.7) ? rng.pick(GIVEN_CHARS) : '');
    const province = city.province === city.city ? '' : city.province;
    return {
      receiver_name: rng.pick(SURNAMES) + given,
      // Mobile numbers: 1[3-9]x + 8 digits (MIIT numbering plan).
      receiver_phone: `1${rng.int(3, 9)}${rng.digits(9)}`,
      receiver_address: `${province}${city.city}${district}${rng.pick(STREETS)}${rng.int(1, 999)}号${rng.pick(COMPOUNDS)}${rng.int(1, 30)}幢${rng.int(1, 6)}单元${rng.int(1, 32)}0${rng.int(1, 4)}室`,
      routing_code: `${city.area}-${String.fromCharCode(65 + rng.int(0, 7))}${rng.digits(2)}-${rng.digits(2)}`,
      sort_code: `${city.short} ${district.replace(/区$/, '')}`,
    };
  }
}

/** The same order with new flags and the next revision (a cloud-side change). */
export function withFlags(order: WireOrder, flags: Partial<WireOrderFlags>): WireOrder {
  return { ...order, flags: { ...order.flags, ...flags }, revision: order.revision + 1 };
}
