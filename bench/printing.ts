/**
 * `npm run bench -- printing [--labels N] [--jobs N] [--print-ms N]`
 *
 * 1. Label render time per label, ZPL and TSPL, for the built-in label and each shipped
 *    template (gateway/templates/; ZPL text drawn as ^GF from the TrueType font), warm (glyph
 *    cache filled) and the first render (font load + rasterising) separately.
 * 2. Render + dispatch per label to a simulated ZPL printer on raw TCP (simulators ZplPrinterSim,
 *    1 ms print time): render, write on the socket, until the printer reports it printed;
 *    p50/p99, against render alone in the same run (the baseline).
 * 3. Jobs/s through the print router (station/decide/print-router.ts) with 1 and 4 printers in one
 *    channel, each a ZplPrinterSim with `--print-ms` per label, queue limit 20 per printer with
 *    back-pressure (a refused job waits for a completion and is routed again); plus the router's
 *    bare decision rate.
 * No assertion: figures to read (bench/README.md "printing").
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { LabelData } from '../gateway/src/label/label-data.js';
import { renderLabel } from '../gateway/src/label/render.js';
import { LabelTemplates } from '../gateway/src/printing/label-templates.js';
import { type PrinterHealth, PrintRouter } from '../gateway/src/station/decide/print-router.js';
import { ZplPrinterSim } from '../simulators/src/printer/zpl-printer-sim.js';

const DATA: LabelData = {
  waybill: '731200000001',
  carrier: 'ZTO',
  receiverName: '张三',
  receiverPhone: '13812345678',
  receiverAddress: '浙江省杭州市余杭区文一西路 969 号 淘宝城 3 号楼 5 单元 1201 室',
  routingCode: '310-A01',
  sortCode: '杭州 余杭',
  grams: 1234,
  orderId: 'TB20261111000123',
  items: '白色T恤 x2; 棉袜 x1; 帆布包 x1',
  shop: '旗舰店',
};

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const f = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

function stats(samples: number[]): { mean: number; p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: pct(s, 50), p99: pct(s, 99) };
}

/** Distinct data per label (waybill, receiver) so caches of whole labels cannot help. */
function dataFor(i: number, carrier: string): LabelData {
  return {
    ...DATA,
    carrier,
    waybill: `7312${String(i).padStart(8, '0')}`,
    receiverName: ['张三', '李四', '王五', '赵六'][i % 4] as string,
    grams: 500 + (i % 900),
  };
}

async function renderBench(labels: number): Promise<void> {
  process.stdout.write(`\n## 1. render time per label (${labels} labels each, warm)\n\n`);
  process.stdout.write('| template | format | first (cold) | mean | p50 | p99 | bytes |\n|---|---|---|---|---|---|---|\n');
  const cases: Array<[string, string, string | undefined]> = [
    ['built-in (^CI28, printer font)', 'ZTO', undefined],
    ['standard-76x130', 'JT', 'standard-76x130'],
    ['zto-76x130', 'ZTO', 'zto-76x130'],
    ['yto-76x130', 'YTO', 'yto-76x130'],
    ['sf-100x150', 'SF', 'sf-100x150'],
  ];
  for (const [name, carrier, id] of cases) {
    for (const format of ['zpl', 'tspl'] as const) {
      // A fresh registry per case: the first render pays the font load and the glyph rasterising.
      const templates = id === undefined ? undefined : new LabelTemplates({ carriers: { [carrier]: id } });
      const opts = templates === undefined ? {} : { templates };
      let t = performance.now();
      const first = renderLabel(format, dataFor(0, carrier), opts);
      const cold = performance.now() - t;
      const samples: number[] = [];
      for (let i = 1; i <= labels; i++) {
        t = performance.now();
        renderLabel(format, dataFor(i, carrier), opts);
        samples.push(performance.now() - t);
      }
      const s = stats(samples);
      process.stdout.write(`| ${name} | ${format} | ${f(cold)} | ${f(s.mean)} | ${f(s.p50)} | ${f(s.p99)} | ${Buffer.byteLength(first)} |\n`);
    }
  }
}

