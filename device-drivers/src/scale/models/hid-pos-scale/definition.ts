import type { ScaleDefinition } from '../../types.js';

/** USB HID POS scales (usage page 0x8D); VID:PID list from erjiang/usbscale `scales.h`; docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'hid-pos-scale',
  vendor: 'Various (Dymo, Mettler Toledo, Fairbanks, Stamps.com)',
  model: 'USB HID POS scale',
  description: '6-byte HID input reports: status, unit, exponent, 16-bit weight',
  protocol: 'hid-pos',
  transport: 'hid',
  match: {
    usb: [
      { vendorId: 0x0922, productId: 0x8003 }, // Dymo
      { vendorId: 0x0922, productId: 0x8004 }, // Dymo
      { vendorId: 0x0922, productId: 0x8009 }, // Dymo
      { vendorId: 0x0eb8, productId: 0xf000 }, // Mettler Toledo
      { vendorId: 0x0b67, productId: 0x555e }, // Fairbanks
      { vendorId: 0x1446, productId: 0x6a73 }, // Stamps.com
    ],
  },
  priority: 60,
  // zero: the Scale Control Report's Zero Scale usage, where the scale's report descriptor has
  // it (HID POS Usage Tables 1.02, page 0x8D usage 0x80); the page has no tare usage.
  capabilities: ['weight', 'zero'],
};
