/**
 * Metrics proven against the store: a real `packline start` child ships, intercepts, abandons
 * and refuses a known number of parcels at a station, and its DWS line sorts parcels shipped at
 * the station plus parcels it ships itself; then every counter is checked against the database
 * (through the API) and against the known numbers:
 * `packline_shipments_total{result}` (each parcel once), `packline_parcels_shipped_total` per
 * station and per line (the dashboard's parcels per hour read the same events), and the
 * refused scans changing no counter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { device, floorConfig, importOrders, Inbox, lineDevice, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-metrics-'));
let child: ChildGateway | null = null;
afterAll(() => {
  child?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const SHIP = 5;
const INTERCEPT = 2;
const ABANDON = 3;
const REFUSE = 4;
const LINE_SHIPS = 2; // parcels the DWS line ships itself (never seen at a station)

async function series(g: ChildGateway, prefix: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${g.httpUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n'))
    if (line.startsWith(prefix)) out.set(line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return out;
}

describe('metrics against the store', () => {
  it('counts each parcel once, abandoned ones too, and the DWS line its sorted parcels', async () => {
    const dataDir = join(dir, 'data');
    const configFile = join(dir, 'packline.json');
    writeFileSync(configFile, JSON.stringify(floorConfig(dataDir, { stations: 1, lines: 1, verifyItems: 'never' })));
    const item = { sku: 'SKU-1', barcode: '6900000000011', qty: 1, unit_grams: 300 };
    const ship = Array.from({ length: SHIP }, (_, i) => wireOrder(`M-S${i}`, { items: [item] }));
    const intercept = Array.from({ length: INTERCEPT }, (_, i) => wireOrder(`M-I${i}`, { items: [item], flags: { cancelled: true } }));
    const abandon = Array.from({ length: ABANDON }, (_, i) => wireOrder(`M-A${i}`, { items: [item] }));
    const lineOnly = Array.from({ length: LINE_SHIPS }, (_, i) => wireOrder(`M-L${i}`, { items: [item] }));
    child = await startChildGateway(configFile, dataDir);
    const g = child;
    expect((await importOrders(g.httpUrl, g.tokens.admin, [...ship, ...intercept, ...abandon, ...lineOnly])).status).toBe(200);

    const st = stationDevices(1);
    const connect = (id: string) => device(g.mqttUrl, id, g.secrets[id] as string);
    const scanner = await connect(st.scanner);
    const scale = await connect(st.scale);
    const printer = await connect(st.printer);
    const replies = await Inbox.open(scanner, replyTopics(st.scanner));
    const printerIn = await Inbox.open(printer, [`dev/${st.printer}/cmd/print`, ...replyTopics(st.printer)]);
    await printer.publishAsync(`dev/${st.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
    let n = 0;
    const scan = async (code: string) => {
      const id = `s${n++}`;
      await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: id, code }), { qos: 1 });
      return replies.next((m) => m.payload.msg_id === id);
    };
    const weigh = (grams: number) => scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams, stable: true }), { qos: 1 });

    // Abandoned: scanned, then the next order scanned before the parcel shipped.
    for (const o of abandon) expect((await scan(String(o.order_id))).topic).toMatch(/ack$/);
    // Intercepted at the scan.
    for (const o of intercept) expect((await scan(String(o.order_id))).payload.code).toBe('PKL_INTERCEPT_CANCELLED');
    // Refused: codes that are no order (nothing opens, nothing counts).
    for (let i = 0; i < REFUSE; i++) expect((await scan(`NO-SUCH-${i}`)).topic).toMatch(/err$/);
    // Shipped at the station: scan, weigh, label printed.
    const seenJobs = new Set<string>();
    for (const o of ship) {
      expect((await scan(String(o.order_id))).topic).toMatch(/ack$/);
      await weigh(0);
      await weigh(wireOrderGrams(o));
      const job = await printerIn.next((m) => m.topic.endsWith('/cmd/print') && !seenJobs.has(String(m.payload.job_id)));
      seenJobs.add(String(job.payload.job_id));
      const pid = `p${n++}`;
      await printer.publishAsync(`dev/${st.printer}/evt/print_result`, JSON.stringify({ msg_id: pid, job_id: job.payload.job_id, status: 'printed' }), {
        qos: 1,
      });
      expect((await printerIn.next((m) => m.payload.msg_id === pid)).topic).toMatch(/ack$/);
    }
    // The DWS line sorts the station's parcels (already shipped) and ships two of its own.
    const l = lineDevice(1);
    const dws = await connect(l.dws);
    const diverts = await Inbox.open(dws, `dev/${l.dws}/cmd/divert`);
    let seq = 0;
    for (const o of [...ship, ...lineOnly]) {
      seq++;
      await dws.publishAsync(
        `dev/${l.dws}/evt/parcel`,
        JSON.stringify({ msg_id: `t${seq}`, seq, barcode: String(o.order_id), grams: wireOrderGrams(o), length_mm: 300, width_mm: 200, height_mm: 100 }),
        { qos: 1 },
      );
      const want = seq;
      expect((await diverts.next((m) => m.payload.seq === want)).payload).toMatchObject({ reason: 'carrier' });
    }

    // The store's account, through the API.
    const res = await fetch(`${g.httpUrl}/api/v1/shipments?limit=100`, { headers: { authorization: `Bearer ${g.tokens.admin}` } });
    const rows = ((await res.json()) as { shipments: Array<{ state: string; station_id: string }> }).shipments;
    const byState = (s: string) => rows.filter((r) => r.state === s).length;
    expect(byState('shipped')).toBe(SHIP + LINE_SHIPS);
    expect(byState('abandoned')).toBe(ABANDON);
    expect(byState('intercepted')).toBe(INTERCEPT);

    const results = await series(g, 'packline_shipments_total{');
    expect(results.get('packline_shipments_total{result="shipped"}')).toBe(byState('shipped'));
    expect(results.get('packline_shipments_total{result="abandoned"}')).toBe(byState('abandoned'));
    expect(results.get('packline_shipments_total{result="intercepted"}')).toBe(byState('intercepted'));
    const parcels = await series(g, 'packline_parcels_shipped_total{');
    expect(parcels.get('packline_parcels_shipped_total{kind="station",id="st-1"}')).toBe(SHIP);
    // The line's parcels: every parcel it sorted to a carrier's chute.
    expect(parcels.get('packline_parcels_shipped_total{kind="line",id="line-1"}')).toBe(SHIP + LINE_SHIPS);
    await Promise.all([scanner, scale, printer, dws].map((c) => c.endAsync(true)));
  }, 120_000);
});