/** Sends one label on a raw TCP connection and waits for the simulator to print it. */
async function dispatchBench(labels: number): Promise<void> {
  process.stdout.write(`\n## 2. render + dispatch per label to a simulated ZPL printer (raw TCP, 1 ms print), ${labels} labels\n\n`);
  process.stdout.write('| label | render p50 | render p99 | render+dispatch p50 | render+dispatch p99 |\n|---|---|---|---|---|\n');
  for (const [name, carrier, id] of [
    ['built-in', 'ZTO', undefined],
    ['zto-76x130 (^GF text)', 'ZTO', 'zto-76x130'],
    ['sf-100x150 (^GF text)', 'SF', 'sf-100x150'],
  ] as const) {
    const sim = new ZplPrinterSim({ printMs: 1 });
    const port = await sim.start();
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const opts = id === undefined ? {} : { templates: new LabelTemplates({ carriers: { [carrier]: id } }) };
    renderLabel('zpl', dataFor(0, carrier), opts); // warm: font loaded, common glyphs cached
    const render: number[] = [];
    const total: number[] = [];
    for (let i = 1; i <= labels; i++) {
      const t0 = performance.now();
      const zpl = renderLabel('zpl', dataFor(i, carrier), opts);
      const t1 = performance.now();
      const printed = new Promise<void>((r) => sim.once('printed', () => r()));
      socket.write(zpl);
      await printed;
      render.push(t1 - t0);
      total.push(performance.now() - t0);
    }
    socket.destroy();
    await sim.stop();
    const r = stats(render);
    const t = stats(total);
    process.stdout.write(`| ${name} | ${f(r.p50)} | ${f(r.p99)} | ${f(t.p50)} | ${f(t.p99)} |\n`);
  }
}

async function routerBench(jobs: number, printMs: number): Promise<void> {
  process.stdout.write(`\n## 3. jobs/s through the print router (${jobs} jobs, ${printMs} ms per label, queue limit 20/printer)\n\n`);
  process.stdout.write('| printers in the channel | jobs/s | refused (back-pressure, retried) | max in flight on one printer |\n|---|---|---|---|\n');
  const label = renderLabel('zpl', DATA, {});
  for (const n of [1, 4]) {
    const ids = Array.from({ length: n }, (_, i) => `prn-${i + 1}`);
    const router = new PrintRouter({ channels: [{ id: 1, printers: ids }], routes: [], queueLimit: 20 });
    const inFlight = new Map(ids.map((p) => [p, 0]));
    const sims = new Map<string, { sim: ZplPrinterSim; socket: net.Socket }>();
    for (const p of ids) {
      const sim = new ZplPrinterSim({ printMs });
      const port = await sim.start();
      const socket = net.connect(port, '127.0.0.1');
      await new Promise<void>((r) => socket.once('connect', () => r()));
      sim.on('printed', () => {
        inFlight.set(p, (inFlight.get(p) ?? 1) - 1);
        wake();
      });
      sims.set(p, { sim, socket });
    }
    let waiter: (() => void) | null = null;
    const wake = () => {
      const w = waiter;
      waiter = null;
      w?.();
    };
    const health = (p: string): PrinterHealth => ({ online: true, fault: null, inFlight: inFlight.get(p) ?? 0 });
    let refused = 0;
    let maxInFlight = 0;
    let printedTotal = 0;
    for (const { sim } of sims.values()) sim.on('printed', () => printedTotal++);
    const t0 = performance.now();
    for (let i = 0; i < jobs; i++) {
      for (;;) {
        const d = router.route({ channel: 1, stationPrinter: ids[0] as string, carrier: 'ZTO', shop: 's' }, health);
        if (d.ok) {
          inFlight.set(d.printerId, (inFlight.get(d.printerId) ?? 0) + 1);
          maxInFlight = Math.max(maxInFlight, inFlight.get(d.printerId) ?? 0);
          sims.get(d.printerId)?.socket.write(label);
          break;
        }
        refused++;
        await new Promise<void>((r) => (waiter = r));
      }
    }
    while (printedTotal < jobs) await new Promise<void>((r) => (waiter = r));
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`| ${n} | ${(jobs / s).toFixed(0)} | ${refused} | ${maxInFlight} |\n`);
    for (const { sim, socket } of sims.values()) {
      socket.destroy();
      await sim.stop();
    }
  }
  // The decision alone, health read from a map.
  const router = new PrintRouter({ channels: [{ id: 1, printers: ['a', 'b', 'c', 'd'] }], routes: [{ channel: 1, carrier: 'SF' }], queueLimit: 20 });
  const h = (): PrinterHealth => ({ online: true, fault: null, inFlight: 3 });
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) router.route({ channel: 1, stationPrinter: 'z', carrier: 'ZTO', shop: 's' }, h, ['a']);
  process.stdout.write(`\nrouter decision alone (4 printers, one excluded): ${((n / (performance.now() - t0)) * 1000).toFixed(0)} decisions/s\n`);
}

export async function benchPrinting(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { labels: { type: 'string', default: '300' }, jobs: { type: 'string', default: '400' }, 'print-ms': { type: 'string', default: '20' } },
  });
  const labels = Number(values.labels);
  process.stdout.write(`# printing bench (node ${process.version}, ${new Date().toISOString()})\n`);
  await renderBench(labels);
  await dispatchBench(Math.min(labels, 200));
  await routerBench(Number(values.jobs), Number(values['print-ms']));
}
