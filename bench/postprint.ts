/**
 * `npm run bench -- postprint [--stations N] [--parcels N]`
 *
 * Post-print (one scan, one parcel) through a real gateway child process over MQTT, each
 * station worked by a packer simulator (gateway/test/support/postprint-driver.ts) as fast as
 * the gateway answers: one same-SKU batch per station, started over HTTP.
 *   - weighed:  empty scale → item scan → parcel weight → label command → printed
 *   - on scan:  item scan → label command → printed (batch `weigh: false`)
 * Reports parcels per minute per station and the packer-side round trip scan → label command
 * (p50/p99), with the ordinary flow in the same run as the baseline (order scan → item scan →
 * weight → label; gateway/test/support/station-driver.ts). These are gateway-bound figures
 * (no packer pace): the ceiling a station's packer cannot feel. No assertion (bench/README.md).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startChildGateway } from '../gateway/test/support/child-gateway.js';
import { floorConfig, importOrders, wireOrder, wireOrderGrams } from '../gateway/test/support/floor.js';
import { startPostprintDriver } from '../gateway/test/support/postprint-driver.js';
import { startStationDriver } from '../gateway/test/support/station-driver.js';

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function benchPostprint(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { stations: { type: 'string', default: '2' }, parcels: { type: 'string', default: '300' } } });
  const stations = Number(values.stations);
  const parcels = Number(values.parcels);
  const dir = mkdtempSync(join(tmpdir(), 'pkl-bench-postprint-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'packline.json');
  writeFileSync(configFile, JSON.stringify(floorConfig(dataDir, { stations, lines: 0 })));
  const g = await startChildGateway(configFile, dataDir);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    const itemOf = (phase: string, st: number) => `69${phase === 'weighed' ? 1 : phase === 'scan' ? 2 : 3}${String(st).padStart(10, '0')}`;
    const orderSets: Record<string, Array<Record<string, unknown>>> = {};
    for (const phase of ['weighed', 'scan', 'ordinary']) {
      for (let st = 1; st <= stations; st++) {
        const item = { sku: `SKU-${phase}-${st}`, barcode: itemOf(phase, st), qty: 1, unit_grams: 200 };
        orderSets[`${phase}-${st}`] = Array.from({ length: parcels }, (_, i) =>
          wireOrder(`${phase.toUpperCase()}-${st}-${String(i).padStart(5, '0')}`, { items: [item] }),
        );
      }
    }
    const all = Object.values(orderSets).flat();
    for (let i = 0; i < all.length; i += 1000) {
      const res = await importOrders(g.httpUrl, g.tokens.admin, all.slice(i, i + 1000));
      if (!res.ok) throw new Error(`import failed: ${res.status}`);
    }
    const post = async (path: string, body: unknown, token: string) => {
      const res = await fetch(`${g.httpUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { batches?: Array<{ batch_id: string }> };
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    out(`post-print bench: ${stations} stations × ${parcels} parcels per mode, gateway child process, MQTT over TCP`);
    const report = (label: string, n: number, ms: number, lat: number[]) => {
      const s = [...lat].sort((a, b) => a - b);
      out(
        `  ${label.padEnd(34)} ${((n / stations / ms) * 60_000).toFixed(0).padStart(6)} parcels/min/station   scan → label p50 ${pct(s, 50).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms`,
      );
    };
    // Baseline, same run and first (it also warms the gateway up after the import): the
    // ordinary flow (order scan, item scan, weight, label).
    let next = 0;
    const ordinary = Array.from({ length: stations }, (_, i) => orderSets[`ordinary-${i + 1}`]!).flat();
    const times: number[] = [];
    const t0 = performance.now();
    const drivers = await Promise.all(
      Array.from({ length: stations }, (_, i) =>
        startStationDriver({
          mqttUrl: g.mqttUrl,
          secrets: g.secrets,
          station: i + 1,
          runTag: 'ordinary',
          nextOrder: () => {
            const o = ordinary[next++];
            if (o === undefined) return null;
            times.push(performance.now());
            return { orderId: String(o.order_id), items: (o.lines as Array<{ barcode: string }>).map((l) => l.barcode), grams: wireOrderGrams(o) };
          },
        }),
      ),
    );
    await Promise.all(drivers.map((d) => d.done));
    const ms = performance.now() - t0;
    const n = drivers.reduce((a, d) => a + d.acked.length, 0);
    await Promise.all(drivers.map((d) => d.stop()));
    out(`  ${'baseline: ordinary flow (4 messages)'.padEnd(34)} ${((n / stations / ms) * 60_000).toFixed(0).padStart(6)} parcels/min/station`);
    for (const phase of ['weighed', 'scan'] as const) {
      const drivers = [];
      for (let st = 1; st <= stations; st++) {
        const ids = orderSets[`${phase}-${st}`]!.map((o) => String(o.order_id));
        const built = await post('/api/v1/batches', { order_ids: ids, weigh: phase === 'weighed' }, g.tokens.admin);
        await post(`/api/v1/batches/${built.batches![0]!.batch_id}/start`, { station_id: `st-${st}` }, g.tokens.station);
        drivers.push(await startPostprintDriver({ mqttUrl: g.mqttUrl, secrets: g.secrets, station: st, runTag: phase }));
      }
      const grams = wireOrderGrams(orderSets[`${phase}-1`]![0]!);
      const t0 = performance.now();
      await Promise.all(drivers.map((d, i) => d.run({ item: itemOf(phase, i + 1), grams })));
      const ms = performance.now() - t0;
      const lat = drivers.flatMap((d) => d.parcels.map((p) => p.scanToLabelMs));
      const n = drivers.reduce((a, d) => a + d.parcels.length, 0);
      await Promise.all(drivers.map((d) => d.stop()));
      report(phase === 'weighed' ? 'post-print, weighed' : 'post-print, label on scan', n, ms, lat);
      // Each batch must have closed by itself once its last parcel shipped.
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    g.proc.kill('SIGTERM');
    await g.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
