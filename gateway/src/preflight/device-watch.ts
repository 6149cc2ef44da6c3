/**
 * What the gateway last heard from each device, for the preflight, the device metrics and
 * the operations alerts: broker presence (connect / disconnect), the retained
 * `dev/{id}/state` (online, offline, error + reason such as `paper_out`), the last scan and
 * the last weight. The weight stream is the busiest topic on the floor, so a reading is kept
 * as its raw bytes and only parsed when someone asks.
 */
import { parseTopic, topics } from '../../../contracts/topics.js';
import type { BrokerLink } from '../broker/link.js';
import type { Config } from '../config/schema.js';
import type { Component } from '../lib/component.js';

export interface DeviceSnapshot {
  id: string;
  role: string;
  /** Station or line that needs the device (printers of a print channel: the channel), or null. */
  boundTo: string | null;
  /** Connected to the broker AND not announcing `offline` on its state topic. */
  online: boolean;
  state: string | null;
  reason: string | null;
  /** Epoch ms since when it has been offline; null while online. */
  offlineSince: number | null;
  lastScanAt: number | null;
  lastWeight: { grams: number; stable: boolean; at: number } | null;
}

interface Heard {
  state: string | null;
  reason: string | null;
  offlineSince: number | null;
  lastScanAt: number | null;
  weightRaw: Buffer | null;
  weightAt: number | null;
}

export interface DeviceWatchOptions {
  config: Readonly<Config>;
  link: Pick<BrokerLink, 'subscribe' | 'connectedDevices' | 'onPresence'>;
  now?: () => number;
}

export class DeviceWatch implements Component {
  readonly name = 'device-watch';
  private readonly heard = new Map<string, Heard>();
  private readonly bound = new Map<string, string>();
  private readonly now: () => number;
  private started = false;

  constructor(private readonly opts: DeviceWatchOptions) {
    this.now = opts.now ?? Date.now;
    const c = opts.config;
    for (const ch of c.printing.channels) for (const p of ch.printers) this.bound.set(p, `channel ${ch.id}`);
    for (const s of c.stations) for (const id of [s.scanner, s.scale, s.printer]) this.bound.set(id, s.id);
    for (const l of c.lines) this.bound.set(l.device, l.id);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const at = this.now();
    const connected = this.opts.link.connectedDevices();
    // A configured device not connected at start has been offline since (at least) now.
    for (const d of this.opts.config.devices) this.entry(d.id).offlineSince = connected.has(d.id) ? null : at;
    this.opts.link.onPresence((deviceId, online) => {
      if (!this.started) return;
      const h = this.entry(deviceId);
      if (online) {
        if (h.state !== 'offline') h.offlineSince = null;
      } else h.offlineSince ??= this.now();
    });
    await this.opts.link.subscribe(topics.allDeviceStates, (msg) => {
      const p = parseTopic(msg.topic);
      if (p?.type !== 'state') return;
      let body: { state?: unknown; reason?: unknown };
      try {
        body = JSON.parse(msg.payload.toString('utf8')) as typeof body;
      } catch {
        return;
      }
      if (typeof body?.state !== 'string') return;
      const h = this.entry(p.deviceId);
      h.state = body.state;
      h.reason = typeof body.reason === 'string' ? body.reason : null;
      if (body.state === 'offline') h.offlineSince ??= this.now();
      else if (this.opts.link.connectedDevices().has(p.deviceId)) h.offlineSince = null;
    });
    await this.opts.link.subscribe(topics.event('+', 'scan'), (msg) => {
      const p = parseTopic(msg.topic);
      if (p?.type === 'event') this.entry(p.deviceId).lastScanAt = this.now();
    });
    await this.opts.link.subscribe(topics.event('+', 'weight'), (msg) => {
      const p = parseTopic(msg.topic);
      if (p?.type !== 'event') return;
      const h = this.entry(p.deviceId);
      h.weightRaw = msg.payload;
      h.weightAt = this.now();
    });
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  /** Every configured device, in config order. */
  devices(): DeviceSnapshot[] {
    return this.opts.config.devices.map((d) => this.snapshot(d.id, d.role));
  }

  snapshot(id: string, role = this.opts.config.devices.find((d) => d.id === id)?.role ?? 'unknown'): DeviceSnapshot {
    const h = this.heard.get(id);
    const connected = this.opts.link.connectedDevices().has(id);
    const online = connected && h?.state !== 'offline';
    return {
      id,
      role,
      boundTo: this.bound.get(id) ?? null,
      online,
      state: h?.state ?? null,
      reason: h?.reason ?? null,
      offlineSince: online ? null : (h?.offlineSince ?? null),
      lastScanAt: h?.lastScanAt ?? null,
      lastWeight: parseWeight(h),
    };
  }

  private entry(id: string): Heard {
    let h = this.heard.get(id);
    if (h === undefined) {
      h = { state: null, reason: null, offlineSince: null, lastScanAt: null, weightRaw: null, weightAt: null };
      this.heard.set(id, h);
    }
    return h;
  }
}

function parseWeight(h: Heard | undefined): DeviceSnapshot['lastWeight'] {
  if (h?.weightRaw == null || h.weightAt === null) return null;
  try {
    const w = JSON.parse(h.weightRaw.toString('utf8')) as { grams?: unknown; stable?: unknown };
    if (typeof w.grams !== 'number' || typeof w.stable !== 'boolean') return null;
    return { grams: w.grams, stable: w.stable, at: h.weightAt };
  } catch {
    return null;
  }
}
