/**
 * A station picks up where it was after kill -9: the open shipment, the items already
 * acknowledged and an unanswered label all come back, and the operator never scans an item
 * twice or gets a second label.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { device, floorConfig, importOrders, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-resume-'));
let child: ChildGateway | null = null;

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('restart in the middle of a parcel', () => {
  it('keeps acknowledged item scans and re-issues the unanswered label with the same job id', async () => {
    const dataDir = join(dir, 'data');
    const configFile = join(dir, 'packline.json');
    writeFileSync(configFile, JSON.stringify(floorConfig(dataDir, { stations: 1, lines: 0 })));
    const order = wireOrder('O-777', {
      items: [
        { sku: 'A', barcode: '6901111111118', qty: 2, unit_grams: 200 },
        { sku: 'B', barcode: '6902222222224', qty: 1, unit_grams: 100 },
      ],
    });
    const st = stationDevices(1);

    const connect = async (g: ChildGateway) => {
      const scanner = await device(g.mqttUrl, st.scanner, g.secrets[st.scanner] as string);
      const scale = await device(g.mqttUrl, st.scale, g.secrets[st.scale] as string);
      const printer = await device(g.mqttUrl, st.printer, g.secrets[st.printer] as string);
      for (const c of [scanner, scale, printer]) c.on('error', () => undefined);
      const jobs = await Inbox.open(printer, `dev/${st.printer}/cmd/print`);
      // Ready for commands: announce it (docs/mqtt.md), as printer drivers do.
      await printer.publishAsync(`dev/${st.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
      return {
        scanner,
        scale,
        printer,
        replies: await Inbox.open(scanner, replyTopics(st.scanner)),
        jobs,
        end: () => Promise.all([scanner, scale, printer].map((c) => c.endAsync(true).catch(() => undefined))),
      };
    };
    const scan = async (d: Awaited<ReturnType<typeof connect>>, id: string, code: string) => {
      await d.scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: id, code }), { qos: 1 });
      return d.replies.next((m) => m.payload.msg_id === id);
    };

    // First life: open the order and scan two of its three items, then pull the plug.
    child = await startChildGateway(configFile, dataDir);
    expect((await importOrders(child.httpUrl, child.tokens.admin, [order])).status).toBe(200);
    let d = await connect(child);
    expect((await scan(d, 'a1', 'O-777')).topic).toMatch(/ack$/);
    expect((await scan(d, 'a2', '6901111111118')).topic).toMatch(/ack$/);
    expect((await scan(d, 'a3', '6901111111118')).topic).toMatch(/ack$/);
    child.proc.kill('SIGKILL');
    await child.exited;
    await d.end();

    // Second life: only the last item is still needed; the weight gives the label.
    child = await startChildGateway(configFile, dataDir);
    d = await connect(child);
    const last = await scan(d, 'b1', '6902222222224');
    expect(last.topic, JSON.stringify(last.payload)).toMatch(/ack$/);
    await d.scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: 0, stable: true }), { qos: 1 });
    await d.scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: wireOrderGrams(order), stable: true }), { qos: 1 });
    const job = await d.jobs.next();
    const jobId = String(job.payload.job_id);
    child.proc.kill('SIGKILL');
    await child.exited;
    await d.end();

    // Third life: the label was sent but never answered; it comes again with the same job id
    // (printers treat job ids as idempotent), and its result ships the parcel.
    child = await startChildGateway(configFile, dataDir);
    d = await connect(child);
    const again = await d.jobs.next((m) => m.payload.job_id === jobId);
    expect(again.payload.shipment_id).toBe(job.payload.shipment_id);
    const printerAcks = await Inbox.open(d.printer, replyTopics(st.printer));
    await d.printer.publishAsync(`dev/${st.printer}/evt/print_result`, JSON.stringify({ msg_id: 'p1', job_id: jobId, status: 'printed' }), { qos: 1 });
    expect((await printerAcks.next((m) => m.payload.msg_id === 'p1')).topic).toMatch(/ack$/);
    const res = await fetch(`${child.httpUrl}/api/v1/shipments?order=O-777`, {
      headers: { authorization: `Bearer ${child.tokens.admin}` },
    });
    const body = (await res.json()) as { shipments: Array<{ state: string }> };
    expect(body.shipments.map((s) => s.state)).toEqual(['shipped']);
    await d.end();
  });
});
