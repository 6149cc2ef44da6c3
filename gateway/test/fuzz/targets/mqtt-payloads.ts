/**
 * MQTT payloads on every topic of the topic map, through the real ingress path of a running
 * gateway (topic → device and role → payload schema → msg_id dedupe → station or line flow →
 * durable commit → ack) and the gateway's device-state handler.
 *
 * - `mqtt-payloads`: publishes go into the embedded aedes broker in-process (the path a
 *   device's PUBLISH takes after the socket), for speed.
 * - `mqtt-payloads-tcp`: the same inputs from real device clients over TCP with their own
 *   credentials, so the broker's ACL sits in front (denied publishes are acknowledged and
 *   dropped by the broker, MQTT 3.1.1 [MQTT-3.3.5-2]; the broker's ACL counter must match).
 *
 * Payloads: valid events (order and item barcodes of imported orders, plausible weights,
 * print results for the jobs the gateway actually sent, DWS parcels), valid events with
 * fields dropped/replaced/added, any JSON, broken JSON, random bytes, oversized bodies; with
 * fresh, repeated and malformed msg_ids. Topics: every event kind for every device (own and
 * not own role), an unknown device, device state, commands, acks, errors, station views,
 * gateway state and link, and malformed topics.
 *
 * Oracle: every event-topic input is answered exactly once on `dev/{id}/ack` or `dev/{id}/err`
 * — except an accepted event without msg_id (nothing to acknowledge) — and every `err` carries
 * a catalogue code; no error is logged; afterwards a valid scan is still acknowledged.
 */
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { isErrorCode } from '../../../../contracts/errors.js';
import { type EventKind, EVENT_KINDS, parseTopic, ROLE_EVENTS, type Role } from '../../../../contracts/topics.js';
import { decodeEvent } from '../../../../contracts/validate.js';
import { canPublish } from '../../../src/broker/acl.js';
import { device } from '../../support/floor.js';
import { startGatewayRig, type GatewayRig } from '../gateway-rig.js';
import { jsonish, mutatedObject, NASTY_STRINGS, Rng } from '../gen.js';
import type { FuzzTarget, Tally } from '../harness.js';

interface Dev {
  id: string;
  role: Role;
}

const DEVICES: Dev[] = [
  { id: 'st-1-scanner', role: 'scanner' },
  { id: 'st-1-scale', role: 'scale' },
  { id: 'st-1-printer', role: 'printer' },
  { id: 'st-1-display', role: 'display' },
  { id: 'st-2-scanner', role: 'scanner' },
  { id: 'st-2-scale', role: 'scale' },
  { id: 'st-2-printer', role: 'printer' },
  { id: 'pda-1', role: 'pda' },
  { id: 'line-1-dws', role: 'conveyor' },
];
/** Replies to this id are ignored: fuzz inputs on ack/err topics use it, so they never look like gateway replies. */
const NOISE_ID = 'fz-noise';
const UNKNOWN_ID = 'ghost-1';

interface Input {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
}

interface Expectation {
  /** Replies that must come, per device id: every refused input and every accepted one with a msg_id. */
  must: Map<string, number>;
  /** Replies that may come: a schema-valid event without msg_id is answered only if its owner refuses it. */
  may: Map<string, number>;
}

function add(m: Map<string, number>, id: string): void {
  m.set(id, (m.get(id) ?? 0) + 1);
}

class PayloadGen {
  private jobIds: string[] = ['job-unknown'];
  private recentMsgIds: string[] = [];
  private values: unknown[] = [];
  private randomDocs: unknown[] = [];

  constructor(
    private readonly rig: GatewayRig,
    private readonly rng: Rng,
    seed: number,
    count: number,
  ) {
    this.values = fc.sample(jsonish, { seed, numRuns: 64 });
    this.randomDocs = fc.sample(jsonish, { seed: seed ^ 0xabc, numRuns: Math.ceil(count / 8) + 1 });
  }

