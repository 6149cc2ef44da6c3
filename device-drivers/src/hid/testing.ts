/** Fixtures shared by the HID tests (test-only; not used by drivers). */

/**
 * The report descriptor of a USB HID POS scale (the layout Dymo/Stamps.com-class scales
 * publish), annotated per HID 1.11 §6.2.2 items.
 */
export const SCALE_REPORT_DESCRIPTOR = Uint8Array.of(
  0x05, 0x8d, // Usage Page (Scales 0x8D)
  0x09, 0x01, // Usage (Scales)
  0xa1, 0x01, // Collection (Application)
  0x85, 0x01, //   Report ID (1)
  0x09, 0x30, //   Usage (Scale Attribute Report)
  0xa1, 0x02, //   Collection (Logical)
  0x75, 0x08, //     Report Size (8)
  0x95, 0x02, //     Report Count (2)
  0x15, 0x00, 0x25, 0xff, // Logical Min 0, Max 255
  0x09, 0x21, 0x09, 0x50, //  Usage (Scale Class), Usage (Weight Unit)
  0xb1, 0x02, //     Feature (Data,Var,Abs)
  0xc0, //         End Collection
  0x09, 0x31, //   Usage (Scale Control Report)
  0xa1, 0x02, //   Collection (Logical)
  0x85, 0x02, //     Report ID (2)
  0x75, 0x01, //     Report Size (1)
  0x95, 0x02, //     Report Count (2)
  0x15, 0x00, 0x25, 0x01, // Logical Min 0, Max 1
  0x09, 0x81, //     Usage (Enforced Zero Return)
  0x09, 0x80, //     Usage (Zero Scale)
  0x91, 0x02, //     Output (Data,Var,Abs)
  0x75, 0x06, //     Report Size (6)
  0x95, 0x01, //     Report Count (1)
  0x91, 0x03, //     Output (Const) — padding
  0xc0, //         End Collection
  0x09, 0x32, //   Usage (Scale Data Report)
  0xa1, 0x02, //   Collection (Logical)
  0x85, 0x03, //     Report ID (3)
  0x75, 0x08, 0x95, 0x05, // Report Size 8, Count 5: status, unit, exponent, weight lo, hi
  0x09, 0x70, 0x09, 0x50, 0x09, 0x41, 0x09, 0x40, 0x09, 0x40,
  0x81, 0x02, //     Input (Data,Var,Abs)
  0xc0, //         End Collection
  0xc0, //       End Collection
);

