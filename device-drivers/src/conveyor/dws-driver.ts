/**
 * DWS / sorter line driver: the line's TCP telegrams ⇄ the shared MQTT contract, under the
 * line's own device identity (docs/mqtt.md).
 *
 *   parcel telegram  → dev/{id}/evt/parcel  {msg_id, seq, barcode|null, grams, length_mm, width_mm, height_mm}
 *   dev/{id}/cmd/divert {seq, chute, …} → reply telegram (destination) to the line
 *   dev/{id}/state   retained online / offline / error + reason; last will `offline`
 *
 * The belt cannot wait (docs/devices/conveyors.md, OPEX "ELC timeout"): when no divert arrives within the
 * line's `replyTimeoutMs` the driver replies the default chute itself. A telegram repeated by
 * the line (same seq, same content) is not published again; if it was already answered, the
 * same reply is sent again. `msg_id` = line id + seq + a digest of the content, so an MQTT
 * redelivery or a driver restart dedupes at the gateway, while a seq reused after the counter
 * wraps (4-digit counters wrap every 10,000 parcels) is a new message.
 */
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { type ErrorCode, type ErrorDetails, PacklineError } from '../../../contracts/errors.js';
import type { DeviceState, ParcelEvent } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import { decodeEvent } from '../../../contracts/validate.js';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from '../transports/backoff.js';
import type { DwsDefinition } from './definitions.js';
import { type ParcelTelegram, TelegramCodec, type TelegramDecoder } from './telegram.js';
import type { StreamTransport } from './tcp-transport.js';

/** The logging surface drivers need; a pino logger satisfies it. */
export interface DriverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
const noop = () => {};
const silent: DriverLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface DwsDriverOptions {
  readonly deviceId: string;
  readonly definition: DwsDefinition;
  /** Site overrides of the definition's timing. */
  readonly replyTimeoutMs?: number;
  readonly defaultChute?: string;
  readonly transport: StreamTransport;
  /** MQTT as the device itself: username = device id, password = its secret. */
  readonly mqtt: { readonly url: string; readonly password: string; readonly clientId?: string };
  readonly backoff?: Partial<BackoffOptions>;
  /** Seqs remembered for duplicate detection and late diverts; default 1024. */
  readonly recentLimit?: number;
  readonly logger?: DriverLogger;
}

export interface DwsDriverStats {
  telegrams: number;
  published: number;
  duplicates: number;
  replies: number;
  timeouts: number;
  lateDiverts: number;
  strayDiverts: number;
  errors: Partial<Record<ErrorCode, number>>;
  connections: number;
}

interface Parcel {
  readonly seq: number;
  readonly digest: string;
  readonly barcode: string | null;
  timer: NodeJS.Timeout | null;
  /** The reply telegram once sent (resent when the line repeats the telegram). */
  reply: Uint8Array | null;
}

