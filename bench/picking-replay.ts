/**
 * The picking state's rebuild at start (gateway/src/picking/picking-runtime.ts `start`: a replay
 * of every picking event of the log into a fresh PickingState) on a season-size log: the bench
 * floor's 6,000 pick faces and 20,000 SKU counts, then waves of 100 orders picked and sorted
 * (wave.built, released, started, one pick.confirmed per consolidated line, one pick.sorted per
 * order and line, wave.closed, now and then a replenishment), until `events` picking events; the
 * log also holds `filler` non-picking events per picking event (the shipment flow's), which the
 * replay reads past. Written through the real SQLite store; the replay is timed on a new runtime
 * over the same store, as a restart does; then the same restart from a snapshot taken at the end
 * of the log (picking/snapshot.ts). Figures: bench/README.md "picking" (4).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../gateway/src/lib/logger.js';
import { PICK_EVENT, type PickEvent, pickEvent } from '../gateway/src/picking/events.js';
import { PickingRuntime } from '../gateway/src/picking/picking-runtime.js';
import type { StationWrite } from '../gateway/src/station/domain.js';
import { openStore } from '../gateway/src/storage/sqlite-store.js';

const AISLES = 40;
const BAYS = 30;
const LEVELS = 5;
const SKUS = 20_000;
const ORDERS_PER_WAVE = 100;
const UNIT = 2_000;

export interface ReplayFigures {
  pickingEvents: number;
  logEvents: number;
  waves: number;
  writeSeconds: number;
  replayMs: number[];
  heapMb: number;
  dbMb: number;
  /** Writing the snapshot after the replay (JSON on the main thread, then the file), its size, and a restart from it. */
  snapshotWriteMs: number;
  snapshotMb: number;
  fromSnapshotMs: number[];
}

