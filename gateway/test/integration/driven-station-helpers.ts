/**
 * Shared by the driven-station tests: packing stations made of real-wire devices by
 * configuration alone (`devices[].driver`), each device's simulator on the far end of its
 * wire: a serial barcode scanner and a serial scale on pseudo-terminal pairs, and a
 * ZPL or TSPL printer simulator on raw TCP or Debian's `ippeveprinter` as the IPP printer.
 * The tests drive the devices (bytes on the scanner line, load on the scale) and read the
 * outcome through the gateway's HTTP API; no MQTT client of their own.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { IppClient } from '../../../device-drivers/src/printer/ipp/ipp-client.js';
import { findScaleDefinition } from '../../../device-drivers/src/scale/index.js';
import type { RawPrinterSim } from '../../../simulators/src/printer/raw-printer-sim.js';
import { TsplPrinterSim } from '../../../simulators/src/printer/tspl-printer-sim.js';
import { ZplPrinterSim } from '../../../simulators/src/printer/zpl-printer-sim.js';
import { SIMULATED_PROTOCOLS, type SimulatedProtocol } from '../../../simulators/src/scale/device-side.js';
import { PtyPair } from '../../../simulators/src/scale/pty-pair.js';
import { ScaleSimulator } from '../../../simulators/src/scale/scale-simulator.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { floorConfig, importOrders, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A serial barcode scanner: a pty pair whose device end the test writes scans into (CR LF terminated). */
export async function openSerialScanner(dir: string): Promise<{ pty: PtyPair; port: SerialPort; stop(): Promise<void> }> {
  const pty = new PtyPair({ dir });
  await pty.start();
  const port = new SerialPort({ path: pty.devicePath, baudRate: 9600 });
  try {
    await new Promise<void>((resolve, reject) => {
      port.once('open', () => resolve());
      port.once('error', reject);
    });
  } catch (err) {
    await pty.stop();
    throw err;
  }
  return {
    pty,
    port,
    stop: async () => {
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      await pty.stop();
    },
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/**
 * Debian's `ippeveprinter` (cups-ipp-utils) as a real IPP Everywhere printer on 127.0.0.1.
 * It needs a running system dbus and avahi-daemon even with `-r off` (.ci/run starts them);
 * a missing binary fails loudly: it is a declared CI peer. `-k` keeps every document in the
 * spool directory (the bytes the printer received); `-c /bin/true` finishes each job at once.
 */
export class IppEvePrinter {
  private log = '';

  private constructor(
    private readonly proc: ChildProcess,
    readonly uri: string,
    private readonly spool: string,
  ) {
    proc.stdout?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000)));
    proc.stderr?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000)));
  }

  static async start(spool: string): Promise<IppEvePrinter> {
    try {
      execFileSync('sh', ['-c', 'command -v ippeveprinter'], { stdio: 'pipe' });
    } catch {
      throw new Error('ippeveprinter not found: apt-get install cups-ipp-utils avahi-daemon and start dbus + avahi (see .ci/run)');
    }
    mkdirSync(spool, { recursive: true });
    const port = await freePort();
    const proc = spawn(
      'ippeveprinter',
      [
        '-r',
        'off',
        '-k',
        '-n',
        'localhost',
        '-p',
        String(port),
        '-d',
        spool,
        '-c',
        '/bin/true',
        '-f',
        'application/vnd.zebra-zpl,application/octet-stream,text/plain',
        'PacklineMatrix',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const printer = new IppEvePrinter(proc, `ipp://localhost:${port}/ipp/print`, spool);
    const client = new IppClient({ uri: printer.uri, timeoutMs: 2_000 });
    try {
      await waitFor('ippeveprinter to answer (are dbus and avahi-daemon running? see .ci/run)', async () => {
        if (proc.exitCode !== null) throw new Error(`ippeveprinter exited ${proc.exitCode}: ${printer.log}`);
        return client.getPrinterAttributes().then(
          () => true,
          () => false,
        );
      });
    } catch (err) {
      await printer.stop();
      throw err;
    }
    return printer;
  }

  /** Documents the printer received so far (spool files, oldest first). */
  documents(): string[] {
    return readdirSync(this.spool)
      .map((f) => join(this.spool, f))
      .filter((f) => statSync(f).isFile())
      .sort()
      .map((f) => readFileSync(f, 'utf8'));
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGTERM');
    });
  }
}

