/**
 * Load generator for `npm run bench -- core`: a separate process that plays many packing
 * stations over real MQTT connections, each device with its own credentials, and measures
 * scan-to-print latency (stable weight published → print command received by the printer).
 *
 * Stations are driven open-loop on a fixed schedule (`rate` shipments/s in total) or closed-
 * loop as fast as the gateway answers (`max`). Open-loop parcels that start late because the
 * station was still busy are counted as `late` and their latency is measured from the time
 * they were due, so a stalled gateway cannot hide behind a slowed-down generator
 * (coordinated omission).
 *
 * The devices are lean MQTT 3.1.1 clients (raw-client.ts: mqtt-packet over plain sockets,
 * QoS 1 out without a retransmission store, PUBACK for what comes in): the load generator
 * must not be the limit of the benchmark, and a full MQTT.js client per device cost ~0.1 % of
 * a core per shipment/s. The bench can also split the stations over several processes.
 *
 * Usage: node --import tsx bench/loadgen.ts <plan.json>   → one JSON result line on stdout.
 */
import { readFileSync } from 'node:fs';
import { RawClient } from './raw-client.js';

export interface LoadStation {
  station: string;
  scanner: string;
  scale: string;
  printer: string;
  orders: Array<{ orderId: string; items: string[]; grams: number }>;
}

export interface LoadPlan {
  mqttUrl: string;
  secrets: Record<string, string>;
  stations: LoadStation[];
  /** Total shipments per second across all stations, or 'max'. */
  rate: number | 'max';
  durationSeconds: number;
  /** Message-id prefix, unique per run (ids are deduplicated across runs). */
  runTag: string;
}

export interface LoadResult {
  shipments: number;
  seconds: number;
  rate: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  late: number;
  errors: Record<string, number>;
  timeouts: number;
  /** The load generator's own CPU over the load (after every device connected), seconds. */
  cpu: { user: number; system: number };
  /** Every latency (ms), so results of several load processes can be merged. */
  latencies?: number[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

type Waiter = { match: (topic: string, payload: Record<string, unknown>) => boolean; resolve: (p: Record<string, unknown>) => void };

/** One station's devices and the messages they are waiting for. */
class StationPlayer {
  private waiters: Waiter[] = [];
  private clients: RawClient[] = [];
  private scanner!: RawClient;
  private scale!: RawClient;
  private printer!: RawClient;
  private n = 0;

  constructor(
    private readonly s: LoadStation,
    private readonly plan: LoadPlan,
  ) {}

  async connect(): Promise<void> {
    const url = new URL(this.plan.mqttUrl);
    const open = async (id: string) => {
      const secret = this.plan.secrets[id];
      if (secret === undefined) throw new Error(`no secret for ${id}`);
      // CONNACK 3 (server unavailable) is the broker's "login busy, retry" when its scrypt
      // verifications queue up (embedded-broker.ts): on a loaded machine, wait and retry.
      for (let attempt = 1; ; attempt++) {
        const c = new RawClient((topic, payload) => this.onMessage(topic, payload));
        try {
          await c.connect({ host: url.hostname, port: Number(url.port || 1883), clientId: id, username: id, password: secret, keepalive: 60 });
        } catch (err) {
          if (attempt >= 10 || !/return code 3\b/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 500 * attempt));
          continue;
        }
        this.clients.push(c);
        return c;
      }
    };
    [this.scanner, this.scale, this.printer] = await Promise.all([open(this.s.scanner), open(this.s.scale), open(this.s.printer)]);
    await this.scanner.subscribe([`dev/${this.s.scanner}/ack`, `dev/${this.s.scanner}/err`]);
    await this.printer.subscribe([`dev/${this.s.printer}/cmd/print`, `dev/${this.s.printer}/ack`, `dev/${this.s.printer}/err`]);
  }

  private onMessage(topic: string, buf: Buffer): void {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(buf.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(topic, payload));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(payload);
    }
  }

