/**
 * The simulated floor's picking (docs/picking.md): a pick floor laid out for the catalogue, a
 * supervisor who builds and releases waves of one shop's orders over the HTTP API, and a picker
 * with an Android PDA (PdaSim, MQTT) who works them line by line with the mistakes pickers make
 * (wrong location, wrong item, a face short). Orders the wave picked go to the packing station
 * named in the scenario, so the picking gate at that station is fed, not starved. Held-short
 * orders are cancelled by the supervisor (they leave the wave, units back on the shelf), and
 * replenishment requests become tasks the same PDA confirms.
 */
import type { Sku } from '../orders/order-generator.js';
import { GatewayApi, GatewayHttpError } from '../cloud/gateway-api.js';
import { type PickTaskOffer, PdaSim } from '../devices/pda.js';
import type { SimLogger } from '../lib/logger.js';
import { Prng } from '../lib/prng.js';
import { sleep } from '../lib/time.js';

export interface PickerOptions {
  mqttUrl: string;
  httpUrl: string;
  adminToken: string;
  deviceId: string;
  secret: string;
  /** Orders of this shop are picked in waves; the others are packed straight from the pool. */
  shop: string;
  /** SKUs to lay out on pick faces (one face each) and in the reserve. */
  catalogue: readonly Sku[];
  waveOrders: number;
  /** Pause between waves (seconds). */
  waveEverySeconds: number;
  mistakeRate: number;
  shortRate: number;
  /** Units per pick face at the start, its capacity and its replenishment trigger. */
  faceUnits: number;
  seed: number;
  replyTimeoutMs: number;
  connectRetryMs: number;
  logger: SimLogger;
}

export interface PickerStats {
  deviceId: string;
  waves: number;
  unitsPicked: number;
  shorts: number;
  refused: Record<string, number>;
  ordersPicked: number;
  ordersCancelledShort: number;
  replenished: number;
}

interface WaveWire {
  wave_id: string;
  state: string;
  orders: Array<{ order_id: string; state: string }>;
}

/** Pick-face code of the i-th catalogue SKU: 4 levels per bay, 10 bays per aisle. */
export function faceOf(i: number): { code: string; aisle: number; bay: number; level: number } {
  const aisle = 1 + Math.floor(i / 40);
  const bay = 1 + (Math.floor(i / 4) % 10);
  const level = 1 + (i % 4);
  return { code: `P${String(aisle).padStart(2, '0')}-${String(bay).padStart(2, '0')}-${level}`, aisle, bay, level };
}
const RESERVE = 'R00-01-1';

export class PickerSim {
  readonly pda: PdaSim;
  private readonly api: GatewayApi;
  private readonly rng: Prng;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly counters: Omit<PickerStats, 'deviceId' | 'refused'> = {
    waves: 0,
    unitsPicked: 0,
    shorts: 0,
    ordersPicked: 0,
    ordersCancelledShort: 0,
    replenished: 0,
  };
  private readonly refused = new Map<string, number>();

  constructor(private readonly o: PickerOptions) {
    this.pda = new PdaSim({
      mqttUrl: o.mqttUrl,
      deviceId: o.deviceId,
      secret: o.secret,
      replyTimeoutMs: o.replyTimeoutMs,
      connectRetryMs: o.connectRetryMs,
      logger: o.logger,
    });
    this.api = new GatewayApi({ httpUrl: o.httpUrl, adminToken: o.adminToken, timeoutMs: o.replyTimeoutMs });
    this.rng = new Prng(o.seed);
  }

  /** Connects the PDA and lays out the pick floor (retrying while the gateway starts). */
  async start(): Promise<void> {
    await this.pda.start();
    const faces = this.o.catalogue.map((s, i) => ({ s, f: faceOf(i) }));
    const body = {
      locations: [
        ...faces.map(({ f }) => ({
          code: f.code,
          zone: 'P',
          aisle: f.aisle,
          bay: f.bay,
          level: f.level,
          kind: 'pick',
          capacity: this.o.faceUnits,
          trigger: Math.ceil(this.o.faceUnits / 4),
        })),
        { code: RESERVE, zone: 'R', aisle: 0, bay: 1, level: 1, kind: 'reserve' },
      ],
      stock: [
        ...faces.map(({ s, f }) => ({ location: f.code, sku: s.sku, qty: this.o.faceUnits })),
        ...this.o.catalogue.map((s) => ({ location: RESERVE, sku: s.sku, qty: this.o.faceUnits * 50 })),
      ],
    };
    const end = Date.now() + this.o.connectRetryMs;
    for (;;) {
      try {
        await this.api.request('POST', '/api/v1/picking/floor', body);
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
        await sleep(500);
      }
    }
  }

