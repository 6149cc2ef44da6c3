/**
 * `npm run bench -- picking [--orders N] [--seed N] [--repeat N]`
 *
 * On a simulated floor of realistic size — 40 aisles × 30 bays × 5 levels (6,000 pick faces,
 * 3 m aisle pitch, 1.3 m bays, front and back cross-aisles), 20,000 SKUs slotted at random, order
 * lines drawn with a skewed (Zipf s = 0.8) SKU popularity, 1–5 lines of 1–3 units per order:
 *
 * 1. Wave build time (gateway/src/picking/wave-builder.ts) over N pending orders (10,000 by
 *    default): one wave of 200 (what a supervisor's "build" does) and every wave of 200 at once,
 *    median of --repeat runs.
 * 2. Walk length per wave of 20, 50, 100 and 200 orders: the consolidated wave in pick-path
 *    order (S-shape) against the baseline of walking the same lines in the order they appear in
 *    the orders (order after order, line after line), and against picking each order alone on its
 *    own S-shape trip (discrete order picking). Metres from the walk model of layout.ts.
 * 3. The PDA confirmation round trip with --pdas PDAs (100; 0 skips it), bench/picking-rtt.ts.
 * 4. With --replay N: the picking state's rebuild at start over a log of N picking events (and
 *    --replay-filler other events per picking event), bench/picking-replay.ts.
 * No assertion: figures to read (bench/README.md "picking").
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ErrorCode } from '../contracts/errors.js';
import { PICK_EVENT, pickEvent } from '../gateway/src/picking/events.js';
import { DEFAULT_GEOMETRY, type Location, sShapeOrder, walkLength } from '../gateway/src/picking/layout.js';
import { PickingState } from '../gateway/src/picking/state.js';
import { buildWaves, DEFAULT_WAVE_RULES } from '../gateway/src/picking/wave-builder.js';
import type { Order } from '../gateway/src/station/domain.js';

const AISLES = 40;
const BAYS = 30;
const LEVELS = 5;
const SKUS = 20_000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function floor(rand: () => number): { state: PickingState; skuFace: string[] } {
  const state = new PickingState();
  const faces: string[] = [];
  for (let a = 1; a <= AISLES; a++)
    for (let b = 1; b <= BAYS; b++)
      for (let l = 1; l <= LEVELS; l++) {
        const code = `A${a}-${b}-${l}`;
        faces.push(code);
        state.apply(
          pickEvent(PICK_EVENT.locationUpserted, `location:${code}`, {
            code,
            zone: a <= AISLES / 2 ? 'Z1' : 'Z2',
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
  // Random slotting (no velocity-based slotting): the path has to do the work.
  const skuFace: string[] = [];
  for (let i = 0; i < SKUS; i++) {
    const code = faces[Math.floor(rand() * faces.length)] as string;
    skuFace.push(code);
    state.apply(pickEvent(PICK_EVENT.stockSet, `location:${code}`, { location: code, sku: `S${i}`, qty: 100_000, revision: 1 }));
  }
  return { state, skuFace };
}

function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cum[i] = total;
  }
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function orders(n: number, rand: () => number): Order[] {
  const pick = zipfSampler(SKUS, 0.8, rand);
  const out: Order[] = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rand() * 5);
    const skus = new Set<number>();
    while (skus.size < k) skus.add(pick());
    out.push({
      orderId: `O${i}`,
      shop: rand() < 0.5 ? 'shop-a' : 'shop-b',
      barcodes: [],
      lines: [...skus].map((s) => ({
        sku: `S${s}`,
        barcode: `69${String(s).padStart(11, '0')}`,
        name: `S${s}`,
        qty: 1 + Math.floor(rand() * 3),
        unitGrams: 200,
      })),
      packagingGrams: null,
      flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
      carrier: 'SF',
      waybill: null,
      printData: null,
      shipBy: 1_000_000 + i,
      revision: 1,
      updatedAt: 0,
    });
  }
  return out;
}

const none = (): ErrorCode | null => null;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function benchPicking(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      orders: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '20261111' },
      repeat: { type: 'string', default: '5' },
      pdas: { type: 'string', default: '100' },
      // 4. The picking state's rebuild at start over a season-size log (0 skips it; bench/picking-replay.ts).
      replay: { type: 'string', default: '0' },
      'replay-filler': { type: 'string', default: '2' },
    },
  });
  const n = Number(values.orders);
  const repeat = Number(values.repeat);
  const rand = rng(Number(values.seed));
  const t0 = performance.now();
  const { state } = floor(rand);
  const pending = orders(n, rand);
  const lines = pending.reduce((s, o) => s + o.lines.length, 0);
  const units = pending.reduce((s, o) => s + o.lines.reduce((t, l) => t + l.qty, 0), 0);
  process.stdout.write(
    `picking bench: ${AISLES} aisles × ${BAYS} bays × ${LEVELS} levels (${AISLES * BAYS * LEVELS} faces), ${SKUS} SKUs, ${n} pending orders (${lines} lines, ${units} units); floor set up in ${(performance.now() - t0).toFixed(0)} ms\n\n`,
  );

  // 1. Build time.
  let ids = 0;
  const time = (maxWaves: number) => {
    const samples: number[] = [];
    let waves = 0;
    for (let r = 0; r < repeat; r++) {
      const s = performance.now();
      const res = buildWaves({
        state,
        orders: pending,
        rules: { ...DEFAULT_WAVE_RULES, maxOrders: 200, maxLines: 10_000, maxUnits: 100_000, maxWaves },
        intercept: none,
        newWaveId: () => `W${++ids}`,
      });
      samples.push(performance.now() - s);
      waves = res.waves.length;
    }
    return { ms: median(samples), waves };
  };
  const one = time(1);
  const all = time(10_000);
  process.stdout.write('1. wave build over the pending orders (median of runs)\n');
  process.stdout.write(`   one wave of 200 from ${n} pending : ${one.ms.toFixed(1)} ms\n`);
  process.stdout.write(`   all ${all.waves} waves of ≤200            : ${all.ms.toFixed(1)} ms (${((all.ms / n) * 1000).toFixed(1)} µs per order)\n\n`);

  // 2. Walk length.
  process.stdout.write('2. walk per wave: pick path (S-shape) vs order-of-lines baseline vs each order alone (S-shape per order)\n');
  process.stdout.write('   orders/wave | waves | S-shape m/wave | order-of-lines m/wave | saving | per-order trips m/wave | m per order (wave)\n');
  const at = (code: string) => state.locations.get(code) as Location;
  for (const size of [20, 50, 100, 200]) {
    const res = buildWaves({
      state,
      orders: pending,
      rules: { ...DEFAULT_WAVE_RULES, maxOrders: size, maxLines: 10_000, maxUnits: 100_000, maxWaves: Math.min(50, Math.floor(n / size)) },
      intercept: none,
      newWaveId: () => `W${++ids}`,
    });
    const byId = new Map(pending.map((o) => [o.orderId, o]));
    let sShape = 0;
    let baseline = 0;
    let discrete = 0;
    for (const w of res.waves) {
      sShape += w.walkM;
      // Baseline: the wave's lines in the order they appear in its orders.
      const seen = new Set<string>();
      const route: Location[] = [];
      const faceOf = new Map(w.lines.map(([, loc, sku]) => [sku, loc]));
      for (const o of w.orders) {
        for (const l of byId.get(o)?.lines ?? []) {
          const loc = faceOf.get(l.sku);
          if (loc === undefined || seen.has(loc)) continue;
          seen.add(loc);
          route.push(at(loc));
        }
        const own = [...new Set((byId.get(o)?.lines ?? []).map((l) => faceOf.get(l.sku)).filter((x): x is string => x !== undefined))].map(at);
        discrete += walkLength(
          sShapeOrder(own, (x) => x),
          DEFAULT_GEOMETRY,
        );
      }
      baseline += walkLength(route, DEFAULT_GEOMETRY);
    }
    const k = res.waves.length;
    process.stdout.write(
      `   ${String(size).padStart(11)} | ${String(k).padStart(5)} | ${(sShape / k).toFixed(0).padStart(14)} | ${(baseline / k).toFixed(0).padStart(21)} | ${((1 - sShape / baseline) * 100).toFixed(1).padStart(5)}% | ${(discrete / k).toFixed(0).padStart(22)} | ${(sShape / k / size).toFixed(1).padStart(18)}\n`,
    );
  }
  if (Number(values.pdas) > 0) await (await import('./picking-rtt.js')).benchPickingRtt(Number(values.pdas));
  if (Number(values.replay) > 0) {
    const r = await (await import('./picking-replay.js')).benchReplay(Number(values.replay), Number(values['replay-filler']), Number(values.seed), repeat);
    process.stdout.write(
      `\n4. picking state rebuilt at start (replay of the log): ${r.pickingEvents} picking events in a log of ${r.logEvents} (${r.waves} waves of 100 orders; database ${r.dbMb.toFixed(0)} MB, written in ${r.writeSeconds.toFixed(0)} s)\n`,
    );
    process.stdout.write(
      `   replay: median ${median(r.replayMs).toFixed(0)} ms (runs: ${r.replayMs.map((x) => x.toFixed(0)).join(', ')} ms), heap held by the state ≈ ${r.heapMb.toFixed(0)} MB\n`,
    );
    process.stdout.write(
      `   from a snapshot: median ${median(r.fromSnapshotMs).toFixed(0)} ms (runs: ${r.fromSnapshotMs.map((x) => x.toFixed(0)).join(', ')} ms); snapshot ${r.snapshotMb.toFixed(0)} MB, written in ${r.snapshotWriteMs.toFixed(0)} ms\n`,
    );
  }
}
