/**
 * The scanner driver over real wires: a serial scanner on a pseudo-terminal pair, and an
 * evdev input device stood in for by a FIFO carrying `struct input_event` records — each
 * publishes `dev/{id}/evt/scan` with a msg_id through a real MQTT broker (aedes).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtyPair } from '../../../simulators/src/scale/pty-pair.js';
import { EV_KEY, EV_SYN, encodeInputEvent } from '../../src/scanner/evdev.js';
import { ScannerDriver } from '../../src/scanner/scanner-driver.js';
import { FileTransport } from '../../src/transports/file.js';
import { SerialTransport } from '../../src/transports/serial.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-scanner-'));
let broker: Aedes;
let server: Server;
let url: string;
let watcher: MqttClient;
const scans: Array<{ deviceId: string; payload: Record<string, unknown> }> = [];

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  watcher = await connectAsync(url, { clientId: 'watcher' });
  watcher.on('message', (topic, buf) => scans.push({ deviceId: topic.split('/')[1] as string, payload: JSON.parse(buf.toString()) }));
  await watcher.subscribeAsync('dev/+/evt/scan', { qos: 1 });
});

afterAll(async () => {
  await watcher?.endAsync(true);
  await new Promise<void>((r) => broker.close(() => r()));
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('scanner driver', () => {
  it('serial scanner on a pty: CR LF lines → scans; prefix stripped; duplicate read suppressed', async () => {
    const pty = new PtyPair({ dir });
    await pty.start();
    const driver = new ScannerDriver({
      deviceId: 'scan-serial',
      wire: 'serial',
      transport: () => new SerialTransport({ path: pty.driverPath, line: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } }),
      mqtt: { url, deviceId: 'scan-serial', secret: 'x' },
      postprocess: { prefix: 'PFX', duplicateWindowMs: 2000 },
    });
    await driver.start();
    const port = new SerialPort({ path: pty.devicePath, baudRate: 9600 });
    await new Promise<void>((r) => port.once('open', () => r()));
    try {
      // The scanner sends its configured prefix, a code, CR LF; the same code again at once.
      port.write(Buffer.from('PFXSO-20261111-001\r\nPFXSO-20261111-001\r\n\x00\xff\r\nPFX6901234567892\r\n', 'latin1'));
      await until('two scans', () => scans.filter((s) => s.deviceId === 'scan-serial').length >= 2);
      await new Promise((r) => setTimeout(r, 200));
      const codes = scans.filter((s) => s.deviceId === 'scan-serial').map((s) => s.payload.code);
      expect(codes).toEqual(['SO-20261111-001', '6901234567892']);
      const ids = scans.filter((s) => s.deviceId === 'scan-serial').map((s) => s.payload.msg_id);
      expect(new Set(ids).size).toBe(2);
      expect(driver.stats()).toMatchObject({ scans: 2, duplicates: 1 });
      expect(driver.stats().errors).toBeGreaterThanOrEqual(1); // the garbage line
    } finally {
      await new Promise<void>((r) => port.close(() => r()));
      await driver.stop();
      await pty.stop();
    }
  });

  it('evdev records from an input device (a FIFO here) → scans, in order', async () => {
    const fifo = join(dir, 'event0');
    execFileSync('mkfifo', [fifo]);
    const driver = new ScannerDriver({
      deviceId: 'scan-evdev',
      wire: 'evdev',
      transport: () => new FileTransport({ path: fifo }),
      mqtt: { url, deviceId: 'scan-evdev', secret: 'x' },
    });
    await driver.start();
    // linux/input-event-codes.h: KEY_7 = 8, KEY_3 = 4, KEY_1 = 2, KEY_0 = 11, KEY_ENTER = 28.
    const keys = [8, 4, 2, 11, 11, 28];
    const records: Uint8Array[] = [];
    for (const code of keys) {
      for (const value of [1, 0]) {
        records.push(encodeInputEvent({ sec: 1, usec: 0, type: EV_KEY, code, value }, 64));
        records.push(encodeInputEvent({ sec: 1, usec: 0, type: EV_SYN, code: 0, value: 0 }, 64));
      }
    }
    // Opening a FIFO for writing waits for its reader: open it off the event loop.
    const fh = await open(fifo, 'w');
    try {
      for (const r of records) await fh.write(r);
      await until('evdev scan', () => scans.some((s) => s.deviceId === 'scan-evdev'));
      expect(scans.filter((s) => s.deviceId === 'scan-evdev').map((s) => s.payload.code)).toEqual(['73100']);
    } finally {
      await fh.close();
      await driver.stop();
    }
  });
});
