/**
 * Child process for store-crash.test.ts: opens the store in the data dir given as argv[2]
 * and writes units (a shipment row and its event, as the station does) from several
 * concurrent writers forever, printing `ack <seq>` for every acknowledged (= durable) unit.
 * The test SIGKILLs it at random moments. stdout to a pipe is synchronous on Linux, so an
 * `ack` line that reached the parent was printed after the unit's commit.
 */
import { createLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/storage/sqlite-store.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: store-crash-child.ts <dataDir>');
const WRITERS = 8;

const store = openStore({ dataDir, logger: createLogger('silent'), minFreeMb: 0 });
await store.start();
process.stdout.write(`ready ${store.boot}\n`);

let n = 0;
async function writer(w: number): Promise<never> {
  for (;;) {
    const id = `S-${store.boot}-${w}-${n++}`;
    const r = await store.write([
      {
        op: 'shipment.put',
        shipment: {
          shipmentId: id,
          orderId: `O-${n}`,
          stationId: `st-${w}`,
          state: 'shipped',
          reasonCode: null,
          scanned: { '6901234567892': 1 },
          expectedGrams: 500,
          actualGrams: 502,
          carrier: 'ZTO',
          waybill: `W${n}`,
          labelJobId: null,
          operator: 'op-1',
          openedAt: Date.now(),
          updatedAt: Date.now(),
          shippedAt: Date.now(),
        },
      },
      { op: 'event', type: 'shipment.shipped', subject: `shipment:${id}`, data: { id } },
    ]);
    process.stdout.write(`ack ${r.seqs[0]}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
