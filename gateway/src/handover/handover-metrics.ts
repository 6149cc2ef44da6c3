/**
 * Prometheus gauges of the handover, the holds and the label rolls, registered on the
 * gateway's own registry (metrics.ts) and read when scraped (prom-client `collect`).
 */
import { Gauge, type Registry } from 'prom-client';
import type { CarrierService } from './carrier-service.js';
import type { ConsumablesService } from './consumables-service.js';
import type { HandoverService } from './handover-service.js';

export function registerHandoverMetrics(
  registry: Registry,
  s: {
    handover: HandoverService;
    carriers: CarrierService;
    consumables: ConsumablesService;
    /** Labels on the gateway's one recall list not yet pulled (gateway/src/recalls/); absent: carrier-switch labels only. */
    openRecalls?: () => number;
  },
): void {
  new Gauge({
    name: 'packline_handover_pending_parcels',
    help: 'Shipped parcels not yet on a handover manifest, by carrier and whether past its cut-off',
    labelNames: ['carrier', 'overdue'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of s.handover.status().carriers) {
        this.set({ carrier: c.carrier, overdue: 'false' }, c.pending - c.overdue);
        this.set({ carrier: c.carrier, overdue: 'true' }, c.overdue);
      }
    },
  });
  new Gauge({
    name: 'packline_carrier_held',
    help: '1 for each carrier on hold (courier overload plan)',
    labelNames: ['carrier'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const h of s.carriers.holds()) this.set({ carrier: h.carrier }, 1);
    },
  });
  new Gauge({
    name: 'packline_label_recalls_open',
    help: 'Labels on the recall list (pre-printed labels of intercepted orders, voided labels of carrier switches) not yet reported pulled',
    registers: [registry],
    collect() {
      this.set(s.openRecalls?.() ?? s.carriers.recalls().length);
    },
  });
  new Gauge({
    name: 'packline_label_roll_left',
    help: 'Labels left on the roll by count since the last roll change (printers with a configured roll size)',
    labelNames: ['printer'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of s.consumables.status()) if (r.left !== null) this.set({ printer: r.printerId }, r.left);
    },
  });
}