  noteJob(jobId: string): void {
    this.jobIds.push(jobId);
    if (this.jobIds.length > 200) this.jobIds.shift();
  }

  private msgId(i: number, seed: number): string | undefined {
    const r = this.rng.next();
    if (r < 0.15) return undefined;
    if (r < 0.22 && this.recentMsgIds.length > 0) return this.rng.pick(this.recentMsgIds); // a redelivery
    if (r < 0.25) return this.rng.pick(['', ' ', 'é', 'x'.repeat(65), 'a b']);
    const id = `fz-${seed}-${i}`;
    this.recentMsgIds.push(id);
    if (this.recentMsgIds.length > 50) this.recentMsgIds.shift();
    return id;
  }

  validEvent(kind: EventKind, i: number, seed: number): Record<string, unknown> {
    const rng = this.rng;
    const base: Record<string, unknown> = {};
    const id = this.msgId(i, seed);
    if (id !== undefined) base.msg_id = id;
    if (rng.chance(0.5)) base.ts = Date.now();
    switch (kind) {
      case 'scan':
        return { ...base, code: rng.chance(0.5) ? rng.pick(this.rig.orderCodes) : rng.chance(0.6) ? rng.pick(this.rig.itemCodes) : `X${rng.int(1e6)}` };
      case 'weight':
        return { ...base, grams: rng.chance(0.2) ? 0 : rng.pick([450, 500, 550, 600, 1234.5, -3, 499_999]), stable: rng.chance(0.8) };
      case 'parcel':
        return {
          ...base,
          seq: rng.int(100_000),
          barcode: rng.chance(0.1) ? null : rng.pick(this.rig.orderCodes),
          ...(rng.chance(0.8) && { grams: rng.pick([450, 500, 600, 5000]) }),
          ...(rng.chance(0.6) && { length_mm: rng.int(900), width_mm: rng.int(600), height_mm: rng.int(500) }),
        };
      case 'print_result':
        return { ...base, job_id: rng.pick(this.jobIds), status: rng.chance(0.8) ? 'printed' : 'failed', ...(rng.chance(0.3) && { reason: 'paper_out' }) };
      case 'pda_login':
        return { ...base, operator: rng.pick(['op-1', '张三', 'x']), ...(rng.chance(0.5) && { station_id: rng.pick(['st-1', 'st-2', 'nope']) }) };
      case 'pda_confirm':
        return { ...base, task_id: `task-${rng.int(100)}`, result: rng.chance(0.8) ? 'done' : 'failed' };
      case 'pick_request':
        return { ...base, ...(rng.chance(0.5) && { order: rng.pick(this.rig.orderCodes) }) };
      case 'pick_accept':
        return { ...base, task_id: `W-${rng.int(100)}`, ...(rng.chance(0.5) && { operator: 'op-1' }) };
      case 'pick_line':
        return { ...base, task_id: `W-${rng.int(100)}`, location: `A01-0${rng.int(9)}-1`, item: rng.pick(this.rig.itemCodes), qty: rng.range(1, 4) };
      case 'pick_short':
        return {
          ...base,
          task_id: `W-${rng.int(100)}`,
          location: `A01-0${rng.int(9)}-1`,
          item: rng.pick(this.rig.itemCodes),
          found: rng.int(3),
          reason: rng.pick(['not_there', 'damaged', 'fewer']),
        };
      case 'pick_sort':
        return { ...base, task_id: `W-${rng.int(100)}`, item: rng.pick(this.rig.itemCodes) };
      case 'replenish_confirm':
        return { ...base, task_id: `R-${rng.int(100)}`, ...(rng.chance(0.5) && { qty: rng.range(1, 20) }) };
      case 'handover_scan':
        return { ...base, manifest_id: rng.pick(['M-none', 'x']), code: rng.pick(this.rig.orderCodes) };
      case 'recall_scan':
        return { ...base, code: rng.pick(this.rig.orderCodes) };
    }
  }

