/**
 * `npm run bench -- pages [--shipments 400] [--warm 2000] [--page-size 512] [--project-every 20]
 * [--auto-vacuum NONE] [--model-table-projection carried|carried-without-label]`: what one
 * shipment's acknowledged steps write to the WAL, page by page and B-tree by B-tree
 * (gateway/src/storage/commit-pages.ts). Exact counts, no timing: it runs on a busy machine
 * and compares schema and page-size choices directly.
 */
import { parseArgs } from 'node:util';
import { measureCommitPages } from '../gateway/src/storage/commit-pages.js';

export function benchCommitPages(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      shipments: { type: 'string', default: '400' },
      warm: { type: 'string', default: '2000' },
      'page-size': { type: 'string' },
      // Shipments per event-projector batch (20 = 1 s at 20/s; the writer projects after 1 s or 256 events).
      'project-every': { type: 'string', default: '20' },
      // Experiments: a new database without incremental vacuum; a model of projecting the tables too (commit-pages.ts).
      'auto-vacuum': { type: 'string' },
      'model-table-projection': { type: 'string' },
    },
  });
  const pageSize = values['page-size'] === undefined ? undefined : Number(values['page-size']);
  const projectEvery = Number(values['project-every']);
  const av = values['auto-vacuum'];
  const model = values['model-table-projection'];
  if ((av !== undefined && av !== 'NONE' && av !== 'INCREMENTAL') || (model !== undefined && model !== 'carried' && model !== 'carried-without-label')) {
    throw new Error('--auto-vacuum NONE|INCREMENTAL, --model-table-projection carried|carried-without-label');
  }
  const r = measureCommitPages({
    shipments: Number(values.shipments),
    warm: Number(values.warm),
    projectEvery,
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(av === undefined ? {} : { autoVacuum: av }),
    ...(model === undefined ? {} : { modelTableProjection: model }),
  });
  process.stdout.write(
    `\ncommit pages: ${r.shipments} shipments (${r.commits} commits, one per acknowledged step) after ${values.warm} warm-up shipments, page size ${r.pageSize} B, event lookups projected every ${projectEvery} shipments${av === undefined ? '' : `, auto_vacuum ${av}`}${model === undefined ? '' : `, MODEL: tables projected too, rows ${model} on the event row`}\n` +
      `WAL bytes per shipment ${(r.walBytesPerShipment / 1024).toFixed(1)} KB, page images per commit ${r.framesPerCommit.toFixed(2)}\n\n` +
      `checkpoint copies into the database file, KB per shipment, with a checkpoint every N shipments: ${r.checkpointKbPerShipment.map((c) => `${c.everyShipments}: ${c.kb.toFixed(1)}`).join(' · ')}\n\n` +
      `| B-tree | page images per shipment |\n|---|---|\n${[...r.perShipment.entries()].map(([k, v]) => `| ${k} | ${v.toFixed(2)} |`).join('\n')}\n`,
  );
}
