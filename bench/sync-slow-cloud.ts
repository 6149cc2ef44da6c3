/**
 * `npm run bench -- sync slow-cloud` (also the last phase of `npm run bench -- sync`): how
 * fast the outbox drains into a cloud that answers every request after 6 s — slower than the
 * timeout the gateway starts with — and, as the baseline from the same run, into the same
 * cloud answering at once.
 *
 * The gateway side is the real sync service (gateway/src/sync/sync-service.ts) on a real
 * store on disk; the cloud is the reference cloud (simulators/src/cloud/reference) over HTTP
 * on 127.0.0.1 with its `latencyMs` fault mode. The events are written before the phase
 * starts, so the figure is the drain alone.
 *
 * Options: --slow-events N (5000), --slow-latency-ms N (6000), --slow-timeout-ms N
 * (sync.timeoutMs the gateway starts with, 5000), --slow-cap-seconds N (300).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReferenceCloud } from '../simulators/src/cloud/reference/reference-cloud.js';
import { checkSync } from '../simulators/src/cloud/reference/checker.js';
import { parseConfig } from '../gateway/src/config/load.js';
import { createLogger } from '../gateway/src/lib/logger.js';
import { DB_FILE, openStore } from '../gateway/src/storage/sqlite-store.js';
import { SyncService } from '../gateway/src/sync/sync-service.js';

const GATEWAY_ID = 'gw-bench-slow';
const KEY = 'bench-slow-cloud-key-0123456789';

export interface SlowCloudFigures {
  latencyMs: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  requests: number;
  answered: number;
  timeouts: number;
  timeoutMsEnd: number;
  batchEventsEnd: number;
  drained: boolean;
  checkerOk: boolean;
}

async function drainOnce(latencyMs: number, events: number, timeoutMs: number, capSeconds: number): Promise<SlowCloudFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-bench-slow-'));
  const keyFile = join(dir, 'sync.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const cloud = new ReferenceCloud({ dbPath: join(dir, 'cloud.db'), gateways: { [GATEWAY_ID]: KEY } });
  await cloud.start();
  await cloud.setFaults({ latencyMs });
  const dataDir = join(dir, 'gw');
  mkdirSync(dataDir, { recursive: true });
  const store = openStore({ dataDir, logger: createLogger('silent') });
  await store.start();
  let sync: SyncService | null = null;
  try {
    // The backlog, written before sync starts (units of 500: the store's group commit).
    for (let i = 0; i < events; i += 500) {
      const n = Math.min(500, events - i);
      await store.write(
        Array.from({ length: n }, (_, k) => ({
          op: 'event' as const,
          type: 'shipment.shipped',
          subject: `shipment:S-${i + k}`,
          data: { order_id: `O-${i + k}`, waybill: `WB${i + k}`, grams: 1200 },
        })),
      );
    }
    const config = parseConfig({
      gatewayId: GATEWAY_ID,
      dataDir,
      sync: { url: cloud.url, keyFile, timeoutMs, inbound: { pollMs: 60_000 } },
    });
    sync = new SyncService({ config, store, link: null, logger: createLogger('silent') });
    const t0 = performance.now();
    await sync.start();
    const deadline = t0 + capSeconds * 1000;
    while (sync.linkState().backlog > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const seconds = (performance.now() - t0) / 1000;
    const o = sync.status().outbox!;
    const drained = sync.linkState().backlog === 0;
    await sync.stop();
    sync = null;
    await store.stop();
    const check = checkSync({ gatewayDbPath: join(dataDir, DB_FILE), cloud: cloud.db, gatewayId: GATEWAY_ID });
    return {
      latencyMs,
      events,
      seconds,
      eventsPerSecond: (drained ? events : o.ackedSeq) / seconds,
      requests: o.requests,
      answered: o.batches,
      timeouts: o.timeouts,
      timeoutMsEnd: o.timeoutMs,
      batchEventsEnd: o.batchEvents,
      drained,
      checkerOk: check.ok,
    };
  } finally {
    await sync?.stop();
    await store.stop().catch(() => undefined);
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchSlowCloud(argv: string[]): Promise<SlowCloudFigures[]> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      'slow-events': { type: 'string', default: '5000' },
      'slow-latency-ms': { type: 'string', default: '6000' },
      'slow-timeout-ms': { type: 'string', default: '5000' },
      'slow-cap-seconds': { type: 'string', default: '300' },
    },
  });
  const events = Number(values['slow-events']);
  const latency = Number(values['slow-latency-ms']);
  const timeoutMs = Number(values['slow-timeout-ms']);
  const cap = Number(values['slow-cap-seconds']);
  process.stderr.write(`bench sync slow-cloud: ${events} events, cloud answering after ${latency} ms, sync.timeoutMs ${timeoutMs} …\n`);
  const fast = await drainOnce(0, events, timeoutMs, cap);
  const slow = await drainOnce(latency, events, timeoutMs, cap);
  const fmt = (n: number, d = 0) => n.toFixed(d);
  const row = (f: SlowCloudFigures) =>
    `| ${f.latencyMs} ms | ${f.drained ? 'yes' : 'NO (cap)'} | ${fmt(f.seconds, 1)} | ${fmt(f.eventsPerSecond, 1)} | ${f.requests} / ${f.answered} / ${f.timeouts} | ${f.timeoutMsEnd} | ${f.batchEventsEnd} | ${f.checkerOk ? 'ok' : 'PROBLEMS'} |`;
  process.stdout.write(
    `\nPackline sync against a slow cloud (${events}-event backlog; gateway starts with sync.timeoutMs ${timeoutMs}, adapts up to 4x; batch 1000 shrinking on timeouts)\n\n` +
      '| cloud answers after | drained | s | events/s | requests / answered / timeouts | timeout ms at end | batch at end | checker |\n' +
      '|---|---|---|---|---|---|---|---|\n' +
      `${row(fast)}  (baseline)\n${row(slow)}\n`,
  );
  return [fast, slow];
}
