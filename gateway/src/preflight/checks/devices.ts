/**
 * Every configured device reachable: connected to the broker and not reporting `offline` on
 * its retained state (a driver-hosted printer keeps its MQTT session while the printer itself
 * is unplugged, and says so with `offline`). A device a station or line needs is a fail; an
 * unbound one (a spare printer, a display) only a warning.
 */
import { type CheckResult, humanDuration } from '../report.js';

export interface DeviceReach {
  id: string;
  role: string;
  /** Station or line that needs it, or null (spare, display, PDA). */
  boundTo: string | null;
  online: boolean;
  /** Last retained state (`online`, `offline`, `error`) and its reason, if any was seen. */
  state: string | null;
  reason: string | null;
  /** Epoch ms since when it has been offline (null when online or unknown). */
  offlineSince: number | null;
}

export function checkDevices(devices: DeviceReach[], now: number): CheckResult {
  const down = devices.filter((d) => !d.online);
  const needed = down.filter((d) => d.boundTo !== null);
  const describe = (d: DeviceReach) =>
    `${d.id} (${d.role}${d.boundTo ? ` at ${d.boundTo}` : ''}) offline${d.offlineSince !== null ? ` for ${humanDuration(now - d.offlineSince)}` : ''}${d.reason ? `: ${d.reason}` : ''}`;
  const data = { total: devices.length, online: devices.length - down.length, offline: down.map((d) => d.id) };
  if (devices.length === 0) return { id: 'devices', title: 'Devices reachable', status: 'warn', detail: 'no devices configured', data };
  if (down.length === 0) return { id: 'devices', title: 'Devices reachable', status: 'pass', detail: `all ${devices.length} devices online`, data };
  return {
    id: 'devices',
    title: 'Devices reachable',
    status: needed.length > 0 ? 'fail' : 'warn',
    detail: `${down.length} of ${devices.length} offline:\n${down.map(describe).join('\n')}`,
    data,
  };
}