  private wait(match: Waiter['match'], timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { match, resolve: (p) => (clearTimeout(t), resolve(p)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('timeout'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Ships one order; resolves with the scan-to-print latency (ms) or a coded error. */
  async ship(): Promise<{ ok: true; latencyMs: number } | { ok: false; code: string }> {
    const order = this.s.orders[this.n];
    if (order === undefined) return { ok: false, code: 'BENCH_OUT_OF_ORDERS' };
    const tag = `${this.plan.runTag}-${this.s.station}-${this.n++}`;
    const pub = (c: RawClient, topic: string, body: unknown) => c.publish(topic, JSON.stringify(body));
    const reply = (id: string) => (topic: string, p: Record<string, unknown>) => (topic.endsWith('/ack') || topic.endsWith('/err')) && p.msg_id === id;
    const fail = (p: Record<string, unknown>) => ({ ok: false as const, code: String(p.code) });

    // The parcel before this one was taken off: the scale reads empty (arms the weight lock).
    pub(this.scale, `dev/${this.s.scale}/evt/weight`, { grams: 0, stable: true });
    const opened = this.wait(reply(`o${tag}`));
    pub(this.scanner, `dev/${this.s.scanner}/evt/scan`, { msg_id: `o${tag}`, code: order.orderId });
    let r = await opened;
    if (r.code !== undefined) return fail(r);
    for (const [i, code] of order.items.entries()) {
      const item = this.wait(reply(`i${tag}-${i}`));
      pub(this.scanner, `dev/${this.s.scanner}/evt/scan`, { msg_id: `i${tag}-${i}`, code });
      r = await item;
      if (r.code !== undefined) return fail(r);
    }
    const printed = this.wait((topic) => topic.endsWith('/cmd/print'));
    const weighedAt = performance.now();
    pub(this.scale, `dev/${this.s.scale}/evt/weight`, { grams: order.grams, stable: true });
    const job = await printed;
    const latencyMs = performance.now() - weighedAt;
    const done = this.wait(reply(`p${tag}`));
    pub(this.printer, `dev/${this.s.printer}/evt/print_result`, { msg_id: `p${tag}`, job_id: job.job_id, status: 'printed' });
    r = await done;
    if (r.code !== undefined) return fail(r);
    return { ok: true, latencyMs };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.end()));
  }
}

/**
 * `ready` runs once every device is connected, before the load starts; `finished` once the
 * load is done, before the devices disconnect (so a caller can read the gateway's counters
 * without 500 disconnects in them: an idle floor does not disconnect its devices).
 */
export async function runLoad(
  plan: LoadPlan,
  ready?: (devices: number) => Promise<void>,
  finished?: (result: LoadResult) => Promise<void>,
): Promise<LoadResult> {
  const players = plan.stations.map((s) => new StationPlayer(s, plan));
  // Connect in modest batches: every CONNECT costs the gateway one scrypt verification.
  for (let i = 0; i < players.length; i += 25) await Promise.all(players.slice(i, i + 25).map((p) => p.connect()));
  await ready?.(players.length * 3);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let late = 0;
  let timeouts = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + plan.durationSeconds * 1000;
  // Rate 0: every device connected and idle for the duration (the idle cost of a floor).
  if (plan.rate === 0) await new Promise((r) => setTimeout(r, plan.durationSeconds * 1000));
  const perStationInterval = plan.rate === 'max' || plan.rate === 0 ? 0 : (1000 * players.length) / plan.rate;

  await Promise.all(
    (plan.rate === 0 ? [] : players).map(async (p, idx) => {
      // Spread open-loop stations evenly over one interval so arrivals are smooth.
      let due = start + (perStationInterval * idx) / players.length;
      while (due < end) {
        const now = performance.now();
        if (now < due) await new Promise((r) => setTimeout(r, due - now));
        if (performance.now() >= end) break;
        // Open loop: a parcel started after it was due (the station was still busy with the
        // previous one) carries that delay into its latency.
        const lateBy = plan.rate === 'max' ? 0 : Math.max(0, performance.now() - due);
        if (lateBy > 5) late++;
        try {
          const r = await p.ship();
          if (r.ok) latencies.push(r.latencyMs + (lateBy > 5 ? lateBy : 0));
          else {
            errors[r.code] = (errors[r.code] ?? 0) + 1;
            if (r.code === 'BENCH_OUT_OF_ORDERS') break; // this station is done; never spin
          }
        } catch {
          timeouts++;
        }
        due = plan.rate === 'max' ? performance.now() : due + perStationInterval;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  const result: LoadResult = {
    shipments: sorted.length,
    seconds,
    rate: sorted.length / seconds,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, mean },
    late,
    errors,
    timeouts,
    cpu: { user: used.user / 1e6, system: used.system / 1e6 },
    latencies,
  };
  await finished?.(result);
  await Promise.all(players.map((p) => p.close()));
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const planFile = process.argv[2];
  if (planFile === undefined) {
    process.stderr.write('usage: loadgen.ts <plan.json>\n');
    process.exit(2);
  }
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as LoadPlan;
  // Tell the bench every device is connected, then wait for its "go" on stdin; when done,
  // report the result and wait for its "close" (it reads the gateway's counters first).
  const nextLine = () => new Promise<void>((res) => process.stdin.once('data', () => res()));
  await runLoad(
    plan,
    async (devices) => {
      process.stdout.write(`${JSON.stringify({ connected: devices })}\n`);
      await nextLine();
    },
    async (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      await nextLine();
    },
  );
  process.exit(0);
}
