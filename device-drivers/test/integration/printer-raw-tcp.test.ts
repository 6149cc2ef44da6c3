/**
 * The raw-TCP printer driver against the ZPL and TSPL printer simulators over real TCP on
 * 127.0.0.1, bridged onto a real (throwaway, no-auth) aedes broker. No mocks: the simulator
 * answers status queries with the same protocol modules' encoders the driver decodes with.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { printerDefinition } from '../../src/printer/definitions.js';
import { RawTcpPrinterDriver, type RawTcpPrinterDriverOptions } from '../../src/printer/raw-tcp-driver.js';
import type { PrinterDefinition } from '../../src/printer/types.js';
import type { PrinterSimOptions, RawPrinterSim } from '../../../simulators/src/printer/raw-printer-sim.js';
import { TsplPrinterSim } from '../../../simulators/src/printer/tspl-printer-sim.js';
import { ZplPrinterSim } from '../../../simulators/src/printer/zpl-printer-sim.js';

const DEVICE = 'prn-1';
const ZEBRA = printerDefinition('zebra-zd420') as PrinterDefinition;
const TSC = printerDefinition('tsc-ttp-244') as PrinterDefinition;
const LABEL = (n: string) => `^XA^FO50,50^A0N,40,40^FDSF${n}^FS^BY2^FO50,120^BCN,80,Y,N,N^FDSF${n}^FS^XZ`;
const TSPL_LABEL = (n: string) => `SIZE 100 mm,150 mm\r\nGAP 2 mm,0 mm\r\nCLS\r\nTEXT 40,40,"3",0,1,1,"SF${n}"\r\nPRINT 1,1\r\n`;

interface Msg {
  readonly topic: string;
  readonly body: Record<string, unknown>;
}

let aedes: Aedes;
let brokerServer: net.Server;
let brokerUrl: string;
let observer: MqttClient;
let messages: Msg[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  aedes = await Aedes.createBroker();
  brokerServer = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => brokerServer.listen(0, '127.0.0.1', resolve));
  brokerUrl = `mqtt://127.0.0.1:${(brokerServer.address() as net.AddressInfo).port}`;
  observer = await mqtt.connectAsync(brokerUrl, { clientId: 'test-observer', protocolVersion: 4 });
  observer.on('message', (topic, payload) => {
    if (payload.length === 0) return; // our own clearing of the retained state
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      body = { raw: payload.toString() }; // our own malformed command
    }
    messages.push({ topic, body });
  });
  await observer.subscribeAsync(`dev/${DEVICE}/#`, { qos: 1 });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await observer.endAsync();
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => brokerServer.close(() => resolve()));
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; messages: ${JSON.stringify(messages.slice(-8))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const results = (jobId: string) => messages.filter((m) => m.topic === `dev/${DEVICE}/evt/print_result` && m.body['job_id'] === jobId).map((m) => m.body);
const result = (jobId: string) => waitFor(`print_result ${jobId}`, () => results(jobId)[0]);
const lastState = () => messages.filter((m) => m.topic === `dev/${DEVICE}/state`).at(-1)?.body;
const stateIs = (state: string, reason?: string) =>
  waitFor(`state ${state}${reason ? `/${reason}` : ''}`, () => {
    const s = lastState();
    return s?.['state'] === state && (reason === undefined || s['reason'] === reason || String(s['reason']).includes(reason)) ? s : undefined;
  });

function print(jobId: string, data: string, extra: Record<string, unknown> = {}): Promise<unknown> {
  return observer.publishAsync(`dev/${DEVICE}/cmd/print`, JSON.stringify({ job_id: jobId, shipment_id: 'S1', format: 'zpl', data, copies: 1, ...extra }), {
    qos: 1,
  });
}

async function rig<S extends RawPrinterSim>(
  makeSim: (o: PrinterSimOptions) => S,
  simOptions: PrinterSimOptions = {},
  driverOptions: Partial<RawTcpPrinterDriverOptions> = {},
): Promise<{ sim: S; driver: RawTcpPrinterDriver; outDir: string }> {
  messages = [];
  const outDir = mkdtempSync(join(tmpdir(), 'pkl-prn-'));
  const sim = makeSim({ printMs: 15, outDir, ...simOptions });
  const port = await sim.start();
  const driver = new RawTcpPrinterDriver({
    definition: ZEBRA,
    host: '127.0.0.1',
    port,
    mqtt: { url: brokerUrl, deviceId: DEVICE, secret: 'unused-no-auth' },
    statusTimeoutMs: 500,
    pollIntervalMs: 25,
    idlePollMs: 150,
    settleMs: 200,
    backoff: { initialMs: 50, maxMs: 400 },
    ...driverOptions,
  });
  cleanups.push(async () => {
    await driver.stop();
    await sim.stop();
    rmSync(outDir, { recursive: true, force: true });
    // Clear the retained state so the next test starts from nothing.
    await observer.publishAsync(`dev/${DEVICE}/state`, '', { qos: 1, retain: true });
  });
  await driver.start();
  return { sim, driver, outDir };
}

const zpl = (o: PrinterSimOptions) => new ZplPrinterSim(o);

describe('ZPL printer over raw TCP', () => {
  it('prints a job: label received by the printer, print_result printed, state online', async () => {
    const { sim, outDir } = await rig(zpl);
    await stateIs('online');
    await print('job-1', LABEL('0001'), { copies: 2 });
    expect(await result('job-1')).toMatchObject({ job_id: 'job-1', status: 'printed' });
    expect(sim.labels.map((l) => l.data)).toEqual([LABEL('0001'), LABEL('0001')]);
    expect(
      readdirSync(outDir)
        .filter((f) => f.endsWith('.zpl'))
        .sort(),
    ).toEqual(['label-0001.zpl', 'label-0002.zpl']);
    expect(readFileSync(join(outDir, 'label-0001.zpl'), 'utf8')).toBe(LABEL('0001'));
    expect(sim.pendingLabels).toBe(0);
  });

  it('paper out before the job: failed/paper_out, nothing sent, state error paper_out', async () => {
    const { sim } = await rig(zpl, { faults: { paperOut: true } });
    await stateIs('error', 'paper_out');
    let jobsReceived = 0;
    sim.on('job', () => jobsReceived++);
    await print('job-po', LABEL('0002'));
    expect(await result('job-po')).toMatchObject({ status: 'failed', reason: 'paper_out' });
    expect(jobsReceived).toBe(0);
    expect(sim.labels).toEqual([]);
  });

  it('paper runs out mid-queue: the job in progress and later jobs fail; after new paper, new jobs print and the cancelled rest never comes out', async () => {
    const { sim } = await rig(zpl, { paperLabels: 2 });
    await stateIs('online');
    await print('job-a', LABEL('000A'), { copies: 3 }); // roll holds 2 labels
    await print('job-b', LABEL('000B'));
    expect(await result('job-a')).toMatchObject({ status: 'failed', reason: 'paper_out' });
    expect(await result('job-b')).toMatchObject({ status: 'failed', reason: 'paper_out' });
    expect(sim.labels).toHaveLength(2);
    expect(sim.pendingLabels).toBe(0); // ~JA dropped the third copy of job-a
    await stateIs('error', 'paper_out');

    sim.loadPaper();
    await stateIs('online');
    await print('job-c', LABEL('000C'));
    expect(await result('job-c')).toMatchObject({ status: 'printed' });
    expect(sim.labels.map((l) => l.data)).toEqual([LABEL('000A'), LABEL('000A'), LABEL('000C')]);
  });

  it('a silent ~HS is a fault: state error status_timeout, the job fails, nothing printed; answers again → online', async () => {
    const { sim } = await rig(zpl);
    await stateIs('online');
    sim.setFaults({ silent: true });
    await stateIs('error', 'status_timeout');
    await print('job-silent', LABEL('0003'));
    expect(await result('job-silent')).toMatchObject({ status: 'failed', reason: 'status_timeout' });
    expect(sim.labels).toEqual([]);
    sim.setFaults({ silent: false });
    await stateIs('online');
  });

  it('a printer that ignores ~HS while the head is open is diagnosed through ~HQES', async () => {
    const { sim } = await rig(zpl, { faults: { headOpen: true, silentHsWhenFaulted: true } });
    await stateIs('error', 'head_open');
    await print('job-head', LABEL('0004'));
    expect(await result('job-head')).toMatchObject({ status: 'failed', reason: 'head_open' });
    expect(sim.labels).toEqual([]);
  });

  it('the same job_id sent twice (also while in progress) prints once and answers printed each time', async () => {
    const { sim, driver } = await rig(zpl, { faults: { slowMs: 200 } });
    await stateIs('online');
    await print('job-dup', LABEL('0005'));
    await print('job-dup', LABEL('0005')); // re-issued while the first is printing
    expect(await result('job-dup')).toMatchObject({ status: 'printed' });
    await print('job-dup', LABEL('0005')); // re-issued after a gateway restart
    await waitFor('second answer', () => results('job-dup').length >= 2);
    expect(results('job-dup').map((r) => r['status'])).toEqual(['printed', 'printed']);
    expect(sim.labels).toHaveLength(1);
    expect(driver.stats().duplicatesAnswered).toBe(1);
  });

  it('connection lost → offline → reconnect with backoff → online; a job cut off mid-send fails and is never re-sent', async () => {
    const { sim, driver } = await rig(zpl);
    await stateIs('online');
    sim.refuseConnections(true);
    sim.disconnectAll();
    await stateIs('offline');
    await print('job-off', LABEL('0006'));
    expect(await result('job-off')).toMatchObject({ status: 'failed', reason: 'offline' });
    sim.refuseConnections(false);
    await stateIs('online');
    expect(driver.stats().connects).toBeGreaterThanOrEqual(2);

    sim.setFaults({ disconnectMidJob: true });
    await print('job-cut', LABEL('0007'));
    expect(await result('job-cut')).toMatchObject({ status: 'failed', reason: 'connection_lost' });
    await stateIs('online');
    await print('job-cut', LABEL('0007')); // gateway re-issue: the bytes went out once already
    await waitFor('re-issue answer', () => results('job-cut').length >= 2);
    expect(results('job-cut')[1]).toMatchObject({ status: 'failed', reason: 'connection_lost' });
    await print('job-off', LABEL('0006')); // refused before sending: may print now
    expect(await waitFor('job-off printed', () => results('job-off').find((r) => r['status'] === 'printed'))).toBeDefined();
    expect(sim.labels.map((l) => l.data)).toEqual([LABEL('0006')]);
  });

  it('bad commands get coded answers and change nothing', async () => {
    const { sim } = await rig(zpl);
    await stateIs('online');
    await print('job-bad', LABEL('0008'), { copies: 0 });
    expect(await result('job-bad')).toMatchObject({ status: 'failed', reason: expect.stringContaining('PKL_PAYLOAD_INVALID') });
    await print('job-tspl', TSPL_LABEL('1'), { format: 'tspl' });
    expect(await result('job-tspl')).toMatchObject({ status: 'failed', reason: 'format_unsupported' });
    await observer.publishAsync(`dev/${DEVICE}/cmd/print`, 'not json', { qos: 1 });
    await waitFor('notice', () => messages.find((m) => m.topic.endsWith('/state') && String(m.body['reason']).startsWith('PKL_PAYLOAD_NOT_JSON')));
    await print('job-bad', LABEL('0008')); // the refused id is not burnt
    expect(await waitFor('printed', () => results('job-bad').find((r) => r['status'] === 'printed'))).toBeDefined();
    expect(sim.labels).toHaveLength(1);
    expect(lastState()).toMatchObject({ state: 'online' });
  });
});

describe('TSPL printer over raw TCP', () => {
  const tspl = (o: PrinterSimOptions) => new TsplPrinterSim(o);
  const printTspl = (jobId: string, data: string, copies = 1) => print(jobId, data, { format: 'tspl', copies });

  it('prints, fails on paper out before sending, and prints again after new paper', async () => {
    const { sim, outDir } = await rig(tspl, { paperLabels: 1 }, { definition: TSC });
    await stateIs('online');
    await printTspl('t-1', TSPL_LABEL('1'));
    expect(await result('t-1')).toMatchObject({ status: 'printed' });
    expect(readdirSync(outDir)).toEqual(['label-0001.tspl']);
    await stateIs('error', 'paper_out'); // the roll is empty after one label
    await printTspl('t-2', TSPL_LABEL('2'));
    expect(await result('t-2')).toMatchObject({ status: 'failed', reason: 'paper_out' });
    sim.loadPaper();
    await stateIs('online');
    await printTspl('t-3', TSPL_LABEL('3'), 2);
    expect(await result('t-3')).toMatchObject({ status: 'printed' });
    expect(sim.labels.map((l) => l.data)).toEqual([TSPL_LABEL('1'), TSPL_LABEL('3'), TSPL_LABEL('3')]);
  });

  it('waits for the printing bit to clear on a slow printer, and reports a head opened mid-job', async () => {
    const { sim } = await rig(tspl, { faults: { slowMs: 150 } }, { definition: TSC });
    await stateIs('online');
    await printTspl('t-slow', TSPL_LABEL('4'), 3);
    expect(await result('t-slow')).toMatchObject({ status: 'printed' });
    expect(sim.labels).toHaveLength(3); // "printed" only after all three came out

    await printTspl('t-head', TSPL_LABEL('5'), 3);
    await sim.waitForLabels(4);
    sim.setFaults({ headOpen: true });
    expect(await result('t-head')).toMatchObject({ status: 'failed', reason: 'head_open' });
    await stateIs('error', 'head_open');
  });

  it('a silent printer is a fault (status_timeout)', async () => {
    const { sim } = await rig(tspl, { faults: { silent: true } }, { definition: TSC });
    await stateIs('error', 'status_timeout');
    await printTspl('t-silent', TSPL_LABEL('6'));
    expect(await result('t-silent')).toMatchObject({ status: 'failed', reason: 'status_timeout' });
    expect(sim.labels).toEqual([]);
  });
});
