import net from 'node:net';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';
import { SerialTransport } from './serial.js';
import { TcpTransport } from './tcp.js';

const LINE = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;

describe('Backoff', () => {
  it('grows exponentially to the cap, jittered within [base/2, base], and resets', () => {
    let r = 0;
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, random: () => r });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 500]);
    r = 0.999999;
    expect(b.next()).toBe(1000);
    b.reset();
    expect(b.next()).toBe(100);
  });
  it('refuses nonsense settings', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('SerialTransport on the mock binding', () => {
  afterEach(() => SerialPortMock.binding.reset());

  it('opens with the line settings, moves bytes both ways, reports close once', async () => {
    // echo: the mock port sends back what is written, so both directions are exercised.
    SerialPortMock.binding.createPort('/dev/ttyMOCK0', { echo: true, record: true });
    const t = new SerialTransport({ path: '/dev/ttyMOCK0', line: LINE, binding: SerialPortMock.binding });
    const got: Buffer[] = [];
    const closes: string[] = [];
    t.onData((c) => got.push(Buffer.from(c)));
    t.onClose((r) => closes.push(r));
    await t.open();
    await t.write(Buffer.from('SI\r\n'));
    await expect.poll(() => Buffer.concat(got).toString()).toBe('SI\r\n');
    expect(t.description).toBe('/dev/ttyMOCK0');
    await t.close();
    await t.close();
    expect(closes).toEqual(['port closed']);
    await expect(t.write(Buffer.from('x'))).rejects.toThrow(/not open/);
  });

  it('rejects open for a missing port', async () => {
    const t = new SerialTransport({ path: '/dev/ttyNOPE', line: LINE, binding: SerialPortMock.binding });
    await expect(t.open()).rejects.toThrow();
  });
});

describe('TcpTransport', () => {
  it('connects, echoes through a server, and reports a peer close', async () => {
    const server = net.createServer((s) => s.on('data', (d) => (d.toString() === 'bye' ? s.destroy() : s.write(d))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const t = new TcpTransport({ host: '127.0.0.1', port });
    const got: string[] = [];
    const closed = new Promise<string>((r) => t.onClose(r));
    t.onData((c) => got.push(Buffer.from(c).toString()));
    await t.open();
    await t.write(Buffer.from('hello'));
    await expect.poll(() => got.join('')).toBe('hello');
    await t.write(Buffer.from('bye'));
    expect(await closed).toMatch(/closed by peer/);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('rejects open when nothing listens', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    await expect(new TcpTransport({ host: '127.0.0.1', port }).open()).rejects.toThrow(/ECONNREFUSED/);
  });
});