  payload(kind: EventKind, i: number, seed: number): Buffer {
    const rng = this.rng;
    const r = rng.next();
    if (r < 0.4) return Buffer.from(JSON.stringify(this.validEvent(kind, i, seed)));
    if (r < 0.7) return Buffer.from(JSON.stringify(mutatedObject(rng, this.validEvent(kind, i, seed), this.values)) ?? 'null');
    if (r < 0.82) return Buffer.from(JSON.stringify(this.randomDocs[i % this.randomDocs.length]) ?? '');
    if (r < 0.9) {
      const text = JSON.stringify(this.validEvent(kind, i, seed));
      return Buffer.from(text.slice(0, rng.int(text.length))); // cut short
    }
    if (r < 0.94) return Buffer.from(`{"msg_id":"fz-raw-${i}","__proto__":{"code":"PKX"},"constructor":{"prototype":{}},"code":"PKO-1"}`);
    if (r < 0.97) return Buffer.from(rng.bytes(rng.range(0, 64)));
    return Buffer.from(JSON.stringify({ ...this.validEvent(kind, i, seed), pad: 'x'.repeat(rng.range(3000, 9000)) }));
  }

  /** One input on any topic of the topic map (and a few outside it). */
  input(i: number, seed: number): { input: Input; from: Dev | null } {
    const rng = this.rng;
    const r = rng.next();
    const qos = rng.chance(0.5) ? 1 : 0;
    if (r < 0.82) {
      const dev = rng.chance(0.97) ? rng.pick(DEVICES) : { id: UNKNOWN_ID, role: 'scanner' as Role };
      const own = ROLE_EVENTS[dev.role];
      const kind = own.length > 0 && rng.chance(0.8) ? rng.pick(own) : rng.pick(EVENT_KINDS);
      return { input: { topic: `dev/${dev.id}/evt/${kind}`, payload: this.payload(kind, i, seed), qos }, from: dev };
    }
    const dev = rng.pick(DEVICES);
    const any = () =>
      Buffer.from(
        JSON.stringify(
          rng.chance(0.5)
            ? this.randomDocs[i % this.randomDocs.length]
            : { state: rng.pick(['online', 'offline', 'error', 'x', 7]), reason: rng.pick(NASTY_STRINGS) },
        ) ?? '',
      );
    const topics = [
      `dev/${dev.id}/state`,
      `dev/${dev.id}/cmd/${rng.pick(['print', 'divert', 'display', 'task', 'zero', 'tare', 'bogus'])}`,
      `dev/${NOISE_ID}/ack`,
      `dev/${NOISE_ID}/err`,
      `station/${rng.pick(['st-1', 'st-2', 'st-x'])}/view`,
      'gateway/gw-test/link',
      'gateway/other/state',
      `dev/${dev.id}/evt`,
      `dev/${dev.id}/evt/scan/extra`,
      `dev//evt/scan`,
      `DEV/${dev.id}/evt/scan`,
      `dev/${'x'.repeat(65)}/evt/scan`,
      `dev/${dev.id}/evt/${rng.pick(NASTY_STRINGS.filter((s) => s !== '' && !s.includes('+') && !s.includes('#') && !s.includes('\u0000')))}`,
    ];
    return { input: { topic: rng.pick(topics), payload: any(), qos }, from: null };
  }
}

/** What the ingress owes an event-topic input, computed from the contract. */
function expectReply(exp: Expectation, topic: string, payload: Buffer): void {
  const parsed = parseTopic(topic);
  if (parsed === null || parsed.type !== 'event') return; // not the ingress' topic: no answer
  const dev = DEVICES.find((d) => d.id === parsed.deviceId);
  if (dev === undefined || !ROLE_EVENTS[dev.role].includes(parsed.kind)) return add(exp.must, parsed.deviceId);
  const decoded = decodeEvent(parsed.kind, payload);
  if (!decoded.ok || (decoded.value as { msg_id?: string }).msg_id !== undefined) return add(exp.must, parsed.deviceId);
  add(exp.may, parsed.deviceId);
}

