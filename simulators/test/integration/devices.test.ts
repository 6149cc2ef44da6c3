/**
 * Each device simulator over real MQTT against a throwaway aedes broker (no gateway).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DwsLineSim } from '../../src/devices/dws-line.js';
import { LabelPrinterSim, labelFileName } from '../../src/devices/label-printer.js';
import { ScaleSim } from '../../src/devices/scale.js';
import { ScannerSim } from '../../src/devices/scanner.js';
import { observer, startBroker, type TestBroker, waitFor } from './harness.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});

describe('label printer sim', () => {
  it('writes each label to <labelsDir>/<job_id>.zpl and answers print_result printed', async () => {
    const labelsDir = mkdtempSync(join(tmpdir(), 'labels-'));
    const printer = new LabelPrinterSim({ mqttUrl: broker.url, deviceId: 'pr-a', secret: 'x', labelsDir, replyTimeoutMs: 200 });
    await printer.start();
    const obs = await observer(broker.url, ['dev/pr-a/evt/print_result', 'dev/pr-a/state']);
    const zpl = '^XA^FO20,20^A0N,30,30^FDZTO 73123456789012^FS^XZ';
    await obs.client.publishAsync('dev/pr-a/cmd/print', JSON.stringify({ job_id: 'J-1', shipment_id: 'S-1', format: 'zpl', data: zpl, copies: 1 }), { qos: 1 });
    const result = await waitFor(() => obs.messages.find((m) => m.topic.endsWith('print_result')));
    expect(result.payload).toMatchObject({ job_id: 'J-1', status: 'printed' });
    expect(typeof result.payload.msg_id).toBe('string');
    expect(readFileSync(join(labelsDir, 'J-1.zpl'), 'utf8')).toBe(zpl);
    expect(obs.messages.find((m) => m.topic === 'dev/pr-a/state')?.payload).toMatchObject({ state: 'online' });

    // Paper out: failed with a reason, no label file.
    printer.setFaults({ paperOut: true });
    await obs.client.publishAsync('dev/pr-a/cmd/print', JSON.stringify({ job_id: 'J-2', format: 'zpl', data: zpl, copies: 1 }), { qos: 1 });
    const failed = await waitFor(() => obs.messages.find((m) => m.payload?.job_id === 'J-2'));
    expect(failed.payload).toMatchObject({ status: 'failed', reason: 'paper_out' });
    expect(existsSync(join(labelsDir, 'J-2.zpl'))).toBe(false);
    // The record is complete once the gateway answered the result (here: the reply timed out).
    expect(await printer.whenPrinted('J-2', 5000)).toMatchObject({ status: 'failed', reply: { status: 'timeout' } });
    expect(printer.stats()).toEqual({ printed: 1, failed: 1, rejected: 0 });

    // A malformed command changes nothing but is answered as failed when it names a job.
    printer.setFaults({ paperOut: false });
    await obs.client.publishAsync('dev/pr-a/cmd/print', JSON.stringify({ job_id: '../../evil', format: 'pdf', data: 'x', copies: 1 }), { qos: 1 });
    const refused = await waitFor(() => obs.messages.find((m) => m.payload?.job_id === '../../evil'));
    expect(refused.payload.status).toBe('failed');
    expect(refused.payload.reason).toMatch(/format/);
    // Wire job ids never escape the labels directory.
    for (const id of ['../../evil', '/etc/passwd', '..', 'a\\b']) {
      const name = labelFileName(id);
      expect(name).not.toMatch(/[/\\]/);
      expect(name.startsWith('.')).toBe(false);
    }

    // Offline: the connection drops without DISCONNECT, so the broker publishes the will.
    await printer.goOffline();
    await waitFor(() => obs.messages.find((m) => m.topic === 'dev/pr-a/state' && m.payload.state === 'offline'));
    await printer.goOnline();
    await waitFor(() => obs.messages.filter((m) => m.topic === 'dev/pr-a/state' && m.payload.state === 'online').length === 2);
    await printer.stop();
    await obs.client.endAsync();
  });
});

describe('scale sim', () => {
  it('settles from unstable readings to a stable one near the load, then back to zero', async () => {
    const obs = await observer(broker.url, ['dev/sl-a/evt/weight']);
    const scale = new ScaleSim({
      mqttUrl: broker.url,
      deviceId: 'sl-a',
      secret: 'x',
      seed: 3,
      settleReadings: 4,
      readingIntervalMs: 5,
      replyTimeoutMs: 100,
      faults: { noiseGrams: 2 },
    });
    await scale.start();
    const w = await scale.place(1234);
    expect(w.stableGrams).not.toBeNull();
    expect(Math.abs((w.stableGrams as number) - 1234)).toBeLessThan(15);
    const placed = await waitFor(() => (obs.messages.length >= 5 ? obs.messages.slice(0, 5) : null));
    expect(placed.map((m) => m.payload.stable)).toEqual([false, false, false, false, true]);
    expect(placed[4]?.payload).toMatchObject({ grams: w.stableGrams, msg_id: w.msgId });
    // The readings close in on the load.
    expect(Math.abs(placed[0]?.payload.grams - 1234)).toBeGreaterThan(0);
    expect(await w.reply).toMatchObject({ status: 'timeout' }); // no gateway here to answer

    await scale.remove();
    const zero = await waitFor(() => (obs.messages.length >= 10 ? obs.messages[9] : null));
    expect(zero.payload.stable).toBe(true);
    expect(Math.abs(zero.payload.grams)).toBeLessThan(10);

    // Drift accumulates per parcel; an unstable scale never sends a stable reading.
    scale.setFaults({ noiseGrams: 0, driftGramsPerParcel: 100 });
    expect((await scale.place(500)).stableGrams).toBe(600);
    expect((await scale.place(500)).stableGrams).toBe(700);
    scale.setFaults({ unstable: true });
    const before = await waitFor(() => (obs.messages.length >= 20 ? obs.messages.length : null));
    const u = await scale.place(800);
    expect(u).toMatchObject({ stableGrams: null, reply: null });
    await waitFor(() => obs.messages.length >= before + 4);
    expect(obs.messages.slice(before).every((m) => m.payload.stable === false)).toBe(true);
    await scale.stop();
    await obs.client.endAsync();
  });
});

describe('DWS line sim', () => {
  it('records divert commands and falls back to the default chute on timeout', async () => {
    const line = new DwsLineSim({ mqttUrl: broker.url, deviceId: 'dws-a', secret: 'x', divertTimeoutMs: 2000, defaultChute: 'C-DEF', startSeq: 4_294_967_295 });
    await line.start();
    const obs = await observer(broker.url, ['dev/dws-a/evt/parcel']);
    // Answer only parcels with a barcode, like a sorter controller that knows the waybill.
    obs.client.on('message', (_t, buf) => {
      const p = JSON.parse(buf.toString());
      if (p.barcode) {
        obs.client.publish('dev/dws-a/cmd/divert', JSON.stringify({ seq: p.seq, barcode: p.barcode, chute: 'ZTO-3', reason: 'carrier' }), { qos: 1 });
      }
    });
    const dims = { grams: 820, lengthMm: 300, widthMm: 200, heightMm: 120 };
    const sorted = await line.induct({ barcode: '73123456789012', ...dims });
    expect(sorted).toMatchObject({ seq: 4_294_967_295, chute: 'ZTO-3', reason: 'carrier', timedOut: false });
    const noRead = await line.induct({ barcode: null, ...dims });
    // The sequence number wraps at 2^32.
    expect(noRead).toMatchObject({ seq: 0, barcode: null, chute: 'C-DEF', reason: 'timeout', timedOut: true });
    const telegram = obs.messages.find((m) => m.payload.seq === 0)?.payload;
    expect(telegram).toMatchObject({ barcode: null, grams: 820, length_mm: 300, width_mm: 200, height_mm: 120 });
    // A divert for a parcel no longer in flight is kept as stray, not applied.
    await obs.client.publishAsync('dev/dws-a/cmd/divert', JSON.stringify({ seq: 99, barcode: 'x', chute: 'Z', reason: 'late' }), { qos: 1 });
    await waitFor(() => line.strayDiverts.length === 1);
    expect(line.stats()).toMatchObject({ parcels: 2, timedOut: 1, inFlight: 0, stray: 1, chutes: { 'C-DEF': 1, 'ZTO-3': 1 } });
    await line.stop();
    await obs.client.endAsync();
  });
});

describe('scanner sim', () => {
  it('pairs each scan with its ack or coded err', async () => {
    const scanner = new ScannerSim({ mqttUrl: broker.url, deviceId: 'sc-a', secret: 'x', replyTimeoutMs: 2000 });
    await scanner.start();
    const gw = await observer(broker.url, ['dev/sc-a/evt/scan']);
    gw.client.on('message', (_t, buf) => {
      const ev = JSON.parse(buf.toString());
      if (ev.code === 'ORDER-1') gw.client.publish('dev/sc-a/ack', JSON.stringify({ msg_id: ev.msg_id, kind: 'scan', seq: 1 }));
      if (ev.code === 'BAD')
        gw.client.publish('dev/sc-a/err', JSON.stringify({ code: 'PKL_ORDER_NOT_FOUND', message: 'm', message_zh: 'z', details: { msg_id: ev.msg_id } }));
      // 'NOMSGID' is refused without saying which message: the oldest waiting scan gets it.
      if (ev.code === 'NOMSGID') gw.client.publish('dev/sc-a/err', JSON.stringify({ code: 'PKL_NO_OPEN_SHIPMENT', message: 'm', message_zh: 'z' }));
    });
    expect(await scanner.scan('ORDER-1')).toMatchObject({ status: 'ack', code: 'ORDER-1', ack: { kind: 'scan', seq: 1 } });
    expect(await scanner.scan('BAD')).toMatchObject({ status: 'error', error: { code: 'PKL_ORDER_NOT_FOUND' } });
    expect(await scanner.scan('NOMSGID')).toMatchObject({ status: 'error', error: { code: 'PKL_NO_OPEN_SHIPMENT' } });
    expect(await scanner.scan('SILENT')).toMatchObject({ status: 'timeout' });
    expect(scanner.results.map((r) => r.status)).toEqual(['ack', 'error', 'error', 'timeout']);
    await expect(scanner.client.publishEvent('scan', { code: '' })).rejects.toMatchObject({ code: 'PKL_PAYLOAD_INVALID' });
    expect(scanner.client.stats()).toMatchObject({ published: 4, acks: 1, timeouts: 1, errors: { PKL_NO_OPEN_SHIPMENT: 1, PKL_ORDER_NOT_FOUND: 1 } });
    await scanner.stop();
    await gw.client.endAsync();
  });
});
