/**
 * `npm run bench -- <name> [options]`. Benchmarks print figures and compare them with a
 * baseline measured in the same run (e.g. the embedded broker against Mosquitto); no test
 * asserts a wall-clock limit.
 *
 *   core      shipments/s, scan-to-print p50/p99 at 50/s, 500/s and max, fsyncs and bytes
 *             per shipment, RSS with ~500 devices; embedded aedes vs external Mosquitto
 *   core --sdcard   Raspberry Pi: 100/s and max on this disk vs SD-card mode (8 ms syncs with
 *             spikes), event-loop stalls, CPU and RSS per 100 shipments/s, targets MET/NOT MET
 *   postprint post-print (one scan, one parcel): parcels/min per station and scan → label
 *             command p50/p99, weighed and label-on-scan, against the ordinary flow in the same run
 *   sqlite    better-sqlite3 in a worker with group commit vs the async sqlite3 driver
 *   sync      drain of a 720,000-event backlog into the reference cloud; live p99 during it vs idle;
 *             then the drain rate into a cloud answering after 6 s (`sync slow-cloud`: that phase alone)
 *   season    a simulated 60-day season through the real store: database, WAL and data folder per
 *             day with retention on, and off (baseline)
 *   picking   wave build time over 10,000 pending orders; walk length of the pick path vs the
 *             order-of-lines baseline on 40 aisles × 30 bays × 5 levels, 20,000 SKUs, waves of 20–200
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
  case 'season':
    await (await import('./season.js')).benchSeason(rest);
    break;
  case 'pages':
    (await import('./commit-pages.js')).benchCommitPages(rest);
    break;
  case 'printing':
    await (await import('./printing.js')).benchPrinting(rest);
    break;
  case 'picking':
    await (await import('./picking.js')).benchPicking(rest);
    break;
  case 'postprint':
    await (await import('./postprint.js')).benchPostprint(rest);
    break;
  default:
    process.stderr.write(`unknown benchmark ${name}; try: core, sqlite, sync, printing, season, pages, picking, postprint\n`);
    process.exit(2);
}
