/**
 * aedes' in-memory persistence with a cap on each client's outgoing queue.
 *
 * Why: aedes-persistence 11 keeps, per persistent (`clean:false`) client, one array of QoS 1/2
 * messages that are queued while it is offline or in flight while it is slow. That array has
 * no bound (aedes#1087: `queueLimit` only covers packets arriving before CONNECT is processed),
 * so one scanner that subscribed with clean:false and then went away for a weekend would grow
 * the gateway's heap without limit. The queue lives in a private class field, so it cannot be
 * trimmed from outside; this wrapper takes over the five `outgoing*` methods (same semantics
 * as aedes-persistence/asyncPersistence.js) and delegates everything else unchanged.
 *
 * When a queue is full the OLDEST entry is dropped: for a device, the newest command is the
 * one that matters (a display text, a divert), and a dropped in-flight entry only means a
 * later PUBACK for it finds nothing to clear, which aedes tolerates.
 */
import { Readable } from 'node:stream';
import memory from 'aedes-persistence';

type AnyPacket = { messageId?: number; brokerId?: string; brokerCounter?: number; [k: string]: unknown };
type PacketCtor = new (p: AnyPacket) => AnyPacket;

const memoryFactory = memory as unknown as { (): object; Packet: PacketCtor };
const PacketCopy = memoryFactory.Packet;

export interface BoundedPersistence {
  /** The object to hand to aedes as `persistence`. */
  readonly persistence: object;
  /** Messages dropped because a client's queue was full. */
  dropped(): number;
  /** Current queue length of a client (for tests and diagnostics). */
  queueLength(clientId: string): number;
}

export function createBoundedPersistence(maxQueuedPerClient: number): BoundedPersistence {
  const base = memoryFactory() as unknown as Record<string | symbol, unknown>;
  const outgoing = new Map<string, AnyPacket[]>();
  let dropped = 0;

  const queueOf = (id: string, create: boolean): AnyPacket[] => {
    let q = outgoing.get(id);
    if (!q) {
      q = [];
      if (create) outgoing.set(id, q);
    }
    return q;
  };

  const enqueue = (sub: { clientId: string }, packet: AnyPacket): void => {
    const q = queueOf(sub.clientId, true);
    if (q.length >= maxQueuedPerClient) {
      q.splice(0, q.length - maxQueuedPerClient + 1);
      dropped++;
    }
    q.push(new PacketCopy(packet));
  };

  const overrides: Record<string, unknown> = {
    async outgoingEnqueue(sub: { clientId: string }, packet: AnyPacket) {
      enqueue(sub, packet);
    },
    async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: AnyPacket) {
      for (const sub of subs) enqueue(sub, packet);
    },
    async outgoingUpdate(client: { id: string }, packet: AnyPacket) {
      const q = queueOf(client.id, true);
      for (let i = 0; i < q.length; i++) {
        const temp = q[i] as AnyPacket;
        if (temp.brokerId === packet.brokerId) {
          if (temp.brokerCounter === packet.brokerCounter) {
            temp.messageId = packet.messageId;
            return;
          }
          // same broker, different counter: a rotated messageId may repeat; keep searching
        } else if (temp.messageId === packet.messageId) {
          q[i] = packet; // PUBREL replacing its PUBLISH (QoS 2, MQTT 3.1.1 §4.3.3)
          return;
        }
      }
      throw new Error('no such packet');
    },
    async outgoingClearMessageId(client: { id: string }, packet: AnyPacket) {
      const q = queueOf(client.id, false);
      for (let i = 0; i < q.length; i++) {
        const temp = q[i] as AnyPacket;
        if (temp.messageId === packet.messageId) {
          q.splice(i, 1);
          if (q.length === 0) outgoing.delete(client.id);
          return temp;
        }
      }
      return undefined;
    },
    outgoingStream(client: { id: string }) {
      // A shallow copy, as upstream does, so concurrent updates do not disturb the stream.
      return Readable.from([...queueOf(client.id, false)]);
    },
  };

  const persistence = new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && Object.hasOwn(overrides, prop)) return overrides[prop];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });

  return {
    persistence,
    dropped: () => dropped,
    queueLength: (id) => outgoing.get(id)?.length ?? 0,
  };
}
