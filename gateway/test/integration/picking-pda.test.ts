/**
 * Picking on PDAs end to end, over real MQTT with the PDA simulator and a real gateway process:
 * a wave built by the API from the pending orders (a cancelled order left out at pick start),
 * released to a PDA, picked line by line with mistakes (wrong location and item refused at
 * once), the gateway killed with SIGKILL in the middle of the wave and restarted on the same
 * data; the picking state rebuilt from the log shows exactly the acknowledged picks, stock at
 * every location matches (start − picked, corrections for shorts), an order refunded mid-wave
 * is pulled with its picked units back on the shelf, the rest of the wave is picked with short
 * picks, the wave closes, short-held orders go to the supervisor, and sorting puts each unit
 * to a slot of an order that needs it — no unit picked twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PdaSim } from '../../../simulators/src/devices/pda.js';
import { adminGet, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig, importOrders, wireOrder } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-pick-'));
const configFile = join(dir, 'packline.json');
const dataDir = join(dir, 'data');
let child: ChildGateway | null = null;
const pdas: PdaSim[] = [];

afterAll(async () => {
  await Promise.all(pdas.map((p) => p.stop().catch(() => undefined)));
  child?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const SKUS = 8;
const START = 40;
const barcode = (i: number) => `69100000${String(i).padStart(5, '0')}`;
const loc = (i: number) => `A0${1 + (i % 2)}-0${1 + Math.floor(i / 2)}-1`;

async function call(g: ChildGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${g.tokens.admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function pda(g: ChildGateway, id: string): Promise<PdaSim> {
  const p = new PdaSim({ mqttUrl: g.mqttUrl, deviceId: id, secret: g.secrets[id] as string, replyTimeoutMs: 5000 });
  await p.start();
  pdas.push(p);
  return p;
}

async function until<T>(f: () => T | null | undefined, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface WaveWire {
  wave_id: string;
  state: string;
  orders: Array<{ order_id: string; slot: number; state: string; code: string | null }>;
  lines: Array<{
    line_no: number;
    location: string;
    sku: string;
    qty: number;
    picked: number;
    short: boolean;
    orders: Array<{ order_id: string; qty: number; picked: number }>;
  }>;
}

async function stockOf(g: ChildGateway, location: string): Promise<Map<string, number>> {
  const s = await adminGet<{ stock: Array<{ sku: string; qty: number }> }>(g, `/api/v1/locations/${location}/stock`);
  return new Map(s.stock.map((x) => [x.sku, x.qty]));
}

describe('picking on PDAs over MQTT', () => {
  it('picks a wave through a SIGKILL: refuses mistakes, rebuilds exact stock, pulls an intercepted order, closes, sorts', async () => {
    const cfg = floorConfig(dataDir, { stations: 1, lines: 0 });
    (cfg.devices as Array<Record<string, string>>).push({ id: 'pda-1', role: 'pda' }, { id: 'pda-2', role: 'pda' });
    writeFileSync(configFile, JSON.stringify(cfg));
    child = await startChildGateway(configFile, dataDir);
    let g: ChildGateway = child;

    // The floor: SKU i on face loc(i), START units each, capacity 50, trigger 30; a reserve location.
    const floor = await call(g, 'POST', '/api/v1/picking/floor', {
      locations: [
        ...Array.from({ length: SKUS }, (_, i) => ({
          code: loc(i),
          zone: 'Z1',
          aisle: 1 + (i % 2),
          bay: 1 + Math.floor(i / 2),
          level: 1,
          kind: 'pick',
          capacity: 50,
          trigger: 30,
        })),
        { code: 'R-01', zone: 'R', aisle: 9, bay: 1, level: 1, kind: 'reserve' },
      ],
      stock: [
        ...Array.from({ length: SKUS }, (_, i) => ({ location: loc(i), sku: `SKU-${i}`, qty: START })),
        ...Array.from({ length: SKUS }, (_, i) => ({ location: 'R-01', sku: `SKU-${i}`, qty: 500 })),
      ],
    });
    expect(floor.status).toBe(200);

    const orders = Array.from({ length: 12 }, (_, n) =>
      wireOrder(`O-${n}`, {
        items: [0, 1, 2].map((k) => ({ sku: `SKU-${(n + k * 3) % SKUS}`, barcode: barcode((n + k * 3) % SKUS), qty: 1 + ((n + k) % 2), unit_grams: 100 })),
        ...(n === 3 && { flags: { cancelled: true } }),
      }),
    );
    expect((await importOrders(g.httpUrl, g.tokens.admin, orders)).status).toBe(200);

    // Preview records nothing; the build does.
    const preview = await call(g, 'POST', '/api/v1/waves', { preview: true, max_orders: 20 });
    expect(preview.status).toBe(200);
    expect((await adminGet<{ waves: unknown[] }>(g, '/api/v1/waves')).waves).toEqual([]);
    const built = await call(g, 'POST', '/api/v1/waves', { max_orders: 20 });
    expect(built.status).toBe(200);
    const wave = (built.json.waves as WaveWire[])[0] as WaveWire;
    expect(wave.orders.map((o) => o.order_id)).not.toContain('O-3');
    expect(built.json.left_out).toEqual([{ orderId: 'O-3', code: 'PKL_INTERCEPT_CANCELLED' }]);
    expect(wave.orders).toHaveLength(11);
    const waveId = wave.wave_id;
    const released = await call(g, 'POST', `/api/v1/waves/${waveId}/release`, { device_id: 'pda-1' });
    expect(released.status).toBe(200);

    // Another PDA cannot take a wave released to pda-1.
    const other = await pda(g, 'pda-2');
    const otherAccept = await other.accept(waveId, '李四');
    expect(otherAccept.status === 'error' ? otherAccept.error.code : otherAccept.status).toBe('PKL_WAVE_STATE');

    let p1 = await pda(g, 'pda-1');
    expect((await p1.requestWork()).status).toBe('ack');
    const offered = await until(() => p1.pickTask(waveId), 'the task offer');
    // S-shape: aisle A01 front to back, then A02 back to front.
    const path = offered.lines.map((l) => l.location);
    const a1 = path.filter((x) => x.startsWith('A01'));
    const a2 = path.filter((x) => x.startsWith('A02'));
    expect(path).toEqual([...[...a1].sort(), ...[...a2].sort().reverse()]);
    expect((await p1.accept(waveId, '张三')).status).toBe('ack');
    const accepted = await until(() => (p1.tasks.length >= 2 ? p1.pickTask(waveId) : null), 'the accepted task');

    // Pick about half the lines, with mistakes, then pull the plug.
    let rand = 1;
    const random = () => (rand = (rand * 48271) % 2147483647) / 2147483647;
    const half = Math.ceil(accepted.lines.length / 2);
    let done = 0;
    const first = await p1.work(accepted, { mistakes: 0.5, random, onLine: () => (++done >= half ? 'stop' : undefined) });
    expect(first.refused.length).toBeGreaterThan(0);
    expect(new Set(first.refused)).toEqual(new Set(['PKL_PICK_WRONG_LOCATION', 'PKL_PICK_WRONG_ITEM']));
    expect(first.confirmed).toBeGreaterThan(0);
    const ackedUnits = first.confirmed;
    await p1.stop();
    g.proc.kill('SIGKILL');
    expect((await g.exited).signal).toBe('SIGKILL');

    // Restart on the same data: the picking state is the log's.
    child = await startChildGateway(configFile, dataDir);
    g = child;
    const after = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
    expect(after.state).toBe('picking');
    expect(after.lines.reduce((s, l) => s + l.picked, 0)).toBe(ackedUnits);
    for (const l of after.lines) expect(l.picked).toBeLessThanOrEqual(l.qty);
    for (let i = 0; i < SKUS; i++) {
      const picked = after.lines.filter((l) => l.sku === `SKU-${i}`).reduce((s, l) => s + l.picked, 0);
      expect((await stockOf(g, loc(i))).get(`SKU-${i}`), `SKU-${i}`).toBe(START - picked);
    }

    // The cloud refunds O-5 mid-wave: it leaves the wave and its picked units go back.
    const o5 = {
      ...(orders[5] as Record<string, unknown>),
      flags: { refund_requested: false, refunded: true, cancelled: false, platform_closed: false, shipped: false },
      revision: 2,
    };
    expect((await importOrders(g.httpUrl, g.tokens.admin, [o5])).status).toBe(200);
    let w2 = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
    for (let i = 0; i < 50 && w2.orders.find((o) => o.order_id === 'O-5')?.state !== 'pulled'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      w2 = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
    }
    expect(w2.orders.find((o) => o.order_id === 'O-5')).toMatchObject({ state: 'pulled', code: 'PKL_INTERCEPT_REFUNDED' });
    expect(w2.lines.some((l) => l.orders.some((o) => o.order_id === 'O-5'))).toBe(false);

    // A new PDA session picks the rest, with mistakes and short picks.
    p1 = await pda(g, 'pda-1');
    expect((await p1.requestWork()).status).toBe('ack');
    const rest = await until(() => p1.pickTask(waveId), 'the remaining task');
    const second = await p1.work(rest, { mistakes: 0.3, shortRate: 0.3, random });
    expect(second.timeouts).toBe(0);
    const closed = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
    expect(closed.state).toBe('closed');
    await until(() => (p1.tasks.some((t) => (t as { type?: string }).type === 'closed') ? true : null), 'the closed notice');

    // Stock: start − picked, except faces a short pick corrected to empty.
    for (let i = 0; i < SKUS; i++) {
      const lines = closed.lines.filter((l) => l.sku === `SKU-${i}`);
      const picked = lines.reduce((s, l) => s + l.picked, 0);
      const onHand = (await stockOf(g, loc(i))).get(`SKU-${i}`);
      if (lines.some((l) => l.short)) expect(onHand).toBe(0);
      else expect(onHand, `SKU-${i}`).toBe(START - picked);
      for (const l of lines) expect(l.picked).toBeLessThanOrEqual(l.qty);
    }

    // Short picks are on the exception queue; replenishment was requested for faces below the trigger.
    const shorts = await adminGet<{ shorts: Array<{ order_id: string; state: string }> }>(g, '/api/v1/picking/shorts');
    expect(shorts.shorts.length > 0).toBe(second.shorts > 0);
    const reps = await adminGet<{ replenishments: Array<{ request_id: string; location: string; qty: number; on_hand: number; state: string }> }>(
      g,
      '/api/v1/replenishments',
    );
    expect(reps.replenishments.length).toBeGreaterThan(0);
    const rep = reps.replenishments[0] as { request_id: string; location: string; qty: number; on_hand: number };
    expect(rep.qty).toBe(50 - rep.on_hand);
    const p2 = await pda(g, 'pda-2');
    expect((await call(g, 'POST', `/api/v1/replenishments/${rep.request_id}/task`, { device_id: 'pda-2' })).status).toBe(200);
    const task = await until(
      () => p2.tasks.find((t) => (t as { type?: string }).type === 'replenish') as { task_id: string; from: string; to: string; qty: number } | undefined,
      'the replenishment task',
    );
    expect(task).toMatchObject({ task_id: rep.request_id, from: 'R-01', to: rep.location, qty: rep.qty });
    expect((await p2.confirmReplenishment(rep.request_id)).status).toBe('ack');
    const sku = [...(await stockOf(g, rep.location)).keys()][0] as string;
    expect((await stockOf(g, rep.location)).get(sku)).toBe(50);

    // Sorting: every picked unit goes to a slot of an order that still needs it; one more is refused.
    const sortTo = new Map<string, number>();
    for (const l of closed.lines) {
      for (let u = 0; u < l.picked; u++) {
        const r = await p1.sort(waveId, barcode(Number(l.sku.slice(4))));
        expect(r.status).toBe('ack');
      }
    }
    for (const t of p1.tasks) {
      const s = t as { type?: string; order_id?: string };
      if (s.type === 'sort' && s.order_id !== undefined) sortTo.set(s.order_id, (sortTo.get(s.order_id) ?? 0) + 1);
    }
    const extra = await p1.sort(waveId, barcode(Number((closed.lines[0] as { sku: string }).sku.slice(4))));
    expect(extra.status === 'error' ? extra.error.code : extra.status).toBe('PKL_SORT_NOT_NEEDED');
    expect(sortTo.has('O-5')).toBe(false);
    expect(sortTo.has('O-3')).toBe(false);

    // A held order: the supervisor releases it (ship what was picked).
    const held = shorts.shorts.find((s) => s.state === 'held');
    if (held !== undefined)
      expect((await call(g, 'POST', `/api/v1/picking/shorts/${held.order_id}`, { action: 'release', supervisor: '王主管' })).status).toBe(200);
  });
});
