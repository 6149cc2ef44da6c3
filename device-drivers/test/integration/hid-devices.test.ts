/**
 * HID devices through the node-hid boundary. Everywhere: the shipped MockHidBinding with a fake
 * enumeration (plug, unplug, replug on another node) and recorded report streams. Where the
 * kernel has /dev/uhid: the same suite against real virtual HID devices read by node-hid.
 */
import { describe, it } from 'vitest';
import { mockRig, uhidRig, uhidUnavailable } from './hid-rig.js';
import { hidDeviceSuite } from './hid-suite.js';

hidDeviceSuite('MockHidBinding', mockRig);

const noUhid = uhidUnavailable();
if (noUhid === null) {
  hidDeviceSuite('uhid + node-hid', uhidRig);
} else {
  // A kernel feature, not a program npm or apt could install here: skipped with the reason.
  describe('USB HID devices on /dev/uhid', () => {
    it.skip(`skipped: ${noUhid}`, () => undefined);
  });
}
