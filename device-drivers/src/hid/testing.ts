/** Fixtures shared by the HID tests (test-only; not used by drivers). */

/**
 * The report descriptor of a USB HID POS scale (the layout Dymo/Stamps.com-class scales
 * publish), annotated per HID 1.11 §6.2.2 items.
 */
export const SCALE_REPORT_DESCRIPTOR = Uint8Array.of(
  0x05,
  0x8d, // Usage Page (Scales 0x8D)
  0x09,
  0x01, // Usage (Scales)
  0xa1,
  0x01, // Collection (Application)
  0x85,
  0x01, //   Report ID (1)
  0x09,
  0x30, //   Usage (Scale Attribute Report)
  0xa1,
  0x02, //   Collection (Logical)
  0x75,
  0x08, //     Report Size (8)
  0x95,
  0x02, //     Report Count (2)
  0x15,
  0x00,
  0x25,
  0xff, // Logical Min 0, Max 255
  0x09,
  0x21,
  0x09,
  0x50, //  Usage (Scale Class), Usage (Weight Unit)
  0xb1,
  0x02, //     Feature (Data,Var,Abs)
  0xc0, //         End Collection
  0x09,
  0x31, //   Usage (Scale Control Report)
  0xa1,
  0x02, //   Collection (Logical)
  0x85,
  0x02, //     Report ID (2)
  0x75,
  0x01, //     Report Size (1)
  0x95,
  0x02, //     Report Count (2)
  0x15,
  0x00,
  0x25,
  0x01, // Logical Min 0, Max 1
  0x09,
  0x81, //     Usage (Enforced Zero Return)
  0x09,
  0x80, //     Usage (Zero Scale)
  0x91,
  0x02, //     Output (Data,Var,Abs)
  0x75,
  0x06, //     Report Size (6)
  0x95,
  0x01, //     Report Count (1)
  0x91,
  0x03, //     Output (Const) — padding
  0xc0, //         End Collection
  0x09,
  0x32, //   Usage (Scale Data Report)
  0xa1,
  0x02, //   Collection (Logical)
  0x85,
  0x03, //     Report ID (3)
  0x75,
  0x08,
  0x95,
  0x05, // Report Size 8, Count 5: status, unit, exponent, weight lo, hi
  0x09,
  0x70,
  0x09,
  0x50,
  0x09,
  0x41,
  0x09,
  0x40,
  0x09,
  0x40,
  0x81,
  0x02, //     Input (Data,Var,Abs)
  0xc0, //         End Collection
  0xc0, //       End Collection
);

/** Boot keyboard report descriptor (HID 1.11 Appendix E.6): 8-byte input reports, no report id. */
export const KEYBOARD_REPORT_DESCRIPTOR = Uint8Array.of(
  0x05,
  0x01,
  0x09,
  0x06,
  0xa1,
  0x01, // Generic Desktop / Keyboard, Collection (Application)
  0x05,
  0x07,
  0x19,
  0xe0,
  0x29,
  0xe7,
  0x15,
  0x00,
  0x25,
  0x01,
  0x75,
  0x01,
  0x95,
  0x08,
  0x81,
  0x02, // modifiers
  0x95,
  0x01,
  0x75,
  0x08,
  0x81,
  0x01, // reserved byte
  0x95,
  0x05,
  0x75,
  0x01,
  0x05,
  0x08,
  0x19,
  0x01,
  0x29,
  0x05,
  0x91,
  0x02, // LEDs (output)
  0x95,
  0x01,
  0x75,
  0x03,
  0x91,
  0x01, // LED padding
  0x95,
  0x06,
  0x75,
  0x08,
  0x15,
  0x00,
  0x25,
  0x65,
  0x05,
  0x07,
  0x19,
  0x00,
  0x29,
  0x65,
  0x81,
  0x00, // 6 key slots
  0xc0,
);

/** A HID POS scanner (page 0x8C, HID POS Usage Tables 1.02): report id 2, 63 data bytes. */
export const HID_POS_SCANNER_REPORT_DESCRIPTOR = Uint8Array.of(
  0x05,
  0x8c,
  0x09,
  0x02,
  0xa1,
  0x01, // Bar Code Scanner page, Usage (Bar Code Scanner), Collection (Application)
  0x85,
  0x02,
  0x09,
  0x12, // Report ID 2, Usage (Scanned Data Report)
  0x15,
  0x00,
  0x26,
  0xff,
  0x00,
  0x75,
  0x08,
  0x95,
  0x3f,
  0x81,
  0x02, // 63 bytes input
  0xc0,
);

/** A HID POS scale whose descriptor has no Scale Control Report (no zero command). */
export const SCALE_WITHOUT_CONTROL_DESCRIPTOR = Uint8Array.of(
  0x05,
  0x8d,
  0x09,
  0x01,
  0xa1,
  0x01,
  0x85,
  0x03,
  0x09,
  0x32,
  0x75,
  0x08,
  0x95,
  0x05,
  0x81,
  0x02,
  0xc0,
);

/** Usage page / usage of the first top-level collection (what hidapi reports per interface). */
export function topLevelUsage(descriptor: Uint8Array): { usagePage: number; usage: number } {
  let page = 0;
  let usage = 0;
  for (let i = 0; i + 1 < descriptor.length; ) {
    const p = descriptor[i] ?? 0;
    if (p === 0x05) page = descriptor[i + 1] ?? 0;
    if (p === 0x09) usage = descriptor[i + 1] ?? 0;
    if (p === 0xa1) break;
    i += 1 + ([0, 1, 2, 4][p & 3] ?? 0);
  }
  return { usagePage: page, usage };
}
