/**
 * How a HID device is named in configuration: by what it is, never by the kernel node it got
 * this time. `vid:pid` (4 hex digits each, as `lsusb` prints them) or `vid:pid:serial` when
 * two identical devices sit on one station. `/dev/hidrawN` is refused: the number is handed
 * out in plug order and changes when the device is replugged or another one comes first.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { HidDeviceInfo } from './binding.js';

export interface HidIdentity {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber?: string;
}

const IDENTITY_RE = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.{1,126}))?$/;

/** The config spelling of an identity; `PKL_CONFIG_INVALID` for anything else. */
export function parseHidIdentity(text: string): HidIdentity {
  if (/^\/dev\/hidraw\d+$/.test(text)) {
    throw new PacklineError('PKL_CONFIG_INVALID', {
      reason: `HID device "${text}" names a kernel node that changes on replug; configure it by identity vid:pid[:serial] (see packline device discover)`,
    });
  }
  const m = IDENTITY_RE.exec(text);
  if (m === null) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `HID device "${text}" is not vid:pid[:serial] (hex, e.g. 0c2e:0b61)` });
  const id = { vendorId: parseInt(m[1] ?? '', 16), productId: parseInt(m[2] ?? '', 16) };
  return m[3] === undefined ? id : { ...id, serialNumber: m[3] };
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export function formatHidIdentity(id: HidIdentity): string {
  return `${hex4(id.vendorId)}:${hex4(id.productId)}${id.serialNumber === undefined ? '' : `:${id.serialNumber}`}`;
}

/** The identity to configure for an enumerated device (serial included when it has one). */
export function identityOf(d: HidDeviceInfo): HidIdentity {
  return d.serialNumber ? { vendorId: d.vendorId, productId: d.productId, serialNumber: d.serialNumber } : { vendorId: d.vendorId, productId: d.productId };
}

export function matchesIdentity(d: HidDeviceInfo, id: HidIdentity): boolean {
  return d.vendorId === id.vendorId && d.productId === id.productId && (id.serialNumber === undefined || d.serialNumber === id.serialNumber);
}
