/**
 * Print-channel failover against real printers, faults injected mid-queue (docs/printing.md).
 *
 * Three stations ship through one channel of two printers (st-1's and st-2's; st-3's own
 * printer is not in the channel, so its labels go to the channel's first healthy printer).
 * Scanners and scales are MQTT clients played by the test; the printers are real:
 *
 * (a) two ZPL printer simulators on raw TCP driven by the gateway (`devices[].driver`): A runs
 *     out of paper while labels are queued for it (its `~HS` says so), later B's head opens
 *     while A is still empty, so nothing can take B's labels;
 * (b) two Debian `ippeveprinter`s, each driven by the IPP printer driver over the gateway's
 *     broker: P2 is SIGKILLed (offline) while it holds a label in its engine and more wait
 *     behind it, later P1 reports media-empty mid-queue.
 *
 * Physical prints are counted where they happen: the simulators' printed labels, and for
 * ippeveprinter the documents its print command (`-c`, the "engine") finished — its spool dir
 * (`-d -k`) holds what it RECEIVED, which is not the same thing for a job killed in the engine.
 * What must hold: labels the printer refused fail over to the other printer (new job id,
 * `shipment.print_rerouted` with the cause); a label that may have printed (connection lost
 * with the job in the printer) is NOT sent anywhere by itself but tagged; every label with no
 * printer to go to is a print exception with its cause; each is reprinted through the API with
 * a supervisor's password and then prints once; in the end every waybill printed exactly once.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { IppClient } from '../../../device-drivers/src/printer/ipp/ipp-client.js';
import { IppPrinterDriver } from '../../../device-drivers/src/printer/ipp/ipp-driver.js';
import { ZplPrinterSim } from '../../../simulators/src/printer/zpl-printer-sim.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { runCli } from '../support/cli.js';
import { device, floorConfig, importOrders, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const PASSWORD = 'failover supervisor pw';
const STATIONS = [stationDevices(1), stationDevices(2), stationDevices(3)] as const;
const [S1, S2, S3] = STATIONS;

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Wire {
  shipment_id: string;
  state: string;
  reason_code: string | null;
  label_job_id: string | null;
}
interface PrintExceptionWire {
  shipment: { shipment_id: string; waybill: string; order_id: string };
  printer_id: string | null;
  cause: string | null;
}
interface EventWire {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * One gateway, three stations on channel 1 (st-1's and st-2's printers), the stations' scanners
 * and scales as MQTT clients, and the supervisor `boss` added with the CLI.
 */
class Floor {
  info!: GatewayInfo;
  gateway!: Gateway;
  readonly clients: MqttClient[] = [];
  readonly scanners = new Map<string, { client: MqttClient; inbox: Inbox }>();
  readonly scales = new Map<string, MqttClient>();
  private msg = 0;

  constructor(
    readonly dir: string,
    private readonly printerDrivers: Record<string, Record<string, unknown> | undefined>,
  ) {}

  async start(orders: Record<string, unknown>[]): Promise<void> {
    const raw = floorConfig(
      this.dir,
      { stations: 3, lines: 0, verifyItems: 'never' },
      {
        printing: { channels: [{ id: 1, printers: [S1.printer, S2.printer] }], queueLimit: 50 },
      },
    ) as { devices: Array<Record<string, unknown>> };
    for (const d of raw.devices) {
      const drv = this.printerDrivers[String(d.id)];
      if (drv !== undefined) d.driver = drv;
    }
    this.gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
    await this.gateway.start();
    this.info = this.gateway.info();
    for (const st of STATIONS) {
      const scanner = await this.connect(st.scanner);
      this.scanners.set(st.station, { client: scanner, inbox: await Inbox.open(scanner, replyTopics(st.scanner)) });
      this.scales.set(st.station, await this.connect(st.scale));
    }
    expect((await importOrders(this.info.httpUrl, this.info.tokens.admin, orders)).status).toBe(200);
    const add = await runCli(this.dir, ['supervisor', 'add', 'boss'], { stdin: `${PASSWORD}\n` });
    expect(add.stderr).toBe('');
  }

  secret(deviceId: string): string {
    const s = this.info.issued.find((i) => i.deviceId === deviceId)?.secret;
    if (s === undefined) throw new Error(`no secret issued for ${deviceId}`);
    return s;
  }

  async connect(id: string): Promise<MqttClient> {
    const c = await device(this.info.mqttUrl as string, id, this.secret(id));
    this.clients.push(c);
    return c;
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await this.gateway?.stop();
  }