export type PrinterKind = 'zpl' | 'tspl' | 'ipp';

/** The printer model each printer type is configured as (device-drivers/src/printer/definitions.ts). */
export const PRINTER_DEFINITION: Readonly<Record<Exclude<PrinterKind, 'ipp'>, string>> = { zpl: 'zebra-zd420', tspl: 'tsc-ttp-244' };

export interface DrivenStationSpec {
  /** Scale model definition id (device-drivers/src/scale/models/). */
  readonly scale: string;
  readonly printer: PrinterKind;
}

export interface DrivenStation {
  readonly spec: DrivenStationSpec;
  readonly ids: ReturnType<typeof stationDevices>;
  /** Write scans here (the scanner's wire). */
  readonly scanner: SerialPort;
  /** The scale on the far end of the scale's wire. */
  readonly scale: ScaleSimulator;
  /** The raw-TCP printer simulator (zpl/tspl), or null for IPP. */
  readonly rawPrinter: RawPrinterSim | null;
  /** Documents the printer received and printed so far. */
  labels(): string[];
}

export interface StationView {
  state: string;
  order_id: string | null;
  weight: { grams: number; stable: boolean } | null;
  alert: { code: string | null } | null;
}

export interface ShipmentWire {
  shipment_id: string;
  state: string;
  reason_code: string | null;
  actual_grams: number | null;
  expected_grams: number | null;
  waybill: string | null;
}

/** The simulated protocol a scale definition needs, or an error naming what is missing. */
export function simulatedProtocolOf(definitionId: string): { protocol: SimulatedProtocol; definition: NonNullable<ReturnType<typeof findScaleDefinition>> } {
  const definition = findScaleDefinition(definitionId);
  if (definition === undefined) throw new Error(`no scale definition ${definitionId}`);
  const protocol = definition.protocol as SimulatedProtocol;
  if (!SIMULATED_PROTOCOLS.includes(protocol)) throw new Error(`the scale simulator cannot speak ${definition.protocol} (${definitionId})`);
  return { protocol, definition };
}

/**
 * One gateway with one driven station per spec (`st-1` … `st-N`), every device on its own
 * wire and its own simulator, composed by configuration alone.
 */
export class DrivenFloor {
  private constructor(
    readonly gateway: Gateway,
    readonly info: GatewayInfo,
    readonly stations: readonly DrivenStation[],
    private readonly cleanup: Array<() => Promise<unknown>>,
  ) {}

  /** `ipp` is the running ippeveprinter every `ipp` station prints to (one is enough: it queues). */
  static async start(dir: string, specs: readonly DrivenStationSpec[], ipp?: IppEvePrinter): Promise<DrivenFloor> {
    const cleanup: Array<() => Promise<unknown>> = [];
    try {
      const raw = floorConfig(join(dir, 'data'), { stations: specs.length, lines: 0 }) as { devices: Array<Record<string, unknown>> };
      const stations: DrivenStation[] = [];
      for (const [i, spec] of specs.entries()) {
        const ids = stationDevices(i + 1);
        const { protocol, definition } = simulatedProtocolOf(spec.scale);

        const scanner = await openSerialScanner(join(dir, `${ids.station}-scanner`));
        cleanup.push(() => scanner.stop());
        const scalePty = new PtyPair({ dir: join(dir, `${ids.station}-scale`) });
        await scalePty.start();
        cleanup.push(() => scalePty.stop());
        const scale = new ScaleSimulator({
          protocol,
          ...(definition.options === undefined ? {} : { options: definition.options }),
          link: { kind: 'serial', path: scalePty.devicePath, ...(definition.serial === undefined ? {} : { line: definition.serial }) },
          loadGrams: 0,
        });
        await scale.start();
        cleanup.push(() => scale.stop());

        let rawPrinter: RawPrinterSim | null = null;
        let printerDriver: Record<string, unknown>;
        let labels: () => string[];
        if (spec.printer === 'ipp') {
          if (ipp === undefined) throw new Error('an ipp station needs a running IppEvePrinter');
          printerDriver = { kind: 'ipp-printer', uri: ipp.uri };
          labels = () => ipp.documents();
        } else {
          const sim = spec.printer === 'zpl' ? new ZplPrinterSim({ printMs: 20 }) : new TsplPrinterSim({ printMs: 20 });
          const port = await sim.start();
          cleanup.push(() => sim.stop());
          rawPrinter = sim;
          printerDriver = { kind: 'printer', definition: PRINTER_DEFINITION[spec.printer], host: '127.0.0.1', port };
          labels = () => sim.labels.map((l) => l.data);
        }

        for (const d of raw.devices) {
          if (d.id === ids.scanner) d.driver = { kind: 'scanner', wire: 'serial', link: { type: 'serial', path: scanner.pty.driverPath } };
          if (d.id === ids.scale) d.driver = { kind: 'scale', definition: spec.scale, link: { type: 'serial', path: scalePty.driverPath } };
          if (d.id === ids.printer) d.driver = printerDriver;
        }
        stations.push({ spec, ids, scanner: scanner.port, scale, rawPrinter, labels });
      }

      const gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
      await gateway.start();
      cleanup.push(() => gateway.stop());
      const floor = new DrivenFloor(gateway, gateway.info(), stations, cleanup);
      await waitFor(
        'every driven device online',
        async () => {
          const body = (await floor.get('/api/v1/stations')) as { stations: Array<{ devices: Record<string, { online: boolean }> }> };
          return (
            body.stations.length === specs.length && body.stations.every((s) => ['scanner', 'scale', 'printer'].every((k) => s.devices[k]?.online === true))
          );
        },
        30_000,
      );
      return floor;
    } catch (err) {
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
      throw err;
    }
  }

