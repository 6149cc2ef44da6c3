/**
 * Ways to put a HID device in front of the drivers. `mockRig`: node-hid's boundary faked with
 * the shipped MockHidBinding (every machine). `uhidRig`: a real virtual device through the
 * kernel's /dev/uhid (Documentation/hid/uhid.rst) read by the real node-hid — only where the
 * kernel has CONFIG_UHID and the process may open /dev/uhid.
 */
import { closeSync, existsSync, openSync, writeSync, constants as fsc } from 'node:fs';
import type { HidBinding } from '../../src/hid/binding.js';
import { NodeHidBinding } from '../../src/hid/binding.js';
import { MockHidBinding } from '../../src/hid/mock-binding.js';
import { topLevelUsage } from '../../src/hid/testing.js';

export interface VirtualHid {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber?: string;
  readonly descriptor: Uint8Array;
  readonly name: string;
}

export interface PluggedHid {
  /** The device sends one input report. */
  emit(report: Uint8Array): void;
  unplug(): Promise<void>;
  /** Output reports the host wrote to this device (mock: recorded; uhid: UHID_OUTPUT events are not read here). */
  writes(): Uint8Array[];
}

export interface HidRig {
  readonly name: string;
  readonly binding: HidBinding;
  plug(dev: VirtualHid): Promise<PluggedHid>;
  /** Whether output reports can be observed (`writes()`). */
  readonly seesWrites: boolean;
}

export function mockRig(): HidRig & { mock: MockHidBinding } {
  const mock = new MockHidBinding();
  let n = 2; // every plug gets the next node, as the kernel hands them out
  return {
    name: 'MockHidBinding',
    mock,
    binding: mock,
    seesWrites: true,
    async plug(dev) {
      const path = `/dev/hidraw${n++}`;
      mock.plug(
        {
          vendorId: dev.vendorId,
          productId: dev.productId,
          path,
          interface: 0,
          product: dev.name,
          ...(dev.serialNumber === undefined ? {} : { serialNumber: dev.serialNumber }),
          ...topLevelUsage(dev.descriptor),
        },
        dev.descriptor,
      );
      return {
        emit: (r) => mock.emit(path, r),
        unplug: async () => mock.unplug(path),
        writes: () => mock.writes.filter((w) => w.path === path).map((w) => w.report),
      };
    },
  };
}

// linux/uhid.h
const UHID_DESTROY = 1;
const UHID_CREATE2 = 11;
const UHID_INPUT2 = 12;
const BUS_USB = 0x03;
/** sizeof(struct uhid_event), packed: u32 type + the largest union member, uhid_create2_req (256 + 2 + 2 + 4 × 4 + 4096 = 4372). */
const UHID_EVENT_SIZE = 4376;

/** Why the uhid rig cannot run here, or null when it can. */
export function uhidUnavailable(): string | null {
  if (!existsSync('/dev/uhid')) return 'no /dev/uhid: this kernel has no CONFIG_UHID (container kernels usually lack it)';
  try {
    closeSync(openSync('/dev/uhid', fsc.O_RDWR));
  } catch (err) {
    return `cannot open /dev/uhid (${err instanceof Error ? err.message : String(err)}): run as root or add a udev rule`;
  }
  return null;
}

export function uhidRig(): HidRig {
  return {
    name: 'uhid + node-hid',
    binding: new NodeHidBinding(),
    seesWrites: false,
    async plug(dev) {
      const fd = openSync('/dev/uhid', fsc.O_RDWR);
      const ev = Buffer.alloc(UHID_EVENT_SIZE);
      ev.writeUInt32LE(UHID_CREATE2, 0);
      // struct uhid_create2_req: name[128] phys[64] uniq[64] rd_size u16 bus u16 vendor u32 product u32 version u32 country u32 rd_data[4096]
      ev.write(dev.name.slice(0, 127), 4, 'latin1');
      ev.write('packline-test', 4 + 128, 'latin1');
      ev.write((dev.serialNumber ?? '').slice(0, 63), 4 + 192, 'latin1');
      ev.writeUInt16LE(dev.descriptor.length, 4 + 256);
      ev.writeUInt16LE(BUS_USB, 4 + 258);
      ev.writeUInt32LE(dev.vendorId, 4 + 260);
      ev.writeUInt32LE(dev.productId, 4 + 264);
      ev.writeUInt32LE(1, 4 + 268);
      ev.writeUInt32LE(0, 4 + 272);
      Buffer.from(dev.descriptor).copy(ev, 4 + 276);
      writeSync(fd, ev);
      // udev creates the hidraw node asynchronously; node-hid enumerates through udev.
      await new Promise((r) => setTimeout(r, 300));
      return {
        emit(report) {
          const e = Buffer.alloc(UHID_EVENT_SIZE);
          e.writeUInt32LE(UHID_INPUT2, 0);
          e.writeUInt16LE(report.length, 4); // struct uhid_input2_req: size u16, data[4096]
          Buffer.from(report).copy(e, 6);
          writeSync(fd, e);
        },
        async unplug() {
          const e = Buffer.alloc(UHID_EVENT_SIZE);
          e.writeUInt32LE(UHID_DESTROY, 0);
          writeSync(fd, e);
          closeSync(fd);
        },
        writes: () => [],
      };
    },
  };
}
