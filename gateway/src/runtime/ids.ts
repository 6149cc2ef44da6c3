/**
 * Ids for shipments and print jobs: `S-gw01-7-2kq` = prefix, gateway id, boot counter,
 * counter (base 36). Unique across gateways (gateway id) and restarts (the boot counter is
 * incremented durably at every start), sortable within a boot, short enough for a label.
 */
export type { IdSource } from '../station/ports.js';
import type { IdSource } from '../station/ports.js';

export function idSource(gatewayId: string, boot: number): IdSource {
  let counter = 0;
  const stem = `${gatewayId}-${boot.toString(36)}`;
  return {
    next: (prefix) => `${prefix}-${stem}-${(counter++).toString(36)}`,
  };
}
