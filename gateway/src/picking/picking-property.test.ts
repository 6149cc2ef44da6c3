/**
 * Properties of the picking core over random floors, orders and picker behaviour (right picks,
 * wrong locations, wrong items, short picks, orders intercepted before and during the wave):
 *  - every order line is picked exactly once per wave (the wave's demands for an order equal the
 *    order's lines; at close every order not pulled and not short is covered exactly);
 *  - stock never goes negative, and units are conserved (book + picked-and-kept = start);
 *  - an intercepted order is never released to picking (no unit picked for it after pick start);
 *  - a wave with a cancelled order still closes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../contracts/errors.js';
import type { Order } from '../station/domain.js';
import { checkOrderFlags } from '../station/decide/intercept.js';
import type { PickEvent } from './events.js';
import { confirmPick, type Decision, nextLine, type PickDeps, pullIntercepted, reportShort, startPick } from './pick-decide.js';
import { coverage, demanded, type PickingState, remaining } from './state.js';
import { barcodeOf, floorEvents, randomOrders, rng, stateOf } from './testing/floor.js';
import { buildWaves, DEFAULT_WAVE_RULES } from './wave-builder.js';

const intercept = (o: Order): ErrorCode | null => checkOrderFlags(o, 'pick_start', ['pick_start'])?.code ?? null;

function totalStock(s: PickingState): number {
  let n = 0;
  for (const m of s.stock.values()) for (const q of m.values()) n += q;
  return n;
}

function assertNonNegative(s: PickingState): void {
  for (const [loc, m] of s.stock) for (const [sku, q] of m) if (q < 0) throw new Error(`negative stock ${q} of ${sku} at ${loc}`);
}

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  orders: fc.integer({ min: 1, max: 40 }),
  skus: fc.integer({ min: 3, max: 30 }),
  perFace: fc.integer({ min: 0, max: 12 }),
  maxOrders: fc.integer({ min: 1, max: 25 }),
  preIntercept: fc.double({ min: 0, max: 0.3, noNaN: true }),
  midIntercept: fc.double({ min: 0, max: 0.2, noNaN: true }),
  wrong: fc.double({ min: 0, max: 0.3, noNaN: true }),
  short: fc.double({ min: 0, max: 0.2, noNaN: true }),
});

describe('picking core properties', () => {
  it('picks every line once, keeps stock non-negative and conserved, never picks an intercepted order, and closes every wave', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const rand = rng(sc.seed);
        const start = floorEvents({ aisles: 4, bays: 5, levels: 2, skus: sc.skus, perFace: sc.perFace, capacity: 12, trigger: 3, reserve: 0 });
        const state = stateOf(start);
        const initial = totalStock(state);
        const orders = new Map(randomOrders(sc.orders, sc.skus, 4, rand).map((o) => [o.orderId, o]));
        // Some orders are intercepted before the build.
        for (const o of orders.values()) if (rand() < sc.preIntercept) o.flags.cancelled = true;
        let ids = 0;
        const deps: PickDeps = { order: (id) => orders.get(id) ?? null, intercept, newRequestId: () => `R${++ids}` };
        let corrections = 0;
        const log: PickEvent[] = [...start];
        const commit = (d: Decision | { ok: true; events: PickEvent[] }) => {
          if (!d.ok) return false;
          for (const e of d.events) {
            log.push(e);
            if (e.type === 'stock.corrected') corrections += e.data.to - e.data.from;
            state.apply(e);
            assertNonNegative(state);
          }
          return true;
        };

        const built = buildWaves({
          state,
          orders: [...orders.values()],
          rules: { ...DEFAULT_WAVE_RULES, maxOrders: sc.maxOrders, maxWaves: 100, maxUnits: 10_000 },
          intercept,
          newWaveId: () => `W${++ids}`,
        });
        commit({ ok: true, events: built.events });
        // Exactly once: each waved order's demand per SKU equals its lines.
        const waved = new Set<string>();
        for (const w of state.waves.values()) {
          for (const o of w.orders) {
            expect(waved.has(o)).toBe(false);
            waved.add(o);
            const order = orders.get(o) as Order;
            expect(order.flags.cancelled).toBe(false);
            for (const line of order.lines) {
              const sum = w.lines.filter((l) => l.sku === line.sku).reduce((s, l) => s + l.demands.filter(([x]) => x === o).reduce((t, [, q]) => t + q, 0), 0);
              expect(sum).toBe(line.qty);
            }
          }
        }

        const pickedFor = new Map<string, number>();
        for (const w of [...state.waves.values()]) {
          // More orders are cancelled between the build and pick start.
          for (const o of w.orders) if (rand() < sc.midIntercept) (orders.get(o) as Order).flags.cancelled = true;
          expect(commit(startPick(state, w.waveId, 'pda-1', 'op', deps))).toBe(true);
          let guard = 0;
          while (state.waves.get(w.waveId)?.state === 'picking' && guard++ < 500) {
            const wave = state.waves.get(w.waveId);
            if (wave === undefined) break;
            // Mid-wave interceptions (the cloud's cancel arrives while picking).
            if (rand() < sc.midIntercept / 4) {
              const victim = wave.orders[Math.floor(rand() * wave.orders.length)] as string;
              (orders.get(victim) as Order).flags.refunded = true;
              commit({ ok: true, events: pullIntercepted(state, deps, victim) });
              continue;
            }
            const line = nextLine(wave);
            if (line === null) break;
            const r = rand();
            if (r < sc.wrong / 2) {
              const d = confirmPick(state, w.waveId, { location: 'NOWHERE', item: barcodeOf(line.sku), qty: 1, deviceId: 'pda-1' }, deps);
              expect(d.ok ? null : d.code).toBe('PKL_PICK_WRONG_LOCATION');
              continue;
            }
            if (r < sc.wrong) {
              const d = confirmPick(state, w.waveId, { location: line.location, item: '0000000000000', qty: 1, deviceId: 'pda-1' }, deps);
              expect(d.ok ? null : d.code).toBe('PKL_PICK_WRONG_ITEM');
              continue;
            }
            const left = remaining(line);
            const onHand = state.onHand(line.location, line.sku);
            if (r < sc.wrong + sc.short || onHand < left) {
              const found = Math.floor(rand() * left);
              expect(
                commit(reportShort(state, w.waveId, { location: line.location, item: barcodeOf(line.sku), found, reason: 'fewer', deviceId: 'pda-1' }, deps)),
              ).toBe(true);
              continue;
            }
            const qty = 1 + Math.floor(rand() * left);
            // An intercepted order never gets a unit: its demand left the wave at pick start or when pulled.
            for (const [o] of line.demands) expect(intercept(orders.get(o) as Order)).toBeNull();
            expect(commit(confirmPick(state, w.waveId, { location: line.location, item: barcodeOf(line.sku), qty, deviceId: 'pda-1' }, deps))).toBe(true);
          }
          const done = state.waves.get(w.waveId);
          // Every wave closes, also one with cancelled (pulled) orders.
          expect(done?.state).toBe('closed');
          if (done === undefined) continue;
          for (const l of done.lines) {
            expect(l.picked).toBeLessThanOrEqual(demanded(l));
            for (const [o, q] of coverage(l)) pickedFor.set(o, (pickedFor.get(o) ?? 0) + q);
            if (l.short === null) expect(l.picked).toBe(demanded(l));
          }
          for (const o of done.pulled.keys()) expect(done.lines.some((l) => l.demands.some(([x]) => x === o))).toBe(false);
        }
        // Conservation: the book plus what the waves kept is the start plus the counted corrections.
        let kept = 0;
        for (const w of state.waves.values()) for (const l of w.lines) kept += l.picked;
        expect(totalStock(state) + kept).toBe(initial + corrections);
        // Rebuilt from the log, the state is the same (what a restart does).
        expect(totalStock(stateOf(log))).toBe(totalStock(state));
      }),
      { numRuns: 150 },
    );
  });
});