  api(method: string, path: string, body?: unknown, token = this.info.tokens.admin): Promise<Response> {
    return fetch(`${this.info.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  async printerOnline(id: string): Promise<boolean> {
    const body = (await (await this.api('GET', '/api/v1/stations')).json()) as {
      stations: Array<{ devices: { printer: { device_id: string; online: boolean } } }>;
    };
    return body.stations.some((s) => s.devices.printer.device_id === id && s.devices.printer.online);
  }

  /** The packer: scale empty, scan (acknowledged), parcel on the scale. The label is queued after this. */
  async pack(st: (typeof STATIONS)[number], order: Record<string, unknown>): Promise<void> {
    const scanner = this.scanners.get(st.station)!;
    const scale = this.scales.get(st.station)!;
    const tag = `m-${++this.msg}`;
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ msg_id: `${tag}-0`, grams: 0, stable: true }), { qos: 1 });
    await scanner.client.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: tag, code: order.order_id }), { qos: 1 });
    const answer = await scanner.inbox.next((m) => m.payload.msg_id === tag);
    expect(answer.topic, JSON.stringify(answer.payload)).toBe(`dev/${st.scanner}/ack`);
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ msg_id: `${tag}-w`, grams: wireOrderGrams(order), stable: true }), { qos: 1 });
  }

  async shipment(orderId: string): Promise<Wire> {
    const o = (await (await this.api('GET', `/api/v1/orders/${orderId}`)).json()) as { latest_shipment: { shipment_id: string } | null };
    if (o.latest_shipment === null) throw new Error(`order ${orderId} has no shipment`);
    return (await (await this.api('GET', `/api/v1/shipments/${o.latest_shipment.shipment_id}`)).json()) as Wire;
  }

  /** Waits until every order's label is settled: shipped, or tagged print failed / abandoned after a failure. */
  async settled(orderIds: readonly string[]): Promise<Map<string, Wire>> {
    const out = new Map<string, Wire>();
    await waitFor(
      `labels of ${orderIds.join(',')} settled`,
      async () => {
        for (const id of orderIds) {
          const s = await this.shipment(id).catch(() => null);
          if (s === null) return false;
          out.set(id, s);
        }
        const exceptions = new Set((await this.exceptions()).map((e) => e.shipment.order_id));
        return [...out.entries()].every(([id, s]) => s.state === 'shipped' || exceptions.has(id));
      },
      40_000,
    );
    return out;
  }

  async exceptions(): Promise<PrintExceptionWire[]> {
    return ((await (await this.api('GET', '/api/v1/print/exceptions')).json()) as { exceptions: PrintExceptionWire[] }).exceptions;
  }

  async events(): Promise<EventWire[]> {
    const out: EventWire[] = [];
    for (let after = 0; ; ) {
      const page = (await (await this.api('GET', `/api/v1/events?after=${after}&limit=1000`)).json()) as { events: EventWire[]; next_after: number };
      out.push(...page.events);
      if (page.events.length < 1000) return out;
      after = page.next_after;
    }
  }

  reprint(shipmentId: string, requestId: string): Promise<Response> {
    return this.api(
      'POST',
      `/api/v1/shipments/${shipmentId}/reprint`,
      { supervisor: 'boss', password: PASSWORD, request_id: requestId, note: 'print exception' },
      this.info.tokens.station,
    );
  }

  /** Reprints every print exception; returns them as listed before. */
  async reprintExceptions(tag: string): Promise<PrintExceptionWire[]> {
    const list = await this.exceptions();
    for (const [i, e] of list.entries()) {
      const res = await this.reprint(e.shipment.shipment_id, `${tag}-${i}`);
      expect(res.status, await res.clone().text()).toBe(200);
      // The same request again (a retried click) prints nothing.
      const again = await this.reprint(e.shipment.shipment_id, `${tag}-${i}`);
      expect(((await again.json()) as { duplicate: boolean }).duplicate).toBe(true);
    }
    return list;
  }
}

/** How many times each waybill appears in the printed documents. */
function printCounts(documents: readonly string[], waybills: readonly string[]): Record<string, number> {
  return Object.fromEntries(waybills.map((w) => [w, documents.filter((d) => d.includes(w)).length]));
}

const once = (waybills: readonly string[]) => Object.fromEntries(waybills.map((w) => [w, 1]));

function ordersFor(prefix: string, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => wireOrder(`${prefix}-${i + 1}`));
}

const waybillOf = (o: Record<string, unknown>) => String(o.waybill);
const idOf = (o: Record<string, unknown>) => String(o.order_id);

// ---------------------------------------------------------------------------------------------

describe('(a) two ZPL printers on raw TCP: paper out, then head open, mid-queue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-failover-zpl-'));
  // 300 ms a label: labels queue up behind the one printing.
  const simA = new ZplPrinterSim({ printMs: 300 });
  const simB = new ZplPrinterSim({ printMs: 300 });
  let floor: Floor;
  const orders = ordersFor('FZ', 14);
  const documents = () => [...simA.labels, ...simB.labels].map((l) => l.data);

  beforeAll(async () => {
    const [pa, pb] = [await simA.start(), await simB.start()];
    floor = new Floor(join(dir, 'data'), {
      [S1.printer]: { kind: 'printer', definition: 'zebra-zd420', host: '127.0.0.1', port: pa },
      [S2.printer]: { kind: 'printer', definition: 'zebra-zd420', host: '127.0.0.1', port: pb },
    });
    await floor.start(orders);
    await waitFor('both ZPL printers online', async () => (await floor.printerOnline(S1.printer)) && (await floor.printerOnline(S2.printer)));
  }, 60_000);

  afterAll(async () => {
    await floor?.stop();
    await simA.stop();
    await simB.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('A runs out of paper mid-queue: its queued labels fail over to B, each printed once', async () => {
    const batch = orders.slice(0, 9);
    // st-1 and st-3 print on A (st-3's own printer is outside the channel), st-2 on B.
    const packing = Promise.all([
      (async () => {
        for (const o of batch.slice(0, 3)) await floor.pack(S1, o);
      })(),
      (async () => {
        for (const o of batch.slice(3, 6)) await floor.pack(S3, o);
      })(),
      (async () => {
        for (const o of batch.slice(6, 9)) await floor.pack(S2, o);
      })(),
    ]);
    await simA.waitForLabels(2, 20_000);
    simA.setFaults({ paperOut: true }); // the roll is empty: ~HS says paper out from now on
    await packing;
    const settled = await floor.settled(batch.map(idOf));
    expect([...settled.values()].map((s) => s.state)).toEqual(batch.map(() => 'shipped'));
    expect(printCounts(documents(), batch.map(waybillOf))).toEqual(once(batch.map(waybillOf)));
    expect(simA.labels.length).toBeGreaterThanOrEqual(2);
    const rerouted = (await floor.events()).filter((e) => e.type === 'shipment.print_rerouted');
    expect(rerouted.length).toBeGreaterThan(0);
    for (const e of rerouted) {
      expect(e.data).toMatchObject({ previous_printer_id: S1.printer, printer_id: S2.printer, reason: 'paper_out' });
    }
    expect(await floor.exceptions()).toEqual([]);
  }, 60_000);

  it("B's head opens mid-queue while A is empty: its labels are print exceptions with the cause, reprinted once each", async () => {
    const batch = orders.slice(9, 14);
    const before = simB.labels.length;
    const packing = Promise.all([
      (async () => {
        for (const o of batch.slice(0, 3)) await floor.pack(S2, o);
      })(),
      (async () => {
        for (const o of batch.slice(3, 5)) await floor.pack(S1, o);
      })(),
    ]);
    await simB.waitForLabels(before + 1, 20_000);
    simB.setFaults({ headOpen: true });
    await packing;
    await floor.settled(batch.map(idOf));
    const exceptions = await floor.exceptions();
    expect(exceptions.length).toBeGreaterThan(0);
    for (const e of exceptions) expect(['head_open', 'paper_out']).toContain(e.cause);
    expect(exceptions.some((e) => e.cause === 'head_open')).toBe(true);
    // Nothing printed for the tagged ones, nothing twice for the rest.
    const tagged = exceptions.map((e) => e.shipment.waybill);
    const counts = printCounts(documents(), batch.map(waybillOf));
    for (const w of batch.map(waybillOf)) expect(counts[w], w).toBe(tagged.includes(w) ? 0 : 1);

    // Fix the printers; the supervisor reprints from the exception list.
    simA.loadPaper();
    simB.setFaults({ headOpen: false });
    // Each driver polls `~HS` while idle (2 s); two answers after the fix mean it has reported
    // `online` since, so the router uses the printers again.
    const [ha, hb] = [simA.statusAnswered, simB.statusAnswered];
    await waitFor('both drivers saw the printers ready', () => simA.statusAnswered >= ha + 2 && simB.statusAnswered >= hb + 2);
    const reprinted = await floor.reprintExceptions('za');
    expect(reprinted.length).toBe(exceptions.length);
    const settled = await floor.settled(batch.map(idOf));
    expect([...settled.values()].map((s) => s.state)).toEqual(batch.map(() => 'shipped'));
    expect(await floor.exceptions()).toEqual([]);
    const all = orders.map(waybillOf);
    expect(printCounts(documents(), all)).toEqual(once(all));
  }, 90_000);
});

// ---------------------------------------------------------------------------------------------

/**
 * Debian's ippeveprinter with a print command (`-c`) that plays the engine: it waits while a
 * HOLD file exists, takes `engineMs`, then copies the document to `printed/`. Started in its
 * own process group so that killing it kills the engine with it (a powered-off printer).
 */
class EnginePrinter {
  proc: ChildProcess | null = null;
  log = '';
  readonly printedDir: string;
  readonly hold: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly engineMs = 250,
  ) {
    this.printedDir = join(dir, 'printed');
    this.hold = join(dir, 'HOLD');
  }

  get uri(): string {
    return `ipp://localhost:${this.port}/ipp/print`;
  }

  spool(): string {
    return join(this.dir, 'spool');
  }

  async start(): Promise<void> {
    mkdirSync(this.spool(), { recursive: true });
    mkdirSync(this.printedDir, { recursive: true });
    const engine = join(this.dir, 'engine.sh');
    writeFileSync(engine, `#!/bin/sh\nwhile [ -e '${this.hold}' ]; do sleep 0.05; done\nsleep ${this.engineMs / 1000}\ncp "$1" '${this.printedDir}/'\n`);
    chmodSync(engine, 0o755);
    this.proc = spawn(
      'ippeveprinter',
      [
        '-r',
        'off',
        '-k',
        '-n',
        'localhost',
        '-p',
        String(this.port),
        '-d',
        this.spool(),
        '-c',
        engine,
        '-f',
        'application/vnd.zebra-zpl,application/octet-stream,text/plain',
        `PacklineFailover${this.port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.proc.stdout?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000)));
    this.proc.stderr?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000)));
    const client = new IppClient({ uri: this.uri, timeoutMs: 2_000 });
    const proc = this.proc;
    await waitFor(
      'ippeveprinter to answer (dbus and avahi-daemon running? see .ci/run)',
      async () => {
        if (proc.exitCode !== null) throw new Error(`ippeveprinter exited ${proc.exitCode}: ${this.log}`);
        return client.getPrinterAttributes().then(
          () => true,
          () => false,
        );
      },
      20_000,
    );
  }

  /** Documents the engine finished. */
  printed(): string[] {
    return existsSync(this.printedDir) ? readdirSync(this.printedDir).map((f) => readFileSync(join(this.printedDir, f), 'utf8')) : [];
  }

  /** Documents the printer received (spool files). */
  received(): string[] {
    return readdirSync(this.spool())
      .filter((f) => f.endsWith('.dat'))
      .map((f) => readFileSync(join(this.spool(), f), 'utf8'));
  }

  /** Tray 1 empty through ippeveprinter's own media form → printer-state-reasons media-empty. */
  mediaEmpty(): Promise<void> {
    const q = 'size1=na_letter_8.5x11in&type1=stationery&level1=0&size3=na_number-10_4.125x9.5in&type3=envelope&level3=25';
    return new Promise<void>((done, fail) =>
      http.get(`http://127.0.0.1:${this.port}/media?${q}`, (res) => (res.resume(), res.on('end', done))).on('error', fail),
    );
  }

  /** Power cut: SIGKILL to the printer's process group, its engine included. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p === null || p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(-p.pid, 'SIGKILL');
    await exited;
  }
}

describe.skipIf(skipWithout(import.meta.url, 'ippeveprinter'))(
  '(b) two ippeveprinters: one killed with a label in its engine, the other media-empty, mid-queue',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkl-failover-ipp-'));
    let floor: Floor;
    let p1: EnginePrinter;
    let p2: EnginePrinter;
    /** P2 after its restart (same address, new spool). */
    let p2b: EnginePrinter;
    const drivers: IppPrinterDriver[] = [];
    const orders = ordersFor('FI', 11);
    const documents = () => [p1, p2, p2b].filter((p) => p !== undefined).flatMap((p) => p.printed());

    beforeAll(async () => {
      try {
        execFileSync('sh', ['-c', 'command -v ippeveprinter'], { stdio: 'pipe' });
      } catch {
        throw new Error('ippeveprinter not found: apt-get install cups-ipp-utils avahi-daemon and start dbus + avahi (see .ci/run)');
      }
      p1 = new EnginePrinter(join(dir, 'p1'), await freePort());
      p2 = new EnginePrinter(join(dir, 'p2'), await freePort());
      await p1.start();
      await p2.start();
      // The printers are MQTT devices to the gateway; their drivers run beside it, as a driver
      // process on the floor would (a short job timeout: the test waits for it once).
      floor = new Floor(join(dir, 'data'), {});
      await floor.start(orders);
      for (const [id, p] of [
        [S1.printer, p1],
        [S2.printer, p2],
      ] as const) {
        const d = new IppPrinterDriver({
          uri: p.uri,
          mqtt: { url: floor.info.mqttUrl as string, deviceId: id, secret: floor.secret(id) },
          pollIntervalMs: 100,
          idlePollMs: 300,
          jobTimeoutMs: 3_000,
          requestTimeoutMs: 2_000,
          backoff: { initialMs: 100, maxMs: 500, factor: 2 },
        });
        await d.start();
        drivers.push(d);
      }
      await waitFor('both IPP printers online', async () => (await floor.printerOnline(S1.printer)) && (await floor.printerOnline(S2.printer)));
    }, 60_000);

    afterAll(async () => {
      for (const d of drivers) await d.stop();
      await floor?.stop();
      for (const p of [p1, p2, p2b]) await p?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    it('P2 is killed with a label in its engine: the queued labels fail over to P1; the one that may have printed is tagged, not re-sent', async () => {
      const batch = orders.slice(0, 4);
      writeFileSync(p2.hold, ''); // the engine takes the first label and holds it
      for (const o of batch.slice(0, 3)) await floor.pack(S2, o);
      await floor.pack(S1, batch[3]!);
      await waitFor('P2 received the first label', () => p2.received().length === 1);
      const held = waybillOf(batch[0]!);
      expect(p2.received()[0]).toContain(held);
      await p2.kill();
      await floor.settled(batch.map(idOf));

      // The held label: the printer had it, so it is a print exception (connection lost), never re-sent by itself.
      const exceptions = await floor.exceptions();
      expect(exceptions.map((e) => [e.shipment.waybill, e.printer_id, e.cause])).toEqual([[held, S2.printer, 'connection_lost']]);
      const counts = printCounts(documents(), batch.map(waybillOf));
      expect(counts).toEqual({ ...once(batch.map(waybillOf)), [held]: 0 });
      const rerouted = (await floor.events()).filter((e) => e.type === 'shipment.print_rerouted');
      expect(rerouted.length).toBeGreaterThan(0);
      for (const e of rerouted) expect(e.data).toMatchObject({ previous_printer_id: S2.printer, printer_id: S1.printer, reason: 'offline' });

      // The supervisor reprints it: through the router, on P1 (P2 is off), once.
      await floor.reprintExceptions('ia');
      await waitFor('the held label reprinted and shipped', async () => (await floor.shipment(idOf(batch[0]!))).state === 'shipped');
      expect(printCounts(documents(), batch.map(waybillOf))).toEqual(once(batch.map(waybillOf)));
      expect(await floor.exceptions()).toEqual([]);
    }, 60_000);

    it('P2 back, P1 reports media-empty mid-queue: its queued labels fail over to P2, each printed once', async () => {
      p2b = new EnginePrinter(join(dir, 'p2b'), p2.port);
      await p2b.start();
      await waitFor('P2 online again', () => drivers[1]!.stats().state === 'online');
      await waitFor('the gateway sees P2 online', () => floor.printerOnline(S2.printer));
      const batch = orders.slice(4, 11);
      const packing = Promise.all([
        (async () => {
          for (const o of batch.slice(0, 4)) await floor.pack(S1, o);
        })(),
        (async () => {
          for (const o of batch.slice(4, 7)) await floor.pack(S3, o);
        })(),
      ]);
      const before = p1.printed().length;
      await waitFor('P1 printed one of the batch', () => p1.printed().length > before);
      await p1.mediaEmpty();
      await packing;
      await floor.settled(batch.map(idOf));
      const rerouted = (await floor.events()).filter((e) => e.type === 'shipment.print_rerouted' && e.data.previous_printer_id === S1.printer);
      expect(rerouted.length).toBeGreaterThan(0);
      for (const e of rerouted) expect(e.data).toMatchObject({ printer_id: S2.printer, reason: 'paper_out' });
      // Anything left with no printer is tagged and reprinted once.
      for (const e of await floor.exceptions()) expect(e.cause).toBe('paper_out');
      await floor.reprintExceptions('ib');
      const settled = await floor.settled(batch.map(idOf));
      expect([...settled.values()].map((s) => s.state)).toEqual(batch.map(() => 'shipped'));
      const all = orders.map(waybillOf);
      expect(printCounts(documents(), all)).toEqual(once(all));
      expect(await floor.exceptions()).toEqual([]);
    }, 60_000);
  },
);
