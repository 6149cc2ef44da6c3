/**
 * Parcels for a post-print station of the simulated floor (docs/packing-modes.md): the station
 * works a same-SKU batch; when it has none (or its batch ran out) a batch is built by rule and
 * started at it over the gateway's HTTP API, as a supervisor would. `next()` answers an order
 * of the batch's composition — what the packer holds in hand; the gateway picks which order of
 * the batch the parcel becomes.
 */
import type { SimLogger } from '../lib/logger.js';
import type { WireOrder } from '../orders/wire-order.js';

interface ViewBatch {
  batch_id: string;
  remaining: number;
  next_order_id: string | null;
}

export class BatchParcelSource {
  private current: WireOrder | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly httpUrl: string,
    private readonly adminToken: string,
    private readonly stationId: string,
    private readonly log: SimLogger,
    /** Batch only these shops' orders (the others are picked in waves, picker.ts); absent: every shop. */
    private readonly shops?: readonly string[],
  ) {}

  /** An order of the batch's composition, or undefined while there is none (the loop polls again). */
  next(): WireOrder | undefined {
    this.refreshing ??= this.refresh()
      .catch((err: unknown) => this.log.warn({ stationId: this.stationId, err: (err as Error).message }, 'post-print batch unavailable'))
      .finally(() => {
        this.refreshing = null;
      });
    return this.current ?? undefined;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  private async refresh(): Promise<void> {
    const view = await this.call('GET', `/api/v1/stations/${this.stationId}`);
    let batch = (view.json.batch as ViewBatch | undefined) ?? null;
    if (batch === null || batch.remaining === 0) {
      const rules =
        this.shops === undefined
          ? [{ structures: ['single_same_sku'], max_size: 100 }]
          : this.shops.map((shop) => ({ structures: ['single_same_sku'], shop, max_size: 100 }));
      const built = await this.call('POST', '/api/v1/batches', { rules });
      const first = (built.json.batches as Array<{ batch_id: string }> | undefined)?.[0];
      if (built.status !== 200 || first === undefined) {
        this.current = null;
        return;
      }
      const started = await this.call('POST', `/api/v1/batches/${first.batch_id}/start`, { station_id: this.stationId });
      if (started.status !== 200) {
        this.current = null;
        return;
      }
      this.log.info({ stationId: this.stationId, batchId: first.batch_id }, 'post-print batch started');
      batch = (await this.call('GET', `/api/v1/stations/${this.stationId}`)).json.batch as ViewBatch | null;
    }
    const orderId = batch?.next_order_id ?? null;
    if (orderId === null) {
      this.current = null;
      return;
    }
    if (this.current?.order_id === orderId) return;
    const order = await this.call('GET', `/api/v1/orders/${encodeURIComponent(orderId)}`);
    this.current = order.status === 200 ? (order.json as unknown as WireOrder) : null;
  }
}