/**
 * One event with a msg_id per owner (both stations, the line) after the batch: owners work
 * their queues in order, so once these are answered every earlier input has been settled.
 */
const PROBES: Array<{ deviceId: string; kind: EventKind; body: (rig: GatewayRig) => Record<string, unknown> }> = [
  { deviceId: 'st-1-scanner', kind: 'scan', body: (rig) => ({ code: rig.orderCodes[2] }) },
  { deviceId: 'st-2-scanner', kind: 'scan', body: (rig) => ({ code: rig.orderCodes[1] }) },
  { deviceId: 'line-1-dws', kind: 'parcel', body: (rig) => ({ seq: 1, barcode: rig.orderCodes[8] ?? null, grams: 500 }) },
];
let probeN = 0;

function sendProbes(rig: GatewayRig, exp: Expectation, publish: (deviceId: string, topic: string, payload: Buffer) => void): void {
  for (const p of PROBES) {
    add(exp.must, p.deviceId);
    publish(p.deviceId, `dev/${p.deviceId}/evt/${p.kind}`, Buffer.from(JSON.stringify({ msg_id: `probe-${++probeN}`, ...p.body(rig) })));
  }
}

interface Reply {
  deviceId: string;
  kind: 'ack' | 'err';
  body: Record<string, unknown> | null;
}

/** Checks and counts replies; resolves when every expected reply arrived. */
class ReplyBook {
  readonly got = new Map<string, number>();
  failures: string[] = [];
  acks = 0;
  silent = 0;
  readonly codes = new Map<string, number>();
  private waiter: (() => void) | null = null;
  private expected: Map<string, number> = new Map();

  total = 0;

  onReply(r: Reply): void {
    if (r.deviceId === NOISE_ID) return;
    this.total++;
    this.got.set(r.deviceId, (this.got.get(r.deviceId) ?? 0) + 1);
    if (r.body === null) this.failures.push(`unparseable reply on dev/${r.deviceId}/${r.kind}`);
    else if (r.kind === 'ack') {
      this.acks++;
      if (typeof r.body.kind !== 'string') this.failures.push(`ack without kind: ${JSON.stringify(r.body)}`);
    } else {
      const code = r.body.code;
      if (!isErrorCode(code) || typeof r.body.message !== 'string' || typeof r.body.message_zh !== 'string') {
        this.failures.push(`err reply not a catalogue wire error: ${JSON.stringify(r.body)}`);
      } else if (!String(r.body.msg_id ?? '').startsWith('probe-')) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
    this.check();
  }

  expect(e: Expectation): Promise<void> {
    this.expected = e.must;
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.check();
    });
  }

  private check(): void {
    if (this.waiter === null) return;
    for (const [id, n] of this.expected) if ((this.got.get(id) ?? 0) < n) return;
    const w = this.waiter;
    this.waiter = null;
    w();
  }

  missing(): string {
    const out: string[] = [];
    for (const [id, n] of this.expected) if ((this.got.get(id) ?? 0) !== n) out.push(`${id}: ${this.got.get(id) ?? 0}/${n}`);
    return out.join(', ');
  }

  reset(): void {
    this.got.clear();
    this.failures = [];
    this.acks = 0;
    this.codes.clear();
  }
}

function parseReply(topic: string, payload: Buffer): Reply | null {
  const m = /^dev\/([^/]+)\/(ack|err)$/.exec(topic);
  if (!m) return null;
  let body: Record<string, unknown> | null = null;
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    body = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    body = null;
  }
  return { deviceId: m[1] as string, kind: m[2] as 'ack' | 'err', body };
}

const REPLY_TIMEOUT_MS = 60_000;

