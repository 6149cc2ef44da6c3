/**
 * ScaleDriver: one wire-protocol scale bridged onto MQTT under the scale's own identity.
 *
 *   transport (serial / TCP device server) ──bytes──▶ protocol decoder ──frames──▶
 *     `dev/{id}/evt/weight` {grams, stable}   (rate-limited by WeightGate)
 *     retained `dev/{id}/state` online | offline | error (+ reason), last will offline
 *   `dev/{id}/cmd/zero|tare` ──▶ protocol encoder ──▶ transport
 *
 * Lifecycle (a Component: start/stop, both idempotent). start() connects to MQTT (and fails
 * on bad credentials) and then opens the port in the background: a scale unplugged at boot is
 * normal, not a start failure. Whenever the port cannot be opened or closes (USB unplug,
 * device server gone) the state becomes `offline` with the reason and the driver retries with
 * exponential backoff + jitter; the first good frame after that makes it `online` again.
 * An open port that yields no good frame for `silenceMs` is `error` ("no frames for 5 s",
 * or "only invalid frames …" with the coded frame errors counted).
 */
import { pino, type Logger } from 'pino';
import { describeError, PacklineError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import type { CommandKind } from '../../../contracts/topics.js';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from '../transports/backoff.js';
import { type ByteTransport, errorMessage, type TransportFactory } from '../transports/byte-transport.js';
import { DeviceMqttSession, type MqttDeviceOptions, type StateValue } from './driver/mqtt-session.js';
import { pollSequence } from './driver/poll-plan.js';
import { DEFAULT_WEIGHT_GATE, WeightGate, type WeightGateOptions } from './driver/weight-gate.js';
import { protocolOf } from './index.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleDefinition, ScaleFrame, ScaleProtocol } from './types.js';

export interface ScaleDriverOptions {
  readonly definition: ScaleDefinition;
  /** A fresh transport per connection attempt. */
  readonly transport: TransportFactory;
  readonly mqtt: MqttDeviceOptions;
  /** Time between polls for polled protocols (MT-SICS `SI`, Aclas passive ENQ/DC1, 8217 `W`). Default 200 ms. */
  readonly pollIntervalMs?: number;
  /** A poll unanswered this long is sent again. Default 1000 ms. */
  readonly replyTimeoutMs?: number;
  /** No good frame for this long on an open port → state `error`. Default 5000 ms. */
  readonly silenceMs?: number;
  readonly weightGate?: WeightGateOptions;
  readonly backoff?: BackoffOptions;
  readonly logger?: Logger;
}

export interface ScaleDriverStats {
  readonly state: StateValue;
  readonly reason: string | undefined;
  readonly framesDecoded: number;
  readonly weightsPublished: number;
  /** Coded frame errors by code (`PKL_FRAME_CHECKSUM`, …) and device refusals (`device-error:syntax`). */
  readonly frameErrors: Readonly<Record<string, number>>;
  readonly portOpens: number;
  readonly commandsSent: number;
}

/** WeightEvent bounds (contracts/payloads.ts `Grams`). */
const MAX_ABS_GRAMS = 500_000;

const SCALE_COMMANDS: readonly CommandKind[] = ['zero', 'tare'];

function codedReason(code: ErrorCode, details: ErrorDetails): string {
  return `${code}: ${describeError(code, details).en}`;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}

export class ScaleDriver {
  readonly name: string;
  readonly #o: ScaleDriverOptions;
  readonly #protocol: ScaleProtocol;
  readonly #decoder: ScaleDecoder;
  readonly #poll: readonly ScaleCommand[] | null;
  readonly #gate: WeightGate;
  readonly #backoff: Backoff;
  readonly #mqtt: DeviceMqttSession;
  readonly #log: Logger;
  readonly #silenceMs: number;
  /** The definition's protocol options plus what the open link told (HID report layout). */
  #commandOptions: ProtocolOptions | undefined;

  #running = false;
  #transport: ByteTransport | null = null;
  #portOpen = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastGoodAt = 0;
  #invalidSinceGood = new Map<string, number>();
  #pollStep = -1;
  #pollSentAt = 0;

  #framesDecoded = 0;
  #weightsPublished = 0;
  #frameErrors = new Map<string, number>();
  #portOpens = 0;
  #commandsSent = 0;

  constructor(options: ScaleDriverOptions) {
    const protocol = protocolOf(options.definition);
    if (protocol === undefined) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `scale ${options.definition.id}: unknown protocol "${options.definition.protocol}"` });
    }
    this.#o = options;
    this.#protocol = protocol;
    // Throws PKL_CONFIG_INVALID on bad protocol options: a configuration error surfaces at construction.
    this.#decoder = protocol.createDecoder(options.definition.options);
    this.#commandOptions = options.definition.options;
    this.#poll = pollSequence(options.definition, protocol);
    this.#gate = new WeightGate(options.weightGate ?? DEFAULT_WEIGHT_GATE);
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.#silenceMs = options.silenceMs ?? 5_000;
    this.name = `scale:${options.mqtt.deviceId}`;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#mqtt = new DeviceMqttSession(options.mqtt, SCALE_COMMANDS, (kind, payload) => this.#onCommand(kind, payload));
  }

  get deviceId(): string {
    return this.#o.mqtt.deviceId;
  }

  /** True when the protocol is polled (the driver sends requests); false for streaming scales. */
  get polled(): boolean {
    return this.#poll !== null;
  }

  stats(): ScaleDriverStats {
    const s = this.#mqtt.state;
    return {
      state: s.state,
      reason: s.reason,
      framesDecoded: this.#framesDecoded,
      weightsPublished: this.#weightsPublished,
      frameErrors: Object.fromEntries(this.#frameErrors),
      portOpens: this.#portOpens,
      commandsSent: this.#commandsSent,
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#mqtt.start();
    this.#running = true;
    void this.#connectPort();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#reconnectTimer);
    this.#stopPortTimers();
    const t = this.#transport;
    this.#transport = null;
    this.#portOpen = false;
    if (t) await t.close().catch(() => undefined);
    await this.#mqtt.stop('offline', 'driver stopped');
  }

  // ---- port lifecycle -------------------------------------------------------------------

  async #connectPort(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (!this.#running) return;
    let t: ByteTransport;
    try {
      t = this.#o.transport();
    } catch (err) {
      this.#setState('offline', `port unavailable: ${errorMessage(err)}`);
      return this.#scheduleReconnect();
    }
    this.#transport = t;
    t.onData((chunk) => {
      if (this.#transport === t) this.#onData(chunk);
    });
    t.onClose((reason) => this.#onPortClosed(t, reason));
    try {
      await t.open();
    } catch (err) {
      if (this.#transport !== t) return;
      this.#transport = null;
      this.#setState('offline', `port unavailable: ${t.description}: ${errorMessage(err)}`);
      return this.#scheduleReconnect();
    }
    if (!this.#running || this.#transport !== t) {
      await t.close().catch(() => undefined);
      return;
    }
    this.#portOpen = true;
    this.#portOpens++;
    this.#commandOptions = {
      ...this.#o.definition.options,
      ...(t.reportDescriptor === undefined ? {} : this.#protocol.linkOptions?.({ reportDescriptor: t.reportDescriptor })),
    };
    this.#decoder.reset();
    this.#gate.reset();
    this.#lastGoodAt = Date.now();
    this.#invalidSinceGood.clear();
    this.#log.info({ port: t.description }, 'scale port open');
    if (this.#mqtt.state.state !== 'online') this.#setState('offline', `waiting for frames on ${t.description}`);
    this.#watchdog = setInterval(() => this.#checkSilence(), Math.max(50, Math.min(500, this.#silenceMs / 4)));
    if (this.#poll !== null) {
      this.#pollTimer = setInterval(() => this.#sendPoll(), this.#o.pollIntervalMs ?? 200);
      this.#sendPoll();
    }
  }

  #onPortClosed(t: ByteTransport, reason: string): void {
    if (this.#transport !== t) return;
    this.#transport = null;
    this.#portOpen = false;
    this.#stopPortTimers();
    if (!this.#running) return;
    this.#log.warn({ port: t.description, reason }, 'scale port closed');
    this.#setState('offline', `${t.description}: ${reason}`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (!this.#running || this.#reconnectTimer !== undefined) return;
    const delay = this.#backoff.next();
    this.#reconnectTimer = setTimeout(() => void this.#connectPort(), delay);
  }

  #stopPortTimers(): void {
    clearInterval(this.#pollTimer);
    clearInterval(this.#watchdog);
    this.#pollTimer = undefined;
    this.#watchdog = undefined;
    this.#pollStep = -1;
  }

  #checkSilence(): void {
    const quiet = Date.now() - this.#lastGoodAt;
    if (quiet < this.#silenceMs) return;
    const secs = formatSeconds(this.#silenceMs);
    if (this.#invalidSinceGood.size === 0) {
      this.#setState('error', `no frames for ${secs} s`);
    } else {
      const counts = [...this.#invalidSinceGood].map(([code, n]) => `${code} x${n}`).join(', ');
      this.#setState('error', `only invalid frames for ${secs} s (${counts})`.slice(0, 200));
    }
  }

  // ---- bytes in -------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    for (const frame of this.#decoder.push(chunk)) this.#onFrame(frame);
    // A HID read is one whole report: a stub left over is dropped, never completed by the next.
    if (this.#transport?.messages === true) for (const frame of this.#decoder.flush?.() ?? []) this.#onFrame(frame);
  }

  #onFrame(frame: ScaleFrame): void {
    if (frame.type === 'error') {
      this.#countError(frame.code);
      this.#log.debug({ code: frame.code, detail: frame.detail, raw: frame.raw }, 'scale frame dropped');
      // A garbled answer (a cut-off line glued to the next) is still the scale answering: ask
      // again at the next poll tick instead of waiting replyTimeoutMs for an answer that will
      // not come. Before, such a line could pass as a reply; now it is refused (never a reading).
      if (this.#pollStep >= 0) this.#answered();
      return;
    }
    this.#framesDecoded++;
    this.#lastGoodAt = Date.now();
    this.#invalidSinceGood.clear();
    switch (frame.type) {
      case 'weight':
        this.#answered();
        this.#alive();
        this.#onWeight(frame.grams, frame.stable && !frame.overload && !frame.underload && !frame.outOfRange);
        return;
      case 'status':
        this.#answered();
        if (frame.fault !== undefined) this.#setState('error', `scale reports: ${frame.fault}`.slice(0, 200));
        else this.#alive();
        return;
      case 'reply':
        this.#alive();
        // Multi-step poll (Aclas/CAS ENQ → ACK → DC1): the handshake reply triggers the next step.
        if (this.#poll !== null && this.#pollStep >= 0 && this.#pollStep < this.#poll.length - 1 && frame.command === 'ENQ') {
          this.#pollStep++;
          void this.#send(this.#poll[this.#pollStep] as ScaleCommand);
          return;
        }
        if (frame.command === 'S' || frame.command === 'SI')
          this.#answered(); // `S I` / `S +` answer a weight poll
        else this.#log.info({ command: frame.command, status: frame.status, raw: frame.raw }, 'scale reply');
        return;
      case 'device-error':
        this.#answered();
        this.#countError(`device-error:${frame.reason}`);
        this.#log.warn({ reason: frame.reason, raw: frame.raw }, 'scale refused a command');
        return;
    }
  }

  #countError(code: string): void {
    this.#frameErrors.set(code, (this.#frameErrors.get(code) ?? 0) + 1);
    this.#invalidSinceGood.set(code, (this.#invalidSinceGood.get(code) ?? 0) + 1);
  }

  #alive(): void {
    this.#backoff.reset();
    this.#setState('online');
  }

  #onWeight(grams: number, stable: boolean): void {
    if (!(Math.abs(grams) <= MAX_ABS_GRAMS)) {
      this.#countError('out-of-contract-range');
      return;
    }
    if (!this.#gate.offer({ grams, stable }, Date.now())) return;
    this.#weightsPublished++;
    // Stable readings decide a shipment: QoS 1. Unstable ones are superseded within ~100 ms: QoS 0.
    this.#mqtt.publishEvent('weight', { grams, stable, ts: Date.now() }, stable ? 1 : 0);
  }

  // ---- bytes out ------------------------------------------------------------------------

  #sendPoll(): void {
    if (this.#poll === null || !this.#portOpen) return;
    const outstanding = this.#pollStep >= 0;
    if (outstanding && Date.now() - this.#pollSentAt < (this.#o.replyTimeoutMs ?? 1_000)) return; // slow scale: do not pile up requests
    this.#pollStep = 0;
    this.#pollSentAt = Date.now();
    void this.#send(this.#poll[0] as ScaleCommand);
  }

  #answered(): void {
    this.#pollStep = -1;
  }

  async #send(command: ScaleCommand): Promise<boolean> {
    const t = this.#transport;
    if (!t || !this.#portOpen) return false;
    try {
      await t.write(this.#protocol.encode(command, this.#commandOptions));
      this.#commandsSent++;
      return true;
    } catch (err) {
      // A failing write is usually followed by the transport's close; the close path reconnects.
      this.#log.warn({ command, err: errorMessage(err) }, 'scale write failed');
      return false;
    }
  }

  #onCommand(kind: CommandKind, payload: Buffer): void {
    const refuse = (code: ErrorCode, details: ErrorDetails) => {
      this.#log.warn({ kind, code, details }, 'scale command refused');
      this.#mqtt.notice(codedReason(code, details));
    };
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return refuse('PKL_PAYLOAD_NOT_JSON', {});
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse('PKL_PAYLOAD_INVALID', { reason: `cmd/${kind} payload must be a JSON object` });
    }
    const command = kind as ScaleCommand; // 'zero' | 'tare' are ScaleCommand names too
    const capable = this.#o.definition.capabilities.includes(kind as 'zero' | 'tare') && this.#protocol.commands.includes(command);
    if (!capable) return refuse('PKL_SCALE_COMMAND_UNSUPPORTED', { protocol: this.#protocol.id, command: kind });
    if (!this.#portOpen) {
      return refuse('PKL_DEVICE_DISCONNECTED', { deviceId: this.deviceId, reason: this.#mqtt.state.reason ?? 'port closed' });
    }
    try {
      this.#protocol.encode(command, this.#commandOptions); // this device may lack it (HID: no Zero Scale output)
    } catch (err) {
      if (err instanceof PacklineError) return refuse(err.code, err.details ?? {});
      throw err;
    }
    void this.#send(command).then((ok) => {
      if (!ok) refuse('PKL_DEVICE_DISCONNECTED', { deviceId: this.deviceId, reason: 'write failed' });
    });
  }

  #setState(state: StateValue, reason?: string): void {
    const before = this.#mqtt.state;
    if (before.state === state && before.reason === reason) return;
    this.#log.info({ state, reason }, 'scale state');
    this.#mqtt.setState(state, reason);
  }
}
