/**
 * What the screens show about devices: every configured device with online / offline / fault
 * and, for printers, the media state. Fed by the retained `dev/{id}/state` messages
 * (`DeviceState`: online | offline | error + reason, docs/mqtt.md) and by the broker's
 * presence (a device that dropped without its will reaching us is still offline).
 */
import type { Config } from '../config/schema.js';

export type DeviceStatus = 'online' | 'offline' | 'fault';

export interface DeviceHealth {
  device_id: string;
  role: string;
  /** The station or line the device belongs to, or null. */
  station: string | null;
  status: DeviceStatus;
  /** The device's own reason for an error or offline state (`paper_out`, a driver's `unplugged …`), else null. */
  reason: string | null;
  /** Printers only: `ok`, or the media problem the printer reported; null for other roles or when unknown. */
  media: string | null;
  /** When the last state message arrived (ms), or null if none since start. */
  since: number | null;
}

/**
 * Reasons printers and their drivers report that are about the media (docs/devices/printers.md:
 * Zebra ~HS paper-out / ribbon-out / head-open flags, TSPL status bits, IPP `media-empty`…).
 */
const MEDIA_REASON = /paper|media|ribbon|label|head|cover|roll/i;

export class DeviceBoard {
  private readonly states = new Map<string, { state: string; reason: string | null; at: number }>();
  private version = 0;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly isOnline: (deviceId: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** A `dev/{id}/state` message. Returns true when it changed what the board shows. */
  update(deviceId: string, state: string, reason: string | null): boolean {
    const prev = this.states.get(deviceId);
    this.states.set(deviceId, { state, reason, at: this.now() });
    const changed = prev?.state !== state || prev.reason !== reason;
    if (changed) this.version++;
    return changed;
  }

  /** Bumped on every change of a device's announced state (presence changes are read live). */
  get changes(): number {
    return this.version;
  }

  list(): DeviceHealth[] {
    return this.config.devices.map((d) => this.health(d.id, d.role, d.station ?? null));
  }

  get(deviceId: string): DeviceHealth {
    const d = this.config.devices.find((x) => x.id === deviceId);
    return this.health(deviceId, d?.role ?? 'unknown', d?.station ?? null);
  }

  private health(id: string, role: string, station: string | null): DeviceHealth {
    const st = this.states.get(id);
    const connected = this.isOnline(id);
    let status: DeviceStatus;
    if (!connected || st?.state === 'offline') status = 'offline';
    else if (st?.state === 'error') status = 'fault';
    else status = 'online';
    // Offline says why when the device (or its driver) said so: "unplugged", "not plugged in"…
    // Online with a reason is a warning the device's driver raised (a wedge scanner still typing into the console).
    const reason = st?.state === 'error' ? (st.reason ?? 'error') : status === st?.state ? (st.reason ?? null) : null;
    let media: string | null = null;
    if (role === 'printer' && connected) media = reason !== null && MEDIA_REASON.test(reason) ? reason : st === undefined ? null : 'ok';
    return { device_id: id, role, station, status, reason, media, since: st?.at ?? null };
  }
}