async function settleBatch(book: ReplyBook, exp: Expectation, rig: GatewayRig, seed: number, count: number, tally: Tally, denied = 0): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    book.expect(exp).then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), REPLY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  // An owner may answer an input after a later probe (a refusal that waits for its commit),
  // and a second reply to one input would come late too: wait until replies stop arriving.
  for (let last = -1; last !== book.total; ) {
    last = book.total;
    await new Promise((r) => setTimeout(r, 150));
  }
  const extra: string[] = [];
  for (const [id, n] of book.got) {
    const most = (exp.must.get(id) ?? 0) + (exp.may.get(id) ?? 0);
    if (n > most) extra.push(`${id}: ${n} replies, at most ${most} owed`);
  }
  const errors = rig.takeErrors();
  // Batch-level findings cannot be pinned on one input: they count as failures, not inputs.
  const fail = (problem: string) => tally.fail(seed, -1, `batch of ${count}`, problem, true);
  if (timedOut) fail(`no reply within ${REPLY_TIMEOUT_MS} ms for some inputs (or the gateway stopped answering): ${book.missing()}`);
  if (extra.length > 0) fail(`more replies than inputs: ${extra.join(', ')}`);
  for (const f of book.failures.slice(0, 5)) fail(f);
  for (const e of errors.slice(0, 5)) fail(`gateway logged an error: ${e.slice(0, 400)}`);
  // Accepted: acknowledged events and inputs that needed no answer; rejected: by err code.
  // The probes (one per owner, not inputs) are answered with acks or refusals of their own.
  let errs = 0;
  for (const [code, n] of book.codes) {
    errs += n;
    for (let k = 0; k < n; k++) tally.reject(code);
  }
  const ok = Math.max(0, count - denied - errs);
  for (let k = 0; k < ok; k++) tally.accept();
  for (let k = 0; k < denied; k++) tally.reject('PKL_ACL_DENIED');
  book.reset();
}

function aedesPublish(rig: GatewayRig, topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
  return new Promise((resolve) => rig.aedes.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, () => resolve()));
}

export const mqttPayloadsTarget: FuzzTarget = {
  name: 'mqtt-payloads',
  description: 'payloads on every topic of the topic map into the embedded broker in-process → ingress (schema, dedupe) → station/line flow → ack/err',
  batchSize: 2_000,
  async open() {
    const rig = await startGatewayRig();
    const book = new ReplyBook();
    let gen: PayloadGen | null = null;
    const jobs: string[] = [];
    rig.aedes.subscribe(
      'dev/+/ack',
      (p, cb) => (book.onReply(parseReply(p.topic, Buffer.from(p.payload)) as Reply), cb()),
      () => undefined,
    );
    rig.aedes.subscribe(
      'dev/+/err',
      (p, cb) => (book.onReply(parseReply(p.topic, Buffer.from(p.payload)) as Reply), cb()),
      () => undefined,
    );
    rig.aedes.subscribe(
      'dev/+/cmd/print',
      (p, cb) => {
        try {
          const job = (JSON.parse(Buffer.from(p.payload).toString()) as { job_id?: unknown }).job_id;
          if (typeof job === 'string') jobs.push(job);
        } catch {
          /* a fuzzed command */
        }
        cb();
      },
      () => undefined,
    );
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        gen = new PayloadGen(rig, rng, seed, count);
        for (const j of jobs.splice(0)) gen.noteJob(j);
        const exp: Expectation = { must: new Map(), may: new Map() };
        const sends: Array<Promise<void>> = [];
        for (let i = 0; i < count; i++) {
          const { input } = gen.input(i, seed);
          expectReply(exp, input.topic, input.payload);
          sends.push(aedesPublish(rig, input.topic, input.payload, input.qos));
        }
        await Promise.all(sends);
        sendProbes(rig, exp, (_d, t, p) => void aedesPublish(rig, t, p, 1));
        await settleBatch(book, exp, rig, seed, count, tally);
      },
      close: () => rig.close(),
    };
  },
};

