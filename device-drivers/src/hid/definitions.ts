/**
 * USB HID devices Packline drives, as data: which enumerated interface (vendor id, product id,
 * usage page, usage) a definition claims, and how it is read. Discovery gives each enumerated
 * interface the highest-priority definition that claims it; anything unclaimed is listed as
 * unsupported, never guessed (a site's own keyboard must not become a scanner).
 *
 * Usage pages (HID Usage Tables 1.5 §3 / HID Point of Sale Usage Tables 1.02):
 *   0x01/0x06 Generic Desktop / Keyboard — a keyboard-wedge scanner (boot reports, HID 1.11 App. B.1)
 *   0x8C      Bar Code Scanner page — a HID POS scanner (scanned data reports)
 *   0x8D      Scales page — a HID POS scale (scale data reports)
 * Scale rows mirror the scale catalogue's HID definitions (`SCALE_DEFINITIONS`, transport
 * `hid`): `definitions.test.ts` fails when the two disagree.
 */
import { SCALE_DEFINITIONS } from '../scale/index.js';
import type { HidDeviceInfo } from './binding.js';

export const USAGE_PAGE = { genericDesktop: 0x01, barCodeScanner: 0x8c, scale: 0x8d } as const;
/** Generic Desktop usage 0x06 Keyboard (HID Usage Tables §4). */
export const USAGE_KEYBOARD = 0x06;

export type HidDeviceClass = 'keyboard-wedge-scanner' | 'hid-pos-scanner' | 'hid-pos-scale';

export interface HidMatch {
  readonly vendorId?: number;
  readonly productId?: number;
  readonly usagePage: number;
  readonly usage?: number;
}

export interface HidDeviceDefinition {
  readonly id: string;
  readonly class: HidDeviceClass;
  readonly vendor: string;
  readonly model: string;
  /** Any of these claims an enumerated interface. */
  readonly match: readonly HidMatch[];
  /** Higher wins when several definitions claim the same interface (vendor-specific over generic). */
  readonly priority: number;
  /** Scales: the scale catalogue definition that decodes it. */
  readonly scaleDefinition?: string;
  /** Facts not checked against a device. */
  readonly unverified?: readonly string[];
}

const wedge = (vendorId: number): HidMatch => ({ vendorId, usagePage: USAGE_PAGE.genericDesktop, usage: USAGE_KEYBOARD });
const pos = (vendorId: number): HidMatch => ({ vendorId, usagePage: USAGE_PAGE.barCodeScanner });

/** Scale rows come from the scale catalogue: one list of VID:PIDs, not two. */
function scaleRows(): HidDeviceDefinition[] {
  return SCALE_DEFINITIONS.filter((d) => d.transport === 'hid').map((d) => ({
    id: d.id,
    class: 'hid-pos-scale' as const,
    vendor: d.vendor,
    model: d.model,
    match: [...(d.match?.usb ?? []).map((u) => ({ vendorId: u.vendorId, productId: u.productId, usagePage: USAGE_PAGE.scale }))],
    priority: d.priority,
    scaleDefinition: d.id,
  }));
}

export const HID_DEVICE_DEFINITIONS: readonly HidDeviceDefinition[] = [
  {
    id: 'honeywell-hid-pos',
    class: 'hid-pos-scanner',
    vendor: 'Honeywell (Hand Held Products)',
    model: 'Voyager / Xenon / Granit in HID POS mode',
    match: [pos(0x0c2e)],
    priority: 50,
  },
  {
    id: 'honeywell-keyboard-wedge',
    class: 'keyboard-wedge-scanner',
    vendor: 'Honeywell (Hand Held Products)',
    model: 'Voyager / Xenon / Granit in USB keyboard mode',
    match: [wedge(0x0c2e)],
    priority: 50,
  },
  {
    id: 'zebra-keyboard-wedge',
    class: 'keyboard-wedge-scanner',
    vendor: 'Zebra (Symbol)',
    model: 'DS/LI series in HID keyboard emulation',
    match: [wedge(0x05e0)],
    priority: 50,
  },
  {
    id: 'datalogic-keyboard-wedge',
    class: 'keyboard-wedge-scanner',
    vendor: 'Datalogic',
    model: 'QuickScan / Gryphon in USB keyboard mode',
    match: [wedge(0x05f9)],
    priority: 50,
    unverified: ['vendor id only; product ids vary by interface setting'],
  },
  {
    id: 'newland-keyboard-wedge',
    class: 'keyboard-wedge-scanner',
    vendor: 'Newland',
    model: 'HR/NLS series in USB keyboard mode',
    match: [wedge(0x1eab)],
    priority: 50,
    unverified: ['vendor id only; product ids vary by interface setting'],
  },
  {
    id: 'generic-hid-pos-scanner',
    class: 'hid-pos-scanner',
    vendor: 'Any',
    model: 'USB HID POS scanner (usage page 0x8C)',
    // The Bar Code Scanner page is only ever on scanners: claiming it by page alone is safe.
    match: [{ usagePage: USAGE_PAGE.barCodeScanner }],
    priority: 10,
    unverified: ['report layout beyond Honeywell/Access-IS (docs/devices/scanners.md)'],
  },
  ...scaleRows(),
  {
    id: 'generic-hid-pos-scale',
    class: 'hid-pos-scale',
    vendor: 'Any',
    model: 'USB HID POS scale (usage page 0x8D)',
    match: [{ usagePage: USAGE_PAGE.scale }],
    priority: 10,
    scaleDefinition: 'hid-pos-scale',
  },
];

function claims(m: HidMatch, d: HidDeviceInfo): boolean {
  return (
    (m.vendorId === undefined || m.vendorId === d.vendorId) &&
    (m.productId === undefined || m.productId === d.productId) &&
    m.usagePage === d.usagePage &&
    (m.usage === undefined || m.usage === d.usage)
  );
}

/** Definitions claiming an enumerated interface, best first. */
export function claimingDefinitions(d: HidDeviceInfo, definitions: readonly HidDeviceDefinition[] = HID_DEVICE_DEFINITIONS): HidDeviceDefinition[] {
  return definitions.filter((def) => def.match.some((m) => claims(m, d))).sort((a, b) => b.priority - a.priority);
}

export function hidDefinition(id: string): HidDeviceDefinition | undefined {
  return HID_DEVICE_DEFINITIONS.find((d) => d.id === id);
}
