/**
 * Just enough of a HID report descriptor parser (HID 1.11 §6.2.2) to find where a usage lives
 * in the device's output reports: which report id carries it and at which bit. Pure.
 *
 * Short items: prefix byte = bTag(4) bType(2) bSize(2), bSize 3 means 4 data bytes (§6.2.2.2);
 * long items (prefix 0xFE) are skipped (§6.2.2.3). Main items (bType 0): Input 0x8, Output 0x9,
 * Feature 0xB, Collection 0xA, End Collection 0xC (§6.2.2.4). Global (bType 1): Usage Page 0x0,
 * Report Size 0x7, Report ID 0x8, Report Count 0x9, Push 0xA, Pop 0xB (§6.2.2.7). Local
 * (bType 2): Usage 0x0, Usage Minimum 0x1, Usage Maximum 0x2 (§6.2.2.8); a 4-byte Usage holds
 * the page in its high 16 bits. Report data follow the report id byte, fields in item order,
 * least significant bit first (§8.4).
 */

export interface UsageLocation {
  /** 0 when the device uses no report ids. */
  readonly reportId: number;
  /** Bit offset of the field in the report data (after the id byte). */
  readonly bitOffset: number;
  readonly bitSize: number;
  /** Data bytes of this output report (without the id byte). */
  readonly reportBytes: number;
}

interface Globals {
  usagePage: number;
  reportSize: number;
  reportCount: number;
  reportId: number;
}

function unsigned(d: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (d[at + i] ?? 0);
  return v;
}

/** Where the output (kind `output`) or feature field for `usagePage:usage` sits, or null. */
export function findOutputUsage(descriptor: Uint8Array, usagePage: number, usage: number, kind: 'output' | 'feature' = 'output'): UsageLocation | null {
  const mainTag = kind === 'output' ? 0x9 : 0xb;
  let g: Globals = { usagePage: 0, reportSize: 0, reportCount: 0, reportId: 0 };
  const stack: Globals[] = [];
  let usages: number[] = [];
  let usageMin: number | null = null;
  let usageMax: number | null = null;
  const bitsByReport = new Map<number, number>();
  let found: { reportId: number; bitOffset: number; bitSize: number } | null = null;
  let i = 0;
  while (i < descriptor.length) {
    const prefix = descriptor[i] ?? 0;
    if (prefix === 0xfe) {
      i += 3 + (descriptor[i + 1] ?? 0); // long item: bDataSize, bLongItemTag, data
      continue;
    }
    const size = [0, 1, 2, 4][prefix & 0x3] ?? 0;
    const type = (prefix >> 2) & 0x3;
    const tag = prefix >> 4;
    const value = unsigned(descriptor, i + 1, size);
    i += 1 + size;
    if (type === 1) {
      if (tag === 0x0) g.usagePage = value;
      else if (tag === 0x7) g.reportSize = value;
      else if (tag === 0x8) g.reportId = value;
      else if (tag === 0x9) g.reportCount = value;
      else if (tag === 0xa) stack.push({ ...g });
      else if (tag === 0xb) g = stack.pop() ?? g;
    } else if (type === 2) {
      const full = size === 4 ? value : g.usagePage * 0x10000 + value;
      if (tag === 0x0) usages.push(full);
      else if (tag === 0x1) usageMin = full;
      else if (tag === 0x2) usageMax = full;
    } else if (type === 0) {
      if (tag === mainTag) {
        const start = bitsByReport.get(g.reportId) ?? 0;
        const constant = (value & 0x1) !== 0;
        if (!constant && found === null) {
          for (let n = 0; n < g.reportCount; n++) {
            const u = usages[n] ?? (usageMin !== null && usageMax !== null && usageMin + n <= usageMax ? usageMin + n : usages[usages.length - 1]);
            if (u === usagePage * 0x10000 + usage) {
              found = { reportId: g.reportId, bitOffset: start + n * g.reportSize, bitSize: g.reportSize };
              break;
            }
          }
        }
        bitsByReport.set(g.reportId, start + g.reportSize * g.reportCount);
      }
      // Every main item ends the local state (§6.2.2.8).
      usages = [];
      usageMin = null;
      usageMax = null;
    }
  }
  if (found === null) return null;
  return { ...found, reportBytes: Math.ceil((bitsByReport.get(found.reportId) ?? 0) / 8) };
}