export const mqttPayloadsTcpTarget: FuzzTarget = {
  name: 'mqtt-payloads-tcp',
  description: 'the same payloads from real device clients over TCP with their own credentials (ACL in front) → ingress → station/line flow',
  batchSize: 2_000,
  async open() {
    const rig = await startGatewayRig();
    const book = new ReplyBook();
    const jobs: string[] = [];
    const clients = new Map<string, MqttClient>();
    let disconnects = 0;
    for (const d of DEVICES) {
      const c = await device(rig.info.mqttUrl as string, d.id, rig.secrets[d.id] as string);
      c.on('close', () => disconnects++);
      c.on('message', (topic, payload) => {
        if (topic.endsWith('/cmd/print')) {
          try {
            const job = (JSON.parse(payload.toString()) as { job_id?: unknown }).job_id;
            if (typeof job === 'string') jobs.push(job);
          } catch {
            /* ignore */
          }
          return;
        }
        const r = parseReply(topic, payload);
        if (r) book.onReply(r);
      });
      await c.subscribeAsync([`dev/${d.id}/ack`, `dev/${d.id}/err`, ...(d.role === 'printer' ? [`dev/${d.id}/cmd/print`] : [])], { qos: 1 });
      clients.set(d.id, c);
    }
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        const gen = new PayloadGen(rig, rng, seed, count);
        for (const j of jobs.splice(0)) gen.noteJob(j);
        const exp: Expectation = { must: new Map(), may: new Map() };
        const deniedBefore = rig.broker.stats().aclDenied.publish;
        let denied = 0;
        let deniedAnswered = 0;
        const sends: Array<Promise<unknown>> = [];
        for (let i = 0; i < count; i++) {
          const { input, from } = gen.input(i, seed);
          // Each input goes out on a real connection: the named device's own, or a random one
          // for topics outside a device (the ACL decides).
          const sender = from !== null && clients.has(from.id) && rng.chance(0.9) ? (from as Dev) : rng.pick(DEVICES);
          const allowed = canPublish({ deviceId: sender.id, role: sender.role, station: null }, input.topic);
          // A refused publish inside the sender's own subtree is answered on its err topic
          // (docs/mqtt.md §3); one elsewhere is dropped without an answer.
          const own = input.topic.startsWith(`dev/${sender.id}/`);
          if (!allowed) {
            denied++;
            if (own) {
              add(exp.must, sender.id);
              deniedAnswered++;
            }
          } else {
            expectReply(exp, input.topic, input.payload);
            // A device state that fails its schema is refused with a coded answer too.
            if (own && input.topic === `dev/${sender.id}/state`) add(exp.may, sender.id);
          }
          const c = clients.get(sender.id) as MqttClient;
          sends.push(
            c
              .publishAsync(input.topic, input.payload, { qos: input.qos })
              .catch((err: Error) => tally.fail(seed, i, input, `publish failed: ${err.message}`, true)),
          );
        }
        await Promise.all(sends);
        // A QoS 1 round trip on every connection: its PUBACK comes after the broker handled
        // every earlier packet of that connection (QoS 0 ones included), then the probes.
        await Promise.all([...clients.entries()].map(([id, c]) => c.publishAsync(`dev/${id}/state`, '{"state":"online"}', { qos: 1 })));
        sendProbes(rig, exp, (d, t, p) => void (clients.get(d) as MqttClient).publishAsync(t, p, { qos: 1 }));
        // Answered refusals are tallied by their err codes, so they are not subtracted twice.
        await settleBatch(book, exp, rig, seed, count, tally, denied - deniedAnswered);
        const deniedSeen = rig.broker.stats().aclDenied.publish - deniedBefore;
        if (deniedSeen !== denied) tally.fail(seed, -1, `batch of ${count}`, `broker denied ${deniedSeen} publishes, the ACL rules say ${denied}`, true);
        if (disconnects > 0) tally.fail(seed, -1, `batch of ${count}`, `${disconnects} device connections dropped`, true);
        disconnects = 0;
      },
      async close() {
        await Promise.all([...clients.values()].map((c) => c.endAsync(true).catch(() => undefined)));
        await rig.close();
      },
    };
  },
};
