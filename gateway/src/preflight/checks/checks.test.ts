import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { buildReport, exitCodeOf, formatReport } from '../report.js';
import { checkClock } from './clock.js';
import { checkCloud } from './cloud.js';
import { checkConfig } from './config.js';
import { checkDevices, type DeviceReach } from './devices.js';
import { checkLabelTemplates } from './label-templates.js';
import { DEFAULT_BYTES_PER_EVENT, bufferHours, checkDisk, type DiskInput } from './disk.js';
import { checkPrinterMedia, mediaState } from './printer-media.js';
import { checkScales } from './scales.js';
import { checkScanners } from './scanners.js';
import { checkShopAuth } from './shop-auth.js';
import { checkTestPrint } from './test-print.js';
import { checkWaybillCoverage } from './waybill.js';

const NOW = Date.UTC(2026, 10, 10, 20, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

const dev = (o: Partial<DeviceReach> & { id: string }): DeviceReach => ({
  role: 'scanner',
  boundTo: 'st-1',
  online: true,
  state: 'online',
  reason: null,
  offlineSince: null,
  ...o,
});

describe('report', () => {
  it('takes the worst status and maps it to the exit code', () => {
    const r = buildReport(
      [
        { id: 'a', title: 'A', status: 'pass', detail: 'ok' },
        { id: 'b', title: 'B', status: 'warn', detail: 'hmm\nsecond line' },
      ],
      NOW,
    );
    expect(r.status).toBe('warn');
    expect(exitCodeOf(r.status)).toBe(1);
    expect(exitCodeOf('pass')).toBe(0);
    expect(exitCodeOf('fail')).toBe(2);
    const text = formatReport(r);
    expect(text).toContain('[PASS] A');
    expect(text).toContain('[WARN] B\n       hmm\n       second line');
    expect(text).toContain('Result: WARN (1 pass, 1 warn, 0 fail)');
  });
});

describe('devices', () => {
  it('passes when all are online, fails for a station device offline, warns for an unbound one', () => {
    expect(checkDevices([dev({ id: 'sc-1' }), dev({ id: 'pr-1', role: 'printer' })], NOW).status).toBe('pass');
    const spare = checkDevices([dev({ id: 'sc-1' }), dev({ id: 'pr-9', role: 'printer', boundTo: null, online: false, offlineSince: NOW - 3 * MIN })], NOW);
    expect(spare.status).toBe('warn');
    expect(spare.detail).toContain('pr-9 (printer) offline for 3 min');
    const down = checkDevices(
      [dev({ id: 'pr-1', role: 'printer', online: false, state: 'offline', reason: 'connection refused', offlineSince: NOW - 20 * MIN })],
      NOW,
    );
    expect(down.status).toBe('fail');
    expect(down.detail).toContain('pr-1 (printer at st-1) offline for 20 min: connection refused');
    expect(down.data).toMatchObject({ total: 1, online: 0, offline: ['pr-1'] });
  });
});

describe('printer media', () => {
  it('reads media from the retained state', () => {
    expect(mediaState({ id: 'p', online: true, state: 'online', reason: null })).toBe('ok');
    expect(mediaState({ id: 'p', online: true, state: 'error', reason: 'ribbon_out' })).toBe('ribbon_out');
    expect(mediaState({ id: 'p', online: true, state: 'error', reason: 'status_timeout' })).toBe('fault');
    expect(mediaState({ id: 'p', online: false, state: 'offline', reason: null })).toBe('offline');
    expect(mediaState({ id: 'p', online: true, state: null, reason: null })).toBe('unknown');
  });
  it('fails on paper or ribbon out, warns without a status', () => {
    expect(checkPrinterMedia([{ id: 'p1', online: true, state: 'online', reason: null }]).status).toBe('pass');
    const out = checkPrinterMedia([
      { id: 'p1', online: true, state: 'online', reason: null },
      { id: 'p2', online: true, state: 'error', reason: 'paper_out' },
    ]);
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('p2: paper_out');
    expect(checkPrinterMedia([{ id: 'p1', online: true, state: null, reason: null }]).status).toBe('warn');
  });
});

describe('scales', () => {
  it('passes at zero and stable, warns off zero, unstable or unheard', () => {
    expect(checkScales([{ id: 's1', online: true, last: { grams: 2, stable: true, at: NOW - MIN } }], 5, NOW).status).toBe('pass');
    const r = checkScales(
      [
        { id: 's1', online: true, last: { grams: 340, stable: true, at: NOW - MIN } },
        { id: 's2', online: true, last: { grams: 0, stable: false, at: NOW - 10_000 } },
        { id: 's3', online: false, last: null },
      ],
      5,
      NOW,
    );
    expect(r.status).toBe('warn');
    expect(r.detail.split('\n')).toEqual([
      's1: reads 340 g, not zero: empty the pan and zero it',
      's2: not stable (0 g, 10 s ago)',
      's3: no reading since the gateway started (offline)',
    ]);
  });
});

describe('scanners', () => {
  it('warns for a scanner not heard within the window', () => {
    expect(checkScanners([{ id: 'sc1', online: true, lastScanAt: NOW - 5 * MIN }], 30, NOW).status).toBe('pass');
    const r = checkScanners(
      [
        { id: 'sc1', online: true, lastScanAt: NOW - 45 * MIN },
        { id: 'sc2', online: false, lastScanAt: null },
      ],
      30,
      NOW,
    );
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('sc1: last scan 45 min ago');
    expect(r.detail).toContain('sc2: no scan since the gateway started (offline)');
  });
});

describe('waybill coverage', () => {
  it('passes at the alarm share, warns below, fails below half of it', () => {
    expect(checkWaybillCoverage({ open: 0, withWaybill: 0 }, 90).status).toBe('pass');
    expect(checkWaybillCoverage({ open: 100, withWaybill: 95 }, 90).status).toBe('pass');
    expect(checkWaybillCoverage({ open: 100, withWaybill: 60 }, 90)).toMatchObject({ status: 'warn', data: { percent: 60 } });
    expect(checkWaybillCoverage({ open: 100, withWaybill: 40 }, 90).status).toBe('fail');
  });
});

describe('shop authorisations', () => {
  const fresh = (shops: Array<{ shop: string; expires_at: number | null }>) => ({ shops, fetchedAt: NOW, fromCache: false });
  it('warns within the window, fails once expired, passes otherwise', () => {
    expect(
      checkShopAuth(
        fresh([
          { shop: 'tmall-1', expires_at: NOW + 200 * DAY },
          { shop: 'jd', expires_at: null },
        ]),
        null,
        30,
        NOW,
      ).status,
    ).toBe('pass');
    const soon = checkShopAuth(fresh([{ shop: 'tmall-1', expires_at: NOW + 12 * DAY }]), null, 30, NOW);
    expect(soon.status).toBe('warn');
    expect(soon.detail).toContain('tmall-1: expires in 12 days (2026-11-22)');
    const expired = checkShopAuth(
      fresh([
        { shop: 'pdd-7', expires_at: NOW - 2 * DAY },
        { shop: 'tmall-1', expires_at: NOW + 12 * DAY },
      ]),
      null,
      30,
      NOW,
    );
    expect(expired.status).toBe('fail');
    expect(expired.detail).toContain('pdd-7: EXPIRED 2 days ago');
  });
  it('is a warning when unknown, and says how old a stored answer is', () => {
    expect(checkShopAuth(null, 'cloud sync not configured (sync.url)', 30, NOW)).toMatchObject({
      status: 'warn',
      detail: 'unknown: cloud sync not configured (sync.url)',
    });
    const cached = checkShopAuth(
      { shops: [{ shop: 'a', expires_at: NOW + 100 * DAY }], fetchedAt: NOW - 3 * 3_600_000, fromCache: true },
      'cloud unreachable',
      30,
      NOW,
    );
    expect(cached.status).toBe('warn');
    expect(cached.detail).toContain('as the cloud said 3 h ago; now: cloud unreachable');
  });
});

describe('disk and offline buffer', () => {
  const base: DiskInput = {
    dataDir: '/var/lib/packline',
    freeBytes: 10 * 1024 ** 3,
    reserveBytes: 200 * 1024 ** 2,
    storeBytes: 500 * 1024 ** 2,
    events: 1_000_000,
    peakShipmentsPerHour: 3_000,
    eventsPerShipment: 6,
    warnHours: 72,
    failHours: 8,
  };
  it('measures bytes per event from the store and turns free space into hours', () => {
    // 524 B/event × 6 × 3000/h = 9.4 MB/h; (10 GiB − 200 MiB) / that ≈ 1071 h.
    expect(bufferHours(base)).toBeCloseTo((base.freeBytes - base.reserveBytes) / ((base.storeBytes / base.events) * 6 * 3000), 6);
    const r = checkDisk(base);
    expect(r.status).toBe('pass');
    expect(r.data).toMatchObject({ bytesPerEvent: 524, measured: true, freeMb: 10240 });
  });
  it('assumes a figure until the log holds enough events', () => {
    const r = checkDisk({ ...base, events: 10, storeBytes: 4 * 1024 ** 2 });
    expect(r.data).toMatchObject({ bytesPerEvent: DEFAULT_BYTES_PER_EVENT, measured: false });
  });
  it('warns under the warn hours and fails under the fail hours', () => {
    const perHour = (base.storeBytes / base.events) * 6 * 3000;
    expect(checkDisk({ ...base, freeBytes: base.reserveBytes + perHour * 30 }).status).toBe('warn');
    expect(checkDisk({ ...base, freeBytes: base.reserveBytes + perHour * 4 }).status).toBe('fail');
    expect(checkDisk({ ...base, freeBytes: base.reserveBytes / 2 }).data).toMatchObject({ bufferHours: 0 });
  });
});

describe('clock', () => {
  it('trusts NTP, falls back to the cloud offset, warns when unknown', () => {
    expect(checkClock({ ntpSynchronized: true, offsetMs: null, offsetSource: null }, 5000).status).toBe('pass');
    expect(checkClock({ ntpSynchronized: null, offsetMs: 120, offsetSource: 'cloud server_time' }, 5000).status).toBe('pass');
    expect(checkClock({ ntpSynchronized: null, offsetMs: -9000, offsetSource: 'cloud Date header' }, 5000)).toMatchObject({
      status: 'warn',
      detail: 'clock behind the cloud by 9 s (cloud Date header)',
    });
    expect(checkClock({ ntpSynchronized: true, offsetMs: 600_000, offsetSource: 'cloud server_time' }, 5000).status).toBe('fail');
    expect(checkClock({ ntpSynchronized: false, offsetMs: null, offsetSource: null }, 5000).status).toBe('warn');
    expect(checkClock({ ntpSynchronized: null, offsetMs: null, offsetSource: null }, 5000).detail).toContain('unknown');
  });
});

describe('cloud', () => {
  const link = { state: 'online', backlog: 3, failed: 0 };
  it('passes a quick signed ping, warns when slow or not configured, fails with no answer', () => {
    expect(checkCloud({ enabled: true, url: 'https://erp', transport: 'https', ping: { ok: true, latencyMs: 42.4, ackedSeq: 9 }, link }, 2000)).toMatchObject({
      status: 'pass',
      detail: 'https://erp answered a signed ping in 42 ms; link online, backlog 3 event(s)',
    });
    expect(checkCloud({ enabled: true, url: 'https://erp', transport: 'https', ping: { ok: true, latencyMs: 2500, ackedSeq: 9 }, link }, 2000).status).toBe(
      'warn',
    );
    expect(checkCloud({ enabled: false, url: null, transport: 'none', ping: null, link }, 2000).status).toBe('warn');
    const down = checkCloud(
      {
        enabled: true,
        url: 'https://erp',
        transport: 'https',
        ping: { ok: false, latencyMs: 10, error: 'refused', answered: false },
        link: { ...link, state: 'offline' },
      },
      2000,
    );
    expect(down.status).toBe('fail');
  });
});

describe('config', () => {
  const devices = [
    { id: 'sc-1', role: 'scanner' },
    { id: 'sa-1', role: 'scale' },
    { id: 'pr-1', role: 'printer' },
  ];
  it('passes a complete floor with a cloud and an alert channel', () => {
    const c = parseConfig({
      devices,
      stations: [{ id: 'st-1', scanner: 'sc-1', scale: 'sa-1', printer: 'pr-1' }],
      sync: { url: 'https://erp.example.com' },
      notify: { channels: [{ type: 'webhook', url: 'https://hooks.example.com/x', format: 'json' }] },
    });
    expect(checkConfig(c).status).toBe('pass');
  });
  it('warns about unused devices, no alert channel and no cloud', () => {
    const c = parseConfig({
      devices: [...devices, { id: 'pr-9', role: 'printer' }],
      stations: [{ id: 'st-1', scanner: 'sc-1', scale: 'sa-1', printer: 'pr-1' }],
    });
    const r = checkConfig(c);
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('pr-9 (printer)');
    expect(r.detail).toContain('no alert channels');
    expect(r.detail).toContain('no cloud (sync.url)');
  });
  it('fails a config the schema refuses', () => {
    const bad = { ...parseConfig({}), stations: [{ id: 'st-1', scanner: 'nope', scale: 'nope2', printer: 'nope3', channel: 1, verifyItems: 'always' }] };
    const r = checkConfig(bad as never);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('stations.0.scanner');
  });
});

describe('test print', () => {
  it('passes when every page was sent and fails naming the printer that was not', () => {
    expect(checkTestPrint([{ printerId: 'p1', ok: true, jobId: 'T-1' }]).status).toBe('pass');
    const r = checkTestPrint([
      { printerId: 'p1', ok: true, jobId: 'T-1' },
      { printerId: 'p2', ok: false, code: 'PKL_PRINTER_UNAVAILABLE', message: 'Printer p2 is unavailable' },
    ]);
    expect(r).toMatchObject({ status: 'fail', detail: 'p2: PKL_PRINTER_UNAVAILABLE Printer p2 is unavailable' });
  });
});

describe('label templates drawable', () => {
  it('passes with the bundled font and FAILS (not warns) when a template cannot draw its text, naming the fix', () => {
    expect(checkLabelTemplates(parseConfig({})).status).toBe('pass');
    const bad = checkLabelTemplates(parseConfig({ printing: { templates: { font: '/nonexistent/font.ttc' } } }));
    expect(bad.status).toBe('fail');
    expect(bad.detail).toContain('PKL_TEMPLATE_FONT_INVALID');
    expect(bad.detail).toContain('fix: set printing.templates.font');
  });
});
