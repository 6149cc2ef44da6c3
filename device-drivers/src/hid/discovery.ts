/**
 * HID discovery beside the serial one (discovery/serial-discovery.ts): every enumerated HID
 * interface with the definition that claims it and the identity to configure it by
 * (`vid:pid[:serial]`), or `unsupported` with the reason — listed, never dropped, so the
 * operator sees the scanner that is in the wrong mode or the scale nobody described yet.
 */
import type { HidBinding, HidDeviceInfo } from './binding.js';
import { claimingDefinitions, type HidDeviceDefinition } from './definitions.js';
import { formatHidIdentity, identityOf } from './identity.js';

export type DiscoveredHid =
  | {
      readonly status: 'matched';
      readonly device: HidDeviceInfo;
      readonly identity: string;
      readonly definition: HidDeviceDefinition;
      readonly alternatives: readonly HidDeviceDefinition[];
      /** Keyboard-wedge scanners: kernel input devices still typing its scans (null: unknown). */
      readonly keystrokeLeaks?: readonly string[] | null;
    }
  | { readonly status: 'unsupported'; readonly device: HidDeviceInfo; readonly identity: string; readonly why: string };

const hex = (n: number | undefined) => (n === undefined ? '?' : `0x${n.toString(16).padStart(2, '0')}`);

export async function discoverHid(binding: HidBinding): Promise<DiscoveredHid[]> {
  const devices = await binding.devices();
  const rows = await Promise.all(
    devices.map(async (device): Promise<DiscoveredHid> => {
      const identity = formatHidIdentity(identityOf(device));
      const [best, ...rest] = claimingDefinitions(device);
      if (best === undefined) {
        return {
          status: 'unsupported',
          device,
          identity,
          why: `no definition claims usage page ${hex(device.usagePage)} usage ${hex(device.usage)} of ${identity}`,
        };
      }
      if (best.class !== 'keyboard-wedge-scanner') return { status: 'matched', device, identity, definition: best, alternatives: rest };
      const keystrokeLeaks = (await binding.keystrokeLeaks?.(device.path)) ?? null;
      return { status: 'matched', device, identity, definition: best, alternatives: rest, keystrokeLeaks };
    }),
  );
  return rows.sort((a, b) => a.identity.localeCompare(b.identity) || a.device.path.localeCompare(b.device.path));
}
