/**
 * The edge between the broker and the shipment core. Every message on `dev/+/evt/+` goes
 * through here, in this order, and anything wrong stops it with a coded error on
 * `dev/{id}/err` and no other effect:
 *
 *   topic in the contract → device known and bound → role may send this kind →
 *   payload decodes against its schema → `msg_id` not seen before → owner's queue.
 *
 * The owner (a station or a line) applies the event and commits it; only then does the device
 * get its `dev/{id}/ack`. A message whose `msg_id` was already applied (a QoS 1 redelivery or
 * an application retry) is acknowledged again as a duplicate and not applied twice — also
 * after a restart, because the store keeps the ids in the same transaction as the effect.
 */
import { toWireError } from '../../../contracts/errors.js';
import { PICK_EVENT_KINDS, parseTopic, ROLE_EVENTS, topics } from '../../../contracts/topics.js';
import { decodeEvent, readMsgId } from '../../../contracts/validate.js';
import type { BrokerLink, InboundMessage } from '../broker/link.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/types.js';
import type { DeviceBinding } from './bindings.js';
import type { DeviceEvent, EventOwner, Outcome } from '../station/ports.js';

export type { DeviceEvent, EventOwner, Outcome } from '../station/ports.js';

export interface IngressCounters {
  received: number;
  refused: number;
  duplicates: number;
}

export interface IngressDeps {
  link: BrokerLink;
  store: Store;
  bindings: ReadonlyMap<string, DeviceBinding>;
  owners: {
    station: EventOwner;
    line: EventOwner;
    /** Picking on PDAs (gateway/src/picking/): pick_* kinds, any PDA, bound or not. */
    picking?: EventOwner;
    /** `handover` takes `handover_scan` events (gateway/src/handover/), whatever the device's station. */
    handover?: EventOwner;
    /** `recalls` takes `recall_scan` events (gateway/src/recalls/): a PDA scanned a label it pulled. */
    recalls?: EventOwner;
  };
  logger: Logger;
  now?: () => number;
  /**
   * Re-reads devices and stations provisioned at run time (provisioning/station-provisioning.ts);
   * called once for a message from a device not (yet) in `bindings`.
   */
  refreshRegistry?: () => Promise<void>;
}

/** Device message ids kept in memory for duplicate checks before falling back to the store. */
const RECENT_IDS_PER_DEVICE = 64;

export class Ingress {
  readonly name = 'ingress';
  readonly counters: IngressCounters = { received: 0, refused: 0, duplicates: 0 };
  private started = false;
  /** deviceId → msg ids recently applied or in flight → the seq they produced (insertion-ordered for eviction). */
  private readonly recent = new Map<string, Map<string, number | undefined>>();
  /** `${deviceId}\0${msgId}` of events queued but not yet settled → waiters for the outcome. */
  private readonly inFlight = new Map<string, Array<(o: Outcome) => void>>();
  private readonly now: () => number;