  async get(path: string, token = this.info.tokens.station): Promise<unknown> {
    const res = await fetch(`${this.info.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  view(st: DrivenStation): Promise<StationView> {
    return this.get(`/api/v1/stations/${st.ids.station}`) as Promise<StationView>;
  }

  async shipment(orderId: string): Promise<ShipmentWire | undefined> {
    const body = (await this.get(`/api/v1/shipments?order=${encodeURIComponent(orderId)}`)) as { shipments: ShipmentWire[] };
    return body.shipments[0];
  }

  /**
   * The packer's part of one parcel on a driven station: the order is imported, scanned on the
   * serial scanner with its one item, and the parcel goes on the serial scale (3 g over the
   * expected weight, within tolerance). Returns the order and the load; the caller waits for
   * the label and the shipment.
   */
  async packOnto(st: DrivenStation, orderId: string): Promise<{ order: Record<string, unknown>; waybill: string; loadGrams: number }> {
    const order = wireOrder(orderId, { items: [{ sku: 'K', barcode: '6903333333330', qty: 1, unit_grams: 620 }] });
    const imported = await importOrders(this.info.httpUrl, this.info.tokens.admin, [order]);
    if (imported.status !== 200) throw new Error(`order import: ${imported.status} ${await imported.text()}`);
    // Weight lock: the gateway only takes a weight after it saw the scale empty (station-machine onWeight).
    await waitFor(`${st.ids.station}: empty scale seen`, async () => {
      const w = (await this.view(st)).weight;
      return w !== null && Math.abs(w.grams) <= 5;
    });
    st.scanner.write(`${orderId}\r\n`);
    await waitFor(`${st.ids.station}: order ${orderId} opened`, async () => (await this.view(st)).order_id === orderId);
    st.scanner.write('6903333333330\r\n');
    await waitFor(`${st.ids.station}: items verified`, async () => (await this.view(st)).state === 'weighing');
    const loadGrams = wireOrderGrams(order) + 3;
    st.scale.setLoad(loadGrams);
    return { order, waybill: String(order.waybill), loadGrams };
  }

  /** Waits for the shipment of `orderId` to be shipped and returns it. */
  async shipped(orderId: string): Promise<ShipmentWire> {
    let last: ShipmentWire | undefined;
    try {
      await waitFor(`shipment of ${orderId} shipped`, async () => {
        last = await this.shipment(orderId);
        return last?.state === 'shipped';
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
    }
    return last as ShipmentWire;
  }

  async stop(): Promise<void> {
    for (const c of this.cleanup.splice(0).reverse()) await c().catch(() => undefined);
  }
}