export async function benchReplay(events: number, filler: number, seed: number, repeat: number): Promise<ReplayFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-replay-'));
  const logger = createLogger('silent');
  const store = openStore({ dataDir: dir, logger, minFreeMb: 0 });
  await store.start();
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  let unit: StationWrite[] = [];
  let picking = 0;
  let written = 0;
  const flush = async () => {
    if (unit.length === 0) return;
    const u = unit;
    unit = [];
    written += u.length;
    await store.write(u);
  };
  const put = async (e: PickEvent) => {
    unit.push({ op: 'event', type: e.type, subject: e.subject, data: e.data });
    picking++;
    for (let f = 0; f < filler; f++) unit.push({ op: 'event', type: 'shipment.weighed', subject: `shipment:F${written + unit.length}`, data: { grams: 500 } });
    if (unit.length >= UNIT) await flush();
  };
  const t0 = performance.now();
  const faces: string[] = [];
  for (let a = 1; a <= AISLES; a++)
    for (let b = 1; b <= BAYS; b++)
      for (let l = 1; l <= LEVELS; l++) {
        const code = `A${a}-${b}-${l}`;
        faces.push(code);
        await put(
          pickEvent(PICK_EVENT.locationUpserted, `location:${code}`, {
            code,
            zone: 'Z1',
            aisle: a,
            bay: b,
            level: l,
            walk_seq: null,
            kind: 'pick',
            capacity: 100,
            trigger: 10,
          }),
        );
      }
  const faceOf = (i: number) => faces[i % faces.length] as string;
  for (let i = 0; i < SKUS; i++)
    await put(pickEvent(PICK_EVENT.stockSet, `location:${faceOf(i)}`, { location: faceOf(i), sku: `S${i}`, qty: 1_000_000, revision: 1 }));
  let waves = 0;
  let orderNo = 0;
  while (picking < events) {
    const waveId = `W-${waves++}`;
    const subject = `wave:${waveId}`;
    const orders = Array.from({ length: ORDERS_PER_WAVE }, () => `O-${orderNo++}`);
    // 1–5 lines an order, SKUs skewed towards the popular ones; consolidated per SKU.
    const lines = new Map<number, Array<[string, number]>>();
    for (const o of orders) {
      const n = 1 + Math.floor(rand() * 5);
      for (let k = 0; k < n; k++) {
        const sku = Math.floor(SKUS * rand() ** 2);
        const l = lines.get(sku) ?? [];
        l.push([o, 1 + Math.floor(rand() * 3)]);
        lines.set(sku, l);
      }
    }
    const wire = [...lines].map(([sku, demands], i) => [i + 1, faceOf(sku), `S${sku}`, demands] as [number, string, string, Array<[string, number]>]);
    await put(pickEvent(PICK_EVENT.waveBuilt, subject, { wave_id: waveId, mode: 'wave', orders, lines: wire, barcodes: {} }));
    await put(pickEvent(PICK_EVENT.waveReleased, subject, { wave_id: waveId, device_id: 'pda-1' }));
    await put(pickEvent(PICK_EVENT.pickStarted, subject, { wave_id: waveId, device_id: 'pda-1', operator: null }));
    for (const [lineNo, location, sku, demands] of wire) {
      const qty = demands.reduce((t, [, q]) => t + q, 0);
      await put(pickEvent(PICK_EVENT.pickConfirmed, subject, { wave_id: waveId, line_no: lineNo, location, sku, qty, device_id: 'pda-1' }));
      if (rand() < 0.02) {
        const id = `R-${waveId}-${lineNo}`;
        await put(pickEvent(PICK_EVENT.replenishmentRequested, `replenishment:${id}`, { request_id: id, location, sku, qty: 50 }));
        await put(pickEvent(PICK_EVENT.replenishmentTasked, `replenishment:${id}`, { request_id: id, from: 'R0', device_id: 'pda-2' }));
        await put(pickEvent(PICK_EVENT.replenishmentConfirmed, `replenishment:${id}`, { request_id: id, from: 'R0', to: location, sku, qty: 50 }));
      }
    }
    for (const [, , sku, demands] of wire)
      for (const [o] of demands) await put(pickEvent(PICK_EVENT.unitSorted, subject, { wave_id: waveId, order_id: o, sku, slot: orders.indexOf(o) + 1 }));
    await put(pickEvent(PICK_EVENT.waveClosed, subject, { wave_id: waveId }));
  }
  await flush();
  const writeSeconds = (performance.now() - t0) / 1000;

  const replayMs: number[] = [];
  let heapMb = 0;
  for (let r = 0; r < repeat; r++) {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const rt = new PickingRuntime({ store, link: { publish: async () => undefined }, logger, checkpoints: [], idStem: 'bench' });
    const t = performance.now();
    await rt.start();
    replayMs.push(performance.now() - t);
    heapMb = Math.max(heapMb, (process.memoryUsage().heapUsed - before) / 1048576);
    if (rt.state.waves.size !== waves) throw new Error(`replayed ${rt.state.waves.size} waves, wrote ${waves}`);
    await rt.stop();
  }
  // The same restart from a snapshot (picking/snapshot.ts) taken at the end of the log.
  const snapshotFile = join(dir, 'picking-state.json');
  const first = new PickingRuntime({ store, link: { publish: async () => undefined }, logger, checkpoints: [], idStem: 'bench', snapshotFile });
  await first.start(); // replays the whole log (no snapshot yet) and writes one
  await first.stop();
  const tw = performance.now();
  await first.snapshotNow();
  const snapshotWriteMs = performance.now() - tw;
  const snapshotMb = statSync(snapshotFile).size / 1048576;
  const fromSnapshotMs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const rt = new PickingRuntime({
      store,
      link: { publish: async () => undefined },
      logger,
      checkpoints: [],
      idStem: 'bench',
      snapshotFile,
      snapshotEvery: 1e12,
    });
    const t = performance.now();
    await rt.start();
    fromSnapshotMs.push(performance.now() - t);
    if (rt.state.waves.size !== waves) throw new Error(`loaded ${rt.state.waves.size} waves, wrote ${waves}`);
    await rt.stop();
  }
  const dbMb = store.stats().dbBytes / 1048576;
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return { pickingEvents: picking, logEvents: written, waves, writeSeconds, replayMs, heapMb, dbMb, snapshotWriteMs, snapshotMb, fromSnapshotMs };
}
