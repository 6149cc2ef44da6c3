/**
 * `npm run bench -- <name> [options]`. Benchmarks print figures and compare them with a
 * baseline measured in the same run (e.g. the embedded broker against Mosquitto); no test
 * asserts a wall-clock limit.
 *
 *   core      shipments/s, scan-to-print p50/p99 at 50/s, 500/s and max, fsyncs and bytes
 *             per shipment, RSS with ~500 devices; embedded aedes vs external Mosquitto
 *   core --sdcard   Raspberry Pi: 100/s and max on this disk vs SD-card mode (8 ms syncs with
 *             spikes), event-loop stalls, CPU and RSS per 100 shipments/s, targets MET/NOT MET
 *   sqlite    better-sqlite3 in a worker with group commit vs the async sqlite3 driver
 *   sync      drain of a 720,000-event backlog into the reference cloud; live p99 during it vs idle;
 *             then the drain rate into a cloud answering after 6 s (`sync slow-cloud`: that phase alone)
 */
import { benchCore } from './core.js';

const [name = 'core', ...rest] = process.argv.slice(2);
switch (name) {
  case 'core':
    await benchCore(rest);
    break;
  case 'sqlite':
    await import('./sqlite-drivers.js');
    break;
  case 'sync':
    // `sync slow-cloud` runs only the slow-cloud phase; `sync` runs the backlog drain, then it.
    if (rest[0] === 'slow-cloud') {
      await (await import('./sync-slow-cloud.js')).benchSlowCloud(rest.slice(1));
    } else {
      await (await import('./sync.js')).benchSync(rest.filter((a, i) => !a.startsWith('--slow-') && !rest[i - 1]?.startsWith('--slow-')));
      await (await import('./sync-slow-cloud.js')).benchSlowCloud(rest);
    }
    break;
  case 'pages':
    (await import('./commit-pages.js')).benchCommitPages(rest);
    break;
  case 'printing':
    await (await import('./printing.js')).benchPrinting(rest);
    break;
  default:
    process.stderr.write(`unknown benchmark ${name}; try: core, sqlite, sync\n`);
    process.exit(2);
}