  constructor(private readonly deps: IngressDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.deps.link.subscribe(topics.allEvents, (msg) => this.onMessage(msg));
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  private reply(deviceId: string, kind: string, msgId: string | undefined, outcome: Outcome, duplicate = false): void {
    const { link, logger } = this.deps;
    if (outcome.ok) {
      if (msgId === undefined) return; // devices that want acks send a msg_id
      const ack: Record<string, unknown> = { msg_id: msgId, kind };
      if (outcome.seq !== undefined) ack.seq = outcome.seq;
      if (duplicate) ack.duplicate = true;
      link.publish(topics.ack(deviceId), JSON.stringify(ack), { qos: 1 }).catch((err: unknown) => {
        logger.warn({ err, deviceId }, 'could not publish ack');
      });
      return;
    }
    this.counters.refused++;
    const wire: Record<string, unknown> = { ...toWireError(outcome.code, outcome.details), kind };
    if (msgId !== undefined) wire.msg_id = msgId;
    link.publish(topics.error(deviceId), JSON.stringify(wire), { qos: 1 }).catch((err: unknown) => {
      logger.warn({ err, deviceId }, 'could not publish error');
    });
  }

  private remember(deviceId: string, msgId: string, seq?: number): void {
    let ids = this.recent.get(deviceId);
    if (!ids) {
      ids = new Map();
      this.recent.set(deviceId, ids);
    }
    ids.set(msgId, seq);
    if (ids.size > RECENT_IDS_PER_DEVICE) {
      const oldest = ids.keys().next().value as string;
      ids.delete(oldest);
    }
  }

  /** The original outcome of an applied message: its ack carries the original seq (docs/mqtt.md §5). */
  private applied(deviceId: string, msgId: string): Outcome | null {
    const ids = this.recent.get(deviceId);
    if (ids?.has(msgId)) {
      const seq = ids.get(msgId);
      return seq === undefined ? { ok: true } : { ok: true, seq };
    }
    const seq = this.deps.store.dedupeSeq(deviceId, msgId);
    if (seq === undefined) return null;
    return seq === null ? { ok: true } : { ok: true, seq };
  }

  private forget(deviceId: string, msgId: string): void {
    this.recent.get(deviceId)?.delete(msgId);
  }

  /** Handles one inbound message; exposed for tests and for the HTTP manual-scan path. */
  onMessage(msg: InboundMessage, refreshed = false): void {
    if (!this.started) return;
    if (!refreshed) this.counters.received++;
    const parsed = parseTopic(msg.topic);
    if (parsed === null || parsed.type !== 'event') return; // the subscription only matches dev/+/evt/+
    const { deviceId, kind } = parsed;
    // Every refusal echoes the msg_id whenever one can be read, also from a payload refused
    // for its schema or size (docs/mqtt.md §4).
    const readId = () => readMsgId(msg.payload);
    const binding = this.deps.bindings.get(deviceId);
    if (binding === undefined && !refreshed && this.deps.refreshRegistry) {
      // Perhaps added a moment ago (packline device add): look again before refusing.
      this.deps.refreshRegistry().then(
        () => this.onMessage(msg, true),
        () => this.onMessage(msg, true),
      );
      return;
    }
    if (binding === undefined) {
      this.reply(deviceId, kind, readId(), { ok: false, code: 'PKL_DEVICE_UNKNOWN', details: { deviceId } });
      return;
    }
    if (!ROLE_EVENTS[binding.role].includes(kind)) {
      this.reply(deviceId, kind, readId(), {
        ok: false,
        code: 'PKL_DEVICE_ROLE_MISMATCH',
        details: { deviceId, role: binding.role, kind },
      });
      return;
    }
    const decoded = decodeEvent(kind, msg.payload);
    if (!decoded.ok) {
      this.reply(deviceId, kind, readId(), { ok: false, code: decoded.code, details: decoded.details });
      return;
    }
    const payload = decoded.value;
    const msgId = (payload as { msg_id?: string }).msg_id;
    // Picking kinds and recall scans go to their runtime whatever station (if any) the PDA serves.
    const picking = PICK_EVENT_KINDS.includes(kind) ? this.deps.owners.picking : kind === 'recall_scan' ? this.deps.owners.recalls : undefined;
    if (binding.owner === null && picking === undefined) {
      this.reply(deviceId, kind, msgId, { ok: false, code: 'PKL_DEVICE_NOT_BOUND', details: { deviceId } });
      return;
    }
    if (msgId !== undefined) {
      const key = `${deviceId}\0${msgId}`;
      const waiting = this.inFlight.get(key);
      if (waiting) {
        // Redelivered while the first copy is still being applied: answer when it settles.
        this.counters.duplicates++;
        waiting.push((o) => this.reply(deviceId, kind, msgId, o, true));
        return;
      }
      const original = this.applied(deviceId, msgId);
      if (original !== null) {
        this.counters.duplicates++;
        this.reply(deviceId, kind, msgId, original, true);
        return;
      }
      this.inFlight.set(key, []);
      this.remember(deviceId, msgId);
    }
    const event: DeviceEvent = { deviceId, binding, kind, payload, msgId, at: this.now() };
    const owner =
      picking ??
      (kind === 'handover_scan' && this.deps.owners.handover !== undefined
        ? this.deps.owners.handover
        : binding.owner?.type === 'station'
          ? this.deps.owners.station
          : this.deps.owners.line);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      if (msgId !== undefined) {
        const key = `${deviceId}\0${msgId}`;
        const waiters = this.inFlight.get(key) ?? [];
        this.inFlight.delete(key);
        // A refused event was not applied: a corrected retry with the same id must be allowed.
        if (!outcome.ok) this.forget(deviceId, msgId);
        else if (outcome.seq !== undefined && this.recent.get(deviceId)?.has(msgId)) this.remember(deviceId, msgId, outcome.seq);
        for (const w of waiters) w(outcome);
      }
      this.reply(deviceId, kind, msgId, outcome);
    };
    if (!owner.submit(event, settle)) settle({ ok: false, code: 'PKL_OVERLOADED', details: {} });
  }
}
