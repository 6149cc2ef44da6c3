/**
 * A driver's MQTT connection under the device's own identity (docs/mqtt.md §1): client id =
 * device id (or `{id}:{suffix}`), username = device id, password = its secret, last will =
 * retained `dev/{id}/state` {state:'offline'} (MQTT 3.1.1 §3.1.2.5).
 *
 * On every (re)connect it subscribes to the device's command topics FIRST and only then
 * re-publishes its retained state: the `online` state is the gateway's signal that commands
 * now reach the device (docs/mqtt.md §2), and after a broker restart the will has already
 * replaced it with `offline`.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { DeviceState } from '../../../../contracts/payloads.js';
import { type CommandKind, type EventKind, topics } from '../../../../contracts/topics.js';

export interface MqttDeviceOptions {
  /** mqtt://host:port (or ws://…/mqtt). */
  readonly url: string;
  readonly deviceId: string;
  readonly secret: string;
  /** Suffix for a second connection of the same device (`{deviceId}:{suffix}`). */
  readonly clientIdSuffix?: string;
  /** MQTT keep-alive, seconds (broker accepts 1 … 3600). Default 30. */
  readonly keepaliveSec?: number;
  /** Delay between broker reconnect attempts (mqtt.js). Default 1000 ms. */
  readonly reconnectPeriodMs?: number;
}

export type StateValue = DeviceState['state'];

export class DeviceMqttSession {
  readonly #options: MqttDeviceOptions;
  readonly #commands: readonly CommandKind[];
  readonly #onCommand: (kind: CommandKind, payload: Buffer) => void;
  #client: MqttClient | null = null;
  #state: { state: StateValue; reason?: string } = { state: 'offline', reason: 'starting' };

  constructor(options: MqttDeviceOptions, commands: readonly CommandKind[], onCommand: (kind: CommandKind, payload: Buffer) => void) {
    this.#options = options;
    this.#commands = commands;
    this.#onCommand = onCommand;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  get state(): { state: StateValue; reason?: string } {
    return this.#state;
  }

  /** Resolves on the first CONNACK; rejects on a refusal (bad credentials) or unreachable broker. */
  async start(): Promise<void> {
    // Loaded when a session starts, not with the process (~4 MB resident otherwise).
    const { connect } = await import('mqtt');
    if (this.#client) return;
    const { deviceId } = this.#options;
    const will: DeviceState = { state: 'offline', reason: 'connection lost' };
    const opts: IClientOptions = {
      clientId: this.#options.clientIdSuffix ? `${deviceId}:${this.#options.clientIdSuffix}` : deviceId,
      username: deviceId,
      password: this.#options.secret,
      protocolVersion: 4, // aedes 1.x speaks MQTT 3.1.1 only (docs/mqtt.md §1)
      clean: true,
      keepalive: this.#options.keepaliveSec ?? 30,
      reconnectPeriod: this.#options.reconnectPeriodMs ?? 1_000,
      connectTimeout: 10_000,
      will: { topic: topics.deviceState(deviceId), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    };
    const client = connect(this.#options.url, opts);
    this.#client = client;
    client.on('message', (topic, payload) => {
      const kind = this.#commands.find((k) => topics.command(deviceId, k) === topic);
      if (kind !== undefined) this.#onCommand(kind, payload);
    });
    client.on('connect', () => {
      void this.#announce();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onConnect = () => {
          client.off('error', onError);
          resolve();
        };
        const onError = (err: Error) => {
          client.off('connect', onConnect);
          reject(err);
        };
        client.once('connect', onConnect);
        client.once('error', onError);
      });
    } catch (err) {
      this.#client = null;
      await client.endAsync(true);
      throw err;
    }
    // Later errors (broker restarts) are retried by mqtt.js; keep them from crashing the process.
    client.on('error', () => undefined);
  }

  async #announce(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      const filters = this.#commands.map((k) => topics.command(this.#options.deviceId, k));
      if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
      await this.#publishState();
    } catch {
      // Connection dropped mid-way; the next 'connect' announces again.
    }
  }

  async #publishState(): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return;
    const payload: DeviceState = { ...this.#state, ts: Date.now() };
    await client.publishAsync(topics.deviceState(this.#options.deviceId), JSON.stringify(payload), { qos: 1, retain: true });
  }

  /** Sets the retained state; published now if connected, else on the next connect. */
  setState(state: StateValue, reason?: string): void {
    if (this.#state.state === state && this.#state.reason === reason) return;
    this.#state = reason === undefined ? { state } : { state, reason };
    void this.#publishState().catch(() => undefined);
  }

  /**
   * A one-off notice on the state topic, NOT retained (a device may publish only its events and
   * its state, docs/mqtt.md §3): the current state with `reason` = a coded error, so the
   * retained state is left as it was.
   */
  notice(reason: string): void {
    const client = this.#client;
    if (!client?.connected) return;
    const payload: DeviceState = { state: this.#state.state, reason: reason.slice(0, 200), ts: Date.now() };
    client.publish(topics.deviceState(this.#options.deviceId), JSON.stringify(payload), { qos: 1, retain: false });
  }

  publishEvent(kind: EventKind, payload: object, qos: 0 | 1): void {
    const client = this.#client;
    if (!client?.connected) return; // a reading is worthless later; the next one replaces it
    client.publish(topics.event(this.#options.deviceId, kind), JSON.stringify(payload), { qos });
  }

  /** Publishes `finalState` retained (a clean DISCONNECT suppresses the will), then disconnects. */
  async stop(finalState: StateValue, reason: string): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#state = { state: finalState, reason };
    try {
      if (client.connected) await this.#publishState();
    } catch {
      // best effort
    }
    this.#client = null;
    await client.endAsync();
  }
}
