/**
 * Part 3 of `npm run bench -- picking`: the PDA confirmation round trip with N PDAs (100 by
 * default) picking at once. A real gateway process (`packline start`, as systemd runs it), N
 * PDA simulators over MQTT/TCP on 127.0.0.1, one wave of 10 orders released to each; every PDA
 * accepts its wave and confirms its lines one after the other (scan location, item, quantity →
 * `dev/{id}/ack`). The round trip is publish → ack, i.e. validated, decided, committed (fsync,
 * group commit) and folded. Baseline in the same run: a refused confirmation (a wrong location:
 * decided, nothing written), sent by the same PDAs between their picks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ChildGateway, startChildGateway } from '../gateway/test/support/child-gateway.js';
import { floorConfig, importOrders, wireOrder } from '../gateway/test/support/floor.js';
import { PdaSim, type PickTaskOffer } from '../simulators/src/devices/pda.js';

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;

async function post(g: ChildGateway, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.tokens.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function benchPickingRtt(pdas: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-bench-pick-'));
  const dataDir = join(dir, 'data');
  const cfg = floorConfig(dataDir, { stations: 1, lines: 0 });
  const ids = Array.from({ length: pdas }, (_, i) => `pda-${i + 1}`);
  (cfg.devices as Array<Record<string, string>>).push(...ids.map((id) => ({ id, role: 'pda' })));
  writeFileSync(join(dir, 'packline.json'), JSON.stringify(cfg));
  const g = await startChildGateway(join(dir, 'packline.json'), dataDir);
  const sims: PdaSim[] = [];
  try {
    // 40 aisles × 10 bays, 2,000 SKUs, plenty of stock; 10 orders of 3 lines per PDA.
    const skus = 2000;
    const loc = (i: number) => `A${String(1 + (i % 40)).padStart(2, '0')}-${String(1 + (Math.floor(i / 40) % 10)).padStart(2, '0')}-${1 + Math.floor(i / 400)}`;
    const codes = new Set<string>();
    const locations = [];
    for (let i = 0; i < skus; i++) {
      const code = loc(i);
      if (codes.has(code)) continue;
      codes.add(code);
      locations.push({
        code,
        zone: 'Z1',
        aisle: 1 + (i % 40),
        bay: 1 + (Math.floor(i / 40) % 10),
        level: 1 + Math.floor(i / 400),
        kind: 'pick',
        capacity: 100_000,
        trigger: 0,
      });
    }
    await post(g, '/api/v1/picking/floor', { locations, stock: Array.from({ length: skus }, (_, i) => ({ location: loc(i), sku: `SKU-${i}`, qty: 100_000 })) });
    const orders = Array.from({ length: pdas * 10 }, (_, n) =>
      wireOrder(`O-${n}`, {
        items: [0, 1, 2].map((k) => ({
          sku: `SKU-${(n * 7 + k * 613) % skus}`,
          barcode: `69${String((n * 7 + k * 613) % skus).padStart(11, '0')}`,
          qty: 1 + (k % 2),
          unit_grams: 100,
        })),
      }),
    );
    for (let i = 0; i < orders.length; i += 500) {
      const r = await importOrders(g.httpUrl, g.tokens.admin, orders.slice(i, i + 500));
      if (r.status !== 200) throw new Error(`order import: ${r.status}`);
    }
    const t0 = performance.now();
    const built = (await post(g, '/api/v1/waves', { max_orders: 10, max_waves: Math.min(200, pdas), group_by: [] })) as { waves: Array<{ wave_id: string }> };
    const buildMs = performance.now() - t0;
    const waves = built.waves.map((w) => w.wave_id);
    for (let i = 0; i < waves.length; i++) await post(g, `/api/v1/waves/${waves[i]}/release`, { device_id: ids[i] });

    for (const id of ids)
      sims.push(new PdaSim({ mqttUrl: g.mqttUrl, deviceId: id, secret: g.secrets[id] as string, replyTimeoutMs: 30_000, connectRetryMs: 60_000 }));
    // Ten at a time: the broker's login guard answers "server unavailable" to a burst of password checks (docs/security.md).
    for (let i = 0; i < sims.length; i += 10) await Promise.all(sims.slice(i, i + 10).map((s) => s.start()));
    const ok: number[] = [];
    const refused: number[] = [];
    let timeouts = 0;
    const started = performance.now();
    await Promise.all(
      sims.map(async (s, i) => {
        const waveId = waves[i];
        if (waveId === undefined) return;
        await s.accept(waveId, `op-${i}`);
        for (let k = 0; k < 200 && s.pickTask(waveId) === null; k++) await new Promise((r) => setTimeout(r, 10));
        const task = s.pickTask(waveId) as PickTaskOffer;
        for (const line of task.lines) {
          const bad = await s.pickLine(waveId, 'NOWHERE', line.barcodes[0] ?? line.sku, 1);
          if (bad.status === 'error') refused.push(bad.latencyMs);
          const r = await s.pickLine(waveId, line.location, line.barcodes[0] ?? line.sku, line.qty - line.picked);
          if (r.status === 'ack') ok.push(r.latencyMs);
          else if (r.status === 'timeout') timeouts++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    ok.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    process.stdout.write(
      `\n3. confirmation round trip, ${pdas} PDAs over MQTT/TCP, one wave of 10 orders each (${waves.length} waves built in ${buildMs.toFixed(0)} ms via the API)\n`,
    );
    process.stdout.write(
      `   confirmed (committed) : ${ok.length} lines, p50 ${pct(ok, 50).toFixed(1)} ms, p99 ${pct(ok, 99).toFixed(1)} ms, max ${(ok.at(-1) ?? 0).toFixed(1)} ms\n`,
    );
    process.stdout.write(`   refused (baseline)    : ${refused.length} scans, p50 ${pct(refused, 50).toFixed(1)} ms, p99 ${pct(refused, 99).toFixed(1)} ms\n`);
    process.stdout.write(
      `   throughput            : ${((ok.length + refused.length) / seconds).toFixed(0)} PDA messages/s over ${seconds.toFixed(1)} s; timeouts ${timeouts}\n`,
    );
  } finally {
    await Promise.all(sims.map((s) => s.stop().catch(() => undefined)));
    g.proc.kill('SIGTERM');
    await g.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
