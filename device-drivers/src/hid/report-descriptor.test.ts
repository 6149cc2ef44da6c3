import { describe, expect, it } from 'vitest';
import { encodeZeroScale, HID_SCALE_USAGE } from '../scale/hid-pos/protocol.js';
import { findOutputUsage } from './report-descriptor.js';
import { SCALE_REPORT_DESCRIPTOR } from './testing.js';

describe('HID report descriptor: where a usage sits in the output reports (HID 1.11 §6.2.2)', () => {
  it('finds Zero Scale in the scale control report: report 2, bit 1, one data byte', () => {
    const at = findOutputUsage(SCALE_REPORT_DESCRIPTOR, 0x8d, HID_SCALE_USAGE.zeroScale);
    expect(at).toEqual({ reportId: 2, bitOffset: 1, bitSize: 1, reportBytes: 1 });
    expect(encodeZeroScale({ reportId: at!.reportId, zeroBit: at!.bitOffset, reportBytes: at!.reportBytes })).toEqual(Uint8Array.of(0x02, 0x02));
    expect(findOutputUsage(SCALE_REPORT_DESCRIPTOR, 0x8d, HID_SCALE_USAGE.enforcedZeroReturn)).toMatchObject({ reportId: 2, bitOffset: 0 });
  });

  it('input and feature fields are not outputs; a usage that is absent gives null', () => {
    expect(findOutputUsage(SCALE_REPORT_DESCRIPTOR, 0x8d, 0x40)).toBeNull(); // Data Weight is input only
    expect(findOutputUsage(SCALE_REPORT_DESCRIPTOR, 0x8d, 0x50, 'feature')).toMatchObject({ reportId: 1, bitOffset: 8 });
    expect(findOutputUsage(Uint8Array.of(0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0xc0), 0x8d, 0x80)).toBeNull();
  });

  it('honours Usage Minimum/Maximum, 4-byte usages, long items and truncated input without throwing', () => {
    const d = Uint8Array.of(
      0xfe,
      0x02,
      0x10,
      0xaa,
      0xbb, // long item, skipped
      0x75,
      0x01,
      0x95,
      0x03,
      0x19,
      0x7e,
      0x29,
      0x80, // Usage Min 0x7E .. Max 0x80 on page 0 (page set later by 4-byte usage? no: use page below)
      0x91,
      0x02,
      0x0b,
      0x80,
      0x00,
      0x8d,
      0x00, // Usage (0x008D0080, 4 bytes)
      0x95,
      0x01,
      0x91,
      0x02,
    );
    expect(findOutputUsage(d, 0x8d, 0x80)).toEqual({ reportId: 0, bitOffset: 3, bitSize: 1, reportBytes: 1 });
    for (let k = 0; k < SCALE_REPORT_DESCRIPTOR.length; k++) expect(() => findOutputUsage(SCALE_REPORT_DESCRIPTOR.subarray(0, k), 0x8d, 0x80)).not.toThrow();
  });
});
