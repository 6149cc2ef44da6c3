/**
 * Runs the conveyor / DWS lines: a parcel telegram in, a divert command out, on the same
 * interception and weight rules as the packing stations (decide/conveyor.ts). Like a station
 * step, the decision's writes are committed before the divert command is sent; a line that
 * waits too long for its answer sorts the parcel to its default chute on its own (driver).
 */
import { topics } from '../../../../contracts/topics.js';
import type { Config, LineConfig } from '../../config/schema.js';
import type { Logger } from '../../lib/logger.js';
import type { CommandLink, DeviceEvent, EventOwner, FlowMetrics, FlowResult, FlowStore, IdSource, Outcome } from '../ports.js';
import { type DivertDecision, decideDivert, initialLineState, type LineState } from '../decide/conveyor.js';
import { commitUnit, decide, settled } from './commit.js';
import { SerialQueue } from './serial-queue.js';
import { storeLookups } from './store-lookups.js';

const QUEUE_LIMIT = 2000;

interface Line {
  cfg: LineConfig;
  state: LineState;
  queue: SerialQueue;
}

export interface LineRuntimeDeps {
  config: Readonly<Config>;
  store: FlowStore;
  link: CommandLink;
  metrics: FlowMetrics;
  logger: Logger;
  ids: IdSource;
}

export class LineRuntime implements EventOwner {
  readonly name = 'lines';
  private readonly lines = new Map<string, Line>();
  private started = false;

  constructor(private readonly deps: LineRuntimeDeps) {}

  async start(): Promise<void> {
    if (this.started) return;
    for (const cfg of this.deps.config.lines) {
      this.lines.set(cfg.id, {
        cfg,
        state: initialLineState(cfg.id),
        queue: new SerialQueue(QUEUE_LIMIT, (err) => this.deps.logger.error({ err, lineId: cfg.id }, 'line step failed')),
      });
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([...this.lines.values()].map((l) => l.queue.idle()));
  }

  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    const line = event.binding.owner ? this.lines.get(event.binding.owner.id) : undefined;
    if (!this.started || line === undefined || event.kind !== 'parcel') {
      settle({ ok: false, code: 'PKL_LINE_UNKNOWN', details: { lineId: event.binding.owner?.id ?? '' } });
      return true;
    }
    const p = event.payload as DeviceEvent<'parcel'>['payload'];
    return line.queue.push(async () => {
      const { store, link, logger, metrics } = this.deps;
      const decided = decide(
        () =>
          decideDivert(line.state, { at: event.at, deviceId: event.deviceId, seq: p.seq ?? null, barcode: p.barcode, grams: p.grams ?? null }, line.cfg, {
            ...storeLookups(store),
            shipment: this.deps.config.shipment,
            newId: (prefix) => this.deps.ids.next(prefix),
          }),
        `${line.cfg.id}:${event.at}`,
        (err) => logger.error({ err, lineId: line.cfg.id }, 'divert decision failed'),
      );
      if (!decided.ok) return settle(decided);
      const decision = decided.value;
      // Every parcel telegram's id is stored (its answer is always a divert, never a refusal).
      const dedupe = event.msgId === undefined ? undefined : { deviceId: event.deviceId, msgId: event.msgId };
      const committed = await commitUnit(store, decision.writes, { dedupe });
      if (committed.kind === 'duplicate') return settle({ ok: true }); // a redelivery raced the first copy, which was applied
      if (committed.kind === 'failed') return settle(committed.refused);
      line.state = decision.state;
      const cmd = decision.command;
      link
        .publish(topics.command(cmd.deviceId, 'divert'), JSON.stringify(cmd.payload), { qos: 1 })
        .catch((err: unknown) => logger.warn({ err, lineId: line.cfg.id }, 'could not send divert'));
      if (!decision.duplicate) {
        const result = lineResult(decision);
        if (result !== null) metrics.shipment(result);
      }
      settle(settled(committed));
    });
  }
}

/**
 * A parcel the line itself shipped (sorted to its carrier's chute with no shipment before it)
 * counts as shipped; one packed and shipped at a station counted there and is only sorted here
 * (counting it again made `shipped` twice the parcels). Intercepts and weight holds count as such.
 */
function lineResult(d: DivertDecision): FlowResult | null {
  if (d.code === null) {
    const shipsHere = d.writes.some((w) => w.op === 'shipment.put' && w.shipment.state === 'shipped');
    return d.reason === 'carrier' && shipsHere ? 'shipped' : null;
  }
  if (d.code.startsWith('PKL_INTERCEPT_')) return 'intercepted';
  if (d.code === 'PKL_WEIGHT_OUT_OF_TOLERANCE') return 'weight_rejected';
  return null;
}
