import { describe, expect, it } from 'vitest';
import { Metrics, SCAN_TO_PRINT_BUCKETS } from './metrics.js';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('Metrics', () => {
  it('keeps its own registry: two instances do not share series', async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.shipment('intercepted');
    expect(value(await a.render(), 'packline_shipments_total{result="intercepted"}')).toBe(1);
    expect(value(await b.render(), 'packline_shipments_total{result="intercepted"}')).toBe(0);
    expect(await a.render()).not.toContain('process_cpu');
  });

  it('buckets scan-to-print from 1 ms to 2 s and ignores nonsense', async () => {
    const m = new Metrics({ defaultMetrics: false });
    expect(SCAN_TO_PRINT_BUCKETS[0]).toBe(0.001);
    expect(SCAN_TO_PRINT_BUCKETS.at(-1)).toBe(2);
    for (const s of [0.0005, 0.3, 5, Number.NaN, -1]) m.observeScanToPrint(s);
    const text = await m.render();
    expect(value(text, 'packline_scan_to_print_seconds_bucket{le="0.001"}')).toBe(1);
    expect(value(text, 'packline_scan_to_print_seconds_bucket{le="0.5"}')).toBe(2);
    expect(value(text, 'packline_scan_to_print_seconds_bucket{le="2"}')).toBe(2);
    expect(value(text, 'packline_scan_to_print_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(value(text, 'packline_scan_to_print_seconds_count')).toBe(3);
  });

  it('turns source totals into monotonic counters, surviving a source restart', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.setStoreCommitsTotal(10);
    m.setStoreCommitsTotal(15);
    expect(value(await m.render(), 'packline_store_commits_total')).toBe(15);
    m.setStoreCommitsTotal(4); // the store restarted and counts from 0 again
    expect(value(await m.render(), 'packline_store_commits_total')).toBe(19);
    m.mqttMessage('out');
    m.setMqttMessagesTotal('in', 5);
    m.setMqttMessagesTotal('in', 8);
    const text = await m.render();
    expect(value(text, 'packline_mqtt_messages_total{direction="in"}')).toBe(8);
    expect(value(text, 'packline_mqtt_messages_total{direction="out"}')).toBe(1);
  });

  it('runs collectors at scrape time, survives a failing one, and unregisters', async () => {
    const m = new Metrics({ defaultMetrics: false });
    let online = 3;
    const stop = m.collectFrom(async () => m.setDevicesOnline(online));
    m.collectFrom(() => {
      throw new Error('broker gone');
    });
    expect(value(await m.render(), 'packline_devices_online')).toBe(3);
    online = 5;
    expect(value(await m.render(), 'packline_devices_online')).toBe(5);
    stop();
    online = 9;
    expect(value(await m.render(), 'packline_devices_online')).toBe(5);
  });
});
