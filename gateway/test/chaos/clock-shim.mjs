// Clock injection for the chaos harness's clock-jump scenario (no libfaketime on this box):
// preloaded into the gateway child with NODE_OPTIONS=--import, so it runs in the main thread
// and in the store's writer worker alike. Date.now() returns the real time plus an offset in
// ms read from the file named by CHAOS_CLOCK_OFFSET_FILE (not PACKLINE_*: those are config overrides) (re-read every 50 ms), so the
// harness can jump the gateway's wall clock a day back or forward while it runs, as a Pi
// without an RTC does after a power cut and again when NTP corrects it. Monotonic clocks
// (performance.now, timers) are untouched, as they are on a real box.
import { readFileSync } from 'node:fs';

const file = process.env.CHAOS_CLOCK_OFFSET_FILE;
if (file) {
  const realNow = Date.now.bind(Date);
  let offset = 0;
  const refresh = () => {
    try {
      const n = Number(readFileSync(file, 'utf8').trim());
      offset = Number.isFinite(n) ? n : 0;
    } catch {
      offset = 0;
    }
  };
  refresh();
  setInterval(refresh, 50).unref();
  Date.now = () => realNow() + offset;
}
