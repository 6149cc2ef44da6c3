/**
 * The PDA simulator against the real gateway over MQTT-over-WebSocket: log-in, scan, the
 * station view on the PDA screen, task confirmation (docs/mqtt.md §7).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PdaSim } from '../../../simulators/src/devices/pda.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { floorConfig, importOrders, wireOrder } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-pda-'));
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('PDA simulator on the real gateway', () => {
  it('logs in, scans an order, sees it on the station view and confirms a task', async () => {
    const raw = floorConfig(join(dir, 'data'), { stations: 1, lines: 0 }) as { devices: Array<Record<string, string>> };
    raw.devices.push({ id: 'pda-7', role: 'pda', station: 'st-1' });
    const gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
    await gateway.start();
    cleanup.push(() => gateway.stop());
    const info = gateway.info();
    expect((await importOrders(info.httpUrl, info.tokens.admin, [wireOrder('O-PDA-1')])).status).toBe(200);

    const secret = info.issued.find((s) => s.deviceId === 'pda-7')?.secret as string;
    const pda = new PdaSim({ mqttUrl: info.wsUrl, deviceId: 'pda-7', secret, stationId: 'st-1' });
    await pda.start();
    cleanup.push(() => pda.stop());

    expect((await pda.login('王芳')).status).toBe('ack');
    const scan = await pda.scan('O-PDA-1');
    expect(scan.status).toBe('ack');
    const deadline = Date.now() + 10_000;
    while (pda.view?.order_id !== 'O-PDA-1' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pda.view).toMatchObject({ station_id: 'st-1', order_id: 'O-PDA-1', state: 'verifying' });
    expect(pda.view?.lines.map((l) => l.qty)).toEqual([1, 2]);
    expect((await pda.confirm('T-9', 'done', 'shelf B3')).status).toBe('ack');
    const other = await pda.scan('NOT-AN-ORDER-OR-ITEM');
    expect(other).toMatchObject({ status: 'error', error: { code: 'PKL_ITEM_WRONG' } });

    // Courier handover (docs/mqtt.md §8): a manifest opened at the office reaches the PDA as a
    // task; a parcel not shipped yet is refused with its code and the PDA's display says why.
    const res = await fetch(`${info.httpUrl}/api/v1/handover/manifests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.tokens.station}`, 'content-type': 'application/json' },
      body: JSON.stringify({ carrier: 'ZTO' }),
    });
    const manifest = (await res.json()) as { manifest_id: string };
    const taskDeadline = Date.now() + 10_000;
    while (pda.tasks.length === 0 && Date.now() < taskDeadline) await new Promise((r) => setTimeout(r, 50));
    expect(pda.tasks.at(-1)).toMatchObject({
      kind: 'handover_scan',
      manifest_id: manifest.manifest_id,
      carrier: 'ZTO',
      task_id: `handover:${manifest.manifest_id}`,
    });
    const refused = await pda.handoverScan(manifest.manifest_id, 'O-PDA-1');
    expect(refused).toMatchObject({ status: 'error', error: { code: 'PKL_HANDOVER_NOT_SHIPPED' } });
    const shown = Date.now() + 10_000;
    while (!pda.displays.some((d) => d.level === 'warn' && d.text.includes('O-PDA-1')) && Date.now() < shown) await new Promise((r) => setTimeout(r, 50));
    expect(pda.displays.some((d) => d.text.includes('O-PDA-1'))).toBe(true);
  });
});