type State = DeviceState['state'];

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class DwsDriver {
  readonly name: string;
  readonly #o: DwsDriverOptions;
  readonly #codec: TelegramCodec;
  readonly #log: DriverLogger;
  readonly #replyTimeoutMs: number;
  readonly #defaultChute: string;
  readonly #recent = new Map<number, Parcel>();
  readonly #stats: DwsDriverStats = {
    telegrams: 0,
    published: 0,
    duplicates: 0,
    replies: 0,
    timeouts: 0,
    lateDiverts: 0,
    strayDiverts: 0,
    errors: {},
    connections: 0,
  };
  #mqtt: MqttClient | null = null;
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #socket: Duplex | null = null;
  #state: { state: State; reason?: string } = { state: 'offline', reason: 'starting' };

  /** Throws PKL_CONFIG_INVALID for a template or chute that cannot work. */
  constructor(options: DwsDriverOptions) {
    this.#o = options;
    this.name = `dws:${options.deviceId}`;
    this.#codec = new TelegramCodec(options.definition.telegram);
    this.#log = options.logger ?? silent;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? options.definition.replyTimeoutMs;
    this.#defaultChute = options.defaultChute ?? options.definition.defaultChute;
    const problem = this.#codec.replyProblem({ seq: 0, chute: this.#defaultChute });
    if (problem !== null) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${this.name}: default chute: ${problem}` });
  }

  get state(): { state: State; reason?: string } {
    return { ...this.#state };
  }

  stats(): DwsDriverStats {
    return { ...this.#stats, errors: { ...this.#stats.errors } };
  }

  async start(): Promise<void> {
    // Loaded when a driver starts, not with the process (~4 MB resident otherwise).
    const { connect } = await import('mqtt');
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    const id = this.#o.deviceId;
    await this.#o.transport.open();
    const client = connect(this.#o.mqtt.url, {
      clientId: this.#o.mqtt.clientId ?? id,
      username: id,
      password: this.#o.mqtt.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      // MQTT 3.1.1 §3.1.2.5: the broker publishes the will when the driver vanishes without DISCONNECT.
      will: { topic: topics.deviceState(id), payload: Buffer.from(JSON.stringify({ state: 'offline', reason: 'driver lost' })), qos: 1, retain: true },
    });
    this.#mqtt = client;
    client.on('connect', () => {
      // Small QoS 1 packets would otherwise wait for the peer's delayed ACK (~40 ms on Linux),
      // a large slice of the line's reply budget. Every reconnect brings a new socket.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      // A reconnect may follow our will: say the real state again.
      this.#publishState();
      client.subscribe(topics.command(id, 'divert'), { qos: 1 }, (err) => {
        if (err) this.#log.warn({ err }, 'divert subscription failed');
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === topics.command(id, 'divert')) this.#onDivert(payload);
    });
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'mqtt error'));
    this.#loop = this.#run(abort.signal);
  }

  async stop(): Promise<void> {
    const abort = this.#abort;
    if (!abort) return;
    this.#abort = null;
    abort.abort();
    this.#socket?.destroy();
    await this.#loop;
    this.#loop = null;
    await this.#o.transport.close();
    for (const p of this.#recent.values()) if (p.timer) clearTimeout(p.timer);
    this.#recent.clear();
    const client = this.#mqtt;
    this.#mqtt = null;
    if (client) {
      this.#state = { state: 'offline', reason: 'driver stopped' };
      if (client.connected) {
        await client
          .publishAsync(topics.deviceState(this.#o.deviceId), JSON.stringify({ ...this.#state, ts: Date.now() }), { qos: 1, retain: true })
          .catch(() => {});
      }
      await client.endAsync();
    }
  }

  // ---- line connection ------------------------------------------------------------------

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ ...DEFAULT_BACKOFF, ...this.#o.backoff });
    const where = this.#o.transport.description;
    this.#setState('offline', `waiting for line (${where})`);
    while (!signal.aborted) {
      let socket: Duplex;
      try {
        socket = await this.#o.transport.connect(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.#setState('error', `line unreachable (${where}): ${(err as Error).message}`);
        await sleep(backoff.next(), signal);
        continue;
      }
      backoff.reset();
      this.#stats.connections++;
      this.#setState('online');
      await this.#pump(socket, signal);
      if (signal.aborted) break;
      this.#setState('offline', `line connection closed (${where})`);
      await sleep(backoff.next(), signal);
    }
  }

  #pump(socket: Duplex, signal: AbortSignal): Promise<void> {
    this.#socket = socket;
    const decoder: TelegramDecoder<ParcelTelegram> = this.#codec.createDecoder('parcel');
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        if (this.#socket === socket) this.#socket = null;
        socket.destroy();
        resolve();
      };
      const onAbort = () => done();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('data', (chunk: Buffer) => {
        for (const r of decoder.push(chunk)) {
          if (r.ok) this.#onParcel(r.value);
          else this.#badInput(r.code, r.detail, r.raw);
        }
      });
      socket.once('close', done);
      socket.once('end', done);
      socket.on('error', (err) => this.#log.warn({ err: err.message }, 'line socket error'));
    });
  }

  // ---- parcels --------------------------------------------------------------------------

  #onParcel(t: ParcelTelegram): void {
    this.#stats.telegrams++;
    const digest = createHash('sha1')
      .update(JSON.stringify([t.seq, t.barcode, t.grams, t.lengthMm, t.widthMm, t.heightMm]))
      .digest('hex')
      .slice(0, 10);
    const known = this.#recent.get(t.seq);
    if (known && known.digest === digest) {
      this.#stats.duplicates++;
      this.#log.debug({ seq: t.seq }, 'duplicate parcel telegram');
      if (known.reply) this.#write(known.reply);
      return;
    }
    if (known?.timer) clearTimeout(known.timer); // the seq counter wrapped: a new parcel
    this.#recent.delete(t.seq);
    const parcel: Parcel = { seq: t.seq, digest, barcode: t.barcode, timer: null, reply: null };
    parcel.timer = setTimeout(() => {
      this.#stats.timeouts++;
      this.#log.info({ seq: t.seq, chute: this.#defaultChute }, 'no divert in time: default chute');
      this.#reply(parcel, this.#defaultChute);
    }, this.#replyTimeoutMs);
    this.#recent.set(t.seq, parcel);
    this.#trimRecent();

    const event: ParcelEvent = {
      msg_id: `${this.#o.deviceId.slice(0, 40)}-${t.seq}-${digest}`,
      seq: t.seq,
      barcode: t.barcode,
      ts: Date.now(),
    };
    if (t.grams !== undefined) event.grams = t.grams;
    if (t.lengthMm !== undefined) event.length_mm = t.lengthMm;
    if (t.widthMm !== undefined) event.width_mm = t.widthMm;
    if (t.heightMm !== undefined) event.height_mm = t.heightMm;
    const body = JSON.stringify(event);
    const check = decodeEvent('parcel', body); // our own bug, not the line's: log it loudly
    if (!check.ok) {
      this.#badInput(check.code, check.details, body);
      return; // the timer answers the default chute
    }
    this.#mqtt?.publish(topics.event(this.#o.deviceId, 'parcel'), body, { qos: 1 }, (err) => {
      if (err) this.#log.warn({ err: err.message, seq: t.seq }, 'parcel event not delivered');
    });
    this.#stats.published++;
  }

  #trimRecent(): void {
    const limit = this.#o.recentLimit ?? 1024;
    for (const [seq, p] of this.#recent) {
      if (this.#recent.size <= limit) break;
      if (p.timer) continue; // still waiting for its answer
      this.#recent.delete(seq);
    }
  }

  #onDivert(payload: Buffer): void {
    let cmd: unknown;
    try {
      cmd = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.#badInput('PKL_PAYLOAD_NOT_JSON', {}, payload.toString('latin1').slice(0, 200));
    }
    const c = cmd as { seq?: unknown; barcode?: unknown; chute?: unknown };
    if (typeof cmd !== 'object' || cmd === null || typeof c.chute !== 'string' || (c.seq !== undefined && !Number.isInteger(c.seq))) {
      return this.#badInput('PKL_PAYLOAD_INVALID', { reason: 'divert needs chute (string) and an integer seq' }, JSON.stringify(cmd).slice(0, 200));
    }
    let parcel = typeof c.seq === 'number' ? this.#recent.get(c.seq) : undefined;
    if (c.seq === undefined) {
      // No seq: the oldest parcel still waiting with this barcode.
      for (const p of this.#recent.values())
        if (p.reply === null && p.barcode === c.barcode) {
          parcel = p;
          break;
        }
    }
    if (!parcel) {
      this.#stats.strayDiverts++;
      this.#log.warn({ seq: c.seq, chute: c.chute }, 'divert for an unknown parcel ignored');
      return;
    }
    if (parcel.reply !== null) {
      this.#stats.lateDiverts++;
      this.#log.warn({ seq: parcel.seq, chute: c.chute }, 'divert after the parcel was answered (late or repeated) ignored');
      return;
    }
    const problem = this.#codec.replyProblem({ seq: parcel.seq, chute: c.chute, barcode: parcel.barcode });
    if (problem !== null) {
      this.#badInput('PKL_PAYLOAD_INVALID', { reason: problem }, c.chute);
      this.#reply(parcel, this.#defaultChute);
      return;
    }
    this.#reply(parcel, c.chute);
  }

  #reply(parcel: Parcel, chute: string): void {
    if (parcel.timer) clearTimeout(parcel.timer);
    parcel.timer = null;
    try {
      parcel.reply = this.#codec.encodeReply({ seq: parcel.seq, chute, barcode: parcel.barcode });
    } catch (err) {
      // Only a seq or barcode the reply template cannot carry gets here (the chute was checked).
      const detail = err instanceof PacklineError ? (err.details ?? {}) : { reason: String(err) };
      this.#badInput('PKL_PAYLOAD_INVALID', detail, `seq ${parcel.seq}`);
      return;
    }
    this.#stats.replies++;
    this.#write(parcel.reply);
  }

  #write(bytes: Uint8Array): void {
    const s = this.#socket;
    if (!s || s.destroyed) {
      this.#log.warn({}, 'reply not sent: line not connected');
      return;
    }
    s.write(bytes);
  }

  // ---- state and errors -----------------------------------------------------------------

  #badInput(code: ErrorCode, detail: ErrorDetails, raw: string): void {
    this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1;
    this.#log.warn({ code, detail, raw }, 'input dropped');
  }

  #setState(state: State, reason?: string): void {
    if (this.#state.state === state && this.#state.reason === reason) return;
    this.#state = reason === undefined ? { state } : { state, reason };
    this.#publishState();
  }

  #publishState(): void {
    const client = this.#mqtt;
    if (!client?.connected) return; // published on (re)connect
    const body: DeviceState = { ...this.#state, ts: Date.now() };
    if (body.reason !== undefined) body.reason = body.reason.slice(0, 200);
    client.publish(topics.deviceState(this.#o.deviceId), JSON.stringify(body), { qos: 1, retain: true });
  }
}