  /** Works waves until stopped; `picked` gets each order once every unit of it is picked. */
  run(picked: (orderId: string) => void): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          const waved = await this.oneWave(picked);
          await this.replenish();
          await sleep(waved ? this.o.waveEverySeconds * 1000 : Math.max(1000, this.o.waveEverySeconds * 1000), this.abort.signal);
        } catch (err) {
          if (!this.running) break;
          this.o.logger.warn({ deviceId: this.o.deviceId, err: (err as Error).message }, 'picker: wave failed; trying again');
          await sleep(2000, this.abort.signal);
        }
      }
    })();
  }

  private count(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  /** The wave this PDA is working, or a new one of the shop's pending orders; false when none. */
  private async oneWave(picked: (orderId: string) => void): Promise<boolean> {
    // A wave left open (the PDA timed out, the gateway restarted) is finished first.
    const open = async (state: string) => ((await this.api.request('GET', `/api/v1/waves?state=${state}`)) as { waves: WaveWire[] }).waves[0]?.wave_id;
    let waveId = (await open('picking')) ?? (await open('released'));
    if (waveId === undefined) {
      try {
        const built = (await this.api.request('POST', '/api/v1/waves', { shops: [this.o.shop], max_orders: this.o.waveOrders, group_by: [] })) as {
          waves: WaveWire[];
        };
        waveId = built.waves[0]?.wave_id;
      } catch (err) {
        if (err instanceof GatewayHttpError && err.code === 'PKL_WAVE_EMPTY') return false;
        throw err;
      }
      if (waveId === undefined) return false;
      await this.api.request('POST', `/api/v1/waves/${waveId}/release`, { device_id: this.o.deviceId });
      this.counters.waves++;
    }
    const asked = await this.pda.requestWork();
    if (asked.status !== 'ack') return false;
    const accepted = await this.pda.accept(waveId, '拣货员');
    if (accepted.status === 'error' && accepted.error.code !== 'PKL_WAVE_STATE') this.count(accepted.error.code);
    const task = await this.offer(waveId);
    if (task === null) return false;
    const log = await this.pda.work(task, { mistakes: this.o.mistakeRate, shortRate: this.o.shortRate, random: () => this.rng.next() });
    this.counters.unitsPicked += log.confirmed;
    this.counters.shorts += log.shorts;
    for (const c of log.refused) this.count(c);
    const wave = (await this.api.request('GET', `/api/v1/waves/${waveId}`)) as WaveWire;
    for (const o of wave.orders) {
      if (o.state === 'picked') {
        this.counters.ordersPicked++;
        picked(o.order_id);
      } else if (o.state === 'short') {
        // The supervisor does not ship part of an order here: it leaves the wave, its units go back.
        await this.api.request('POST', `/api/v1/picking/shorts/${o.order_id}`, { action: 'cancel', supervisor: 'sim-supervisor' }).catch(() => undefined);
        this.counters.ordersCancelledShort++;
      }
    }
    return true;
  }

  /** The newest offer of the wave in the picking state (sent after the accept). */
  private async offer(waveId: string): Promise<PickTaskOffer | null> {
    const end = Date.now() + this.o.replyTimeoutMs;
    while (Date.now() < end && this.running) {
      const t = this.pda.pickTask(waveId);
      if (t !== null && t.state === 'picking') return t;
      await sleep(50);
    }
    return null;
  }

  /** Open replenishment requests become tasks for this PDA, confirmed at once (the reserve is next to the faces). */
  private async replenish(): Promise<void> {
    const reps = (await this.api.request('GET', '/api/v1/replenishments')) as { replenishments: Array<{ request_id: string; state: string }> };
    for (const r of reps.replenishments) {
      if (!this.running) return;
      if (r.state === 'requested') await this.api.request('POST', `/api/v1/replenishments/${r.request_id}/task`, { device_id: this.o.deviceId });
      if (r.state === 'requested' || r.state === 'tasked') {
        const done = await this.pda.confirmReplenishment(r.request_id);
        if (done.status === 'ack') this.counters.replenished++;
      }
    }
  }

  stats(): PickerStats {
    return { deviceId: this.o.deviceId, ...this.counters, refused: Object.fromEntries(this.refused) };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop?.catch(() => undefined);
    await this.pda.stop();
  }
}
