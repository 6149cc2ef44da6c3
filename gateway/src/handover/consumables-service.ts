/**
 * Label rolls per printer, read from the event log (consumables.ts folds it): caught up on
 * each question from where it stopped, so a status costs only the events since the last one.
 * "Roll changed" is an event (`printer.roll_changed`), committed before it is answered.
 */
import type { Config } from '../config/schema.js';
import type { StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { RawEventRow } from '../storage/types.js';
import { CONSUMABLE_LOG_TYPES, checkConsumables, foldRollEvent, type RollCount, type RollStatus, rollStatus } from './consumables.js';
import { rowData, rowTime } from './handover-service.js';
import type { CheckResult } from '../preflight/report.js';

export interface ConsumablesStore {
  write(ops: StationWrite[]): Promise<unknown>;
  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number };
  stats(): { lastSeq: number };
}

export class ConsumablesService {
  private readonly counts = new Map<string, RollCount>();
  private cursor = 0;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly store: ConsumablesStore,
  ) {}

  private catchUp(): void {
    const last = this.store.stats().lastSeq;
    while (this.cursor < last) {
      const { rows, scannedTo } = this.store.eventRowsOfTypes(CONSUMABLE_LOG_TYPES, this.cursor, 1000, 50_000);
      for (const row of rows) foldRollEvent(this.counts, { type: row.type, subject: row.subject, data: rowData(row), at: rowTime(row) });
      if (scannedTo <= this.cursor) break;
      this.cursor = scannedTo;
    }
  }

  private printers(): string[] {
    const ids = new Set(this.config.devices.filter((d) => d.role === 'printer').map((d) => d.id));
    for (const id of this.counts.keys()) ids.add(id);
    return [...ids].sort();
  }

  status(): RollStatus[] {
    this.catchUp();
    const sizes = this.config.handover.rollLabels;
    return this.printers().map((id) =>
      rollStatus(this.counts.get(id) ?? { printerId: id, printed: 0, changedAt: null }, sizes[id] ?? sizes['*'] ?? null, this.config.handover.lowMediaPercent),
    );
  }

  check(): CheckResult {
    return checkConsumables(this.status());
  }

  async rollChanged(printerId: string, by: string): Promise<RollStatus> {
    await this.store.write([{ op: 'event', type: EVENT.rollChanged, subject: `device:${printerId}`, data: { printer: printerId, by } }]);
    return this.status().find((s) => s.printerId === printerId) ?? rollStatus({ printerId, printed: 0, changedAt: null }, null, 0);
  }
}
