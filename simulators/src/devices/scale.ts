/**
 * A parcel scale. Placing a parcel publishes a few unstable readings that settle on a stable
 * one (as a real load cell does while the platform swings); removing it goes back to zero.
 *
 * Faults: `noiseGrams` (standard deviation on every reading), `driftGramsPerParcel` (zero
 * drift that accumulates parcel after parcel, so weight checks start failing), and
 * `unstable` (never settles: the gateway must not accept any of it).
 */
import { Prng } from '../lib/prng.js';
import type { SimLogger } from '../lib/logger.js';
import { nowMs, sleep } from '../lib/time.js';
import { DeviceClient, type EventReply } from './device-client.js';

export interface ScaleFaults {
  noiseGrams?: number;
  driftGramsPerParcel?: number;
  unstable?: boolean;
}

export interface ScaleOptions {
  mqttUrl: string;
  deviceId: string;
  secret: string;
  seed?: number;
  /** Unstable readings published before the stable one (0: straight to stable). */
  settleReadings?: number;
  /** Time between readings while settling. */
  readingIntervalMs?: number;
  /** Scale resolution; readings are rounded to it (e.g. 2 g divisions). */
  divisionGrams?: number;
  faults?: ScaleFaults;
  replyTimeoutMs?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export interface WeighResult {
  /** The stable reading sent, or null when the scale never settled (unstable fault). */
  stableGrams: number | null;
  msgId: string | null;
  /** performance.now() at the moment the stable reading was handed to MQTT. */
  publishedAt: number | null;
  /** Gateway answer to the stable reading. */
  reply: Promise<EventReply> | null;
}

export class ScaleSim {
  readonly client: DeviceClient;
  private readonly rng: Prng;
  private faults: Required<ScaleFaults>;
  private drift = 0;
  private current = 0;

  constructor(private readonly opts: ScaleOptions) {
    this.client = new DeviceClient({
      mqttUrl: opts.mqttUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      commands: ['zero', 'tare'],
      replyTimeoutMs: opts.replyTimeoutMs ?? 10_000,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.rng = new Prng(opts.seed ?? 1);
    this.faults = { noiseGrams: 2, driftGramsPerParcel: 0, unstable: false, ...opts.faults };
    // A zero command from the gateway re-zeroes the scale (clears accumulated drift).
    this.client.on('command', (kind) => {
      if (kind === 'zero' || kind === 'tare') this.drift = 0;
    });
  }

  get deviceId(): string {
    return this.client.deviceId;
  }

  /** Grams currently on the platform (the true load, before noise). */
  get load(): number {
    return this.current;
  }

  setFaults(faults: ScaleFaults): void {
    this.faults = { ...this.faults, ...faults };
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  private reading(trueGrams: number, extraNoise: number): number {
    const div = this.opts.divisionGrams ?? 1;
    const g = trueGrams + this.drift + this.rng.gaussian(this.faults.noiseGrams) + extraNoise;
    return Math.round(g / div) * div;
  }

  /** Puts `grams` on the platform; resolves once the stable reading is published. */
  async place(grams: number, signal?: AbortSignal): Promise<WeighResult> {
    this.current = grams;
    this.drift += this.faults.driftGramsPerParcel;
    return this.settleOn(grams, signal);
  }

  /** Takes the parcel off; the scale returns to (drifted) zero. */
  async remove(signal?: AbortSignal): Promise<WeighResult> {
    this.current = 0;
    return this.settleOn(0, signal);
  }

  private async settleOn(target: number, signal?: AbortSignal): Promise<WeighResult> {
    const steps = this.opts.settleReadings ?? 3;
    const interval = this.opts.readingIntervalMs ?? 80;
    if (this.faults.unstable) {
      // Keeps swinging: a few readings, none stable.
      for (let i = 0; i < Math.max(steps, 3) && !signal?.aborted; i++) {
        await this.client.publishEvent('weight', { grams: this.reading(target, this.rng.gaussian(target * 0.05 + 20)), stable: false }, { expectReply: false });
        await sleep(interval, signal);
      }
      return { stableGrams: null, msgId: null, publishedAt: null, reply: null };
    }
    for (let i = 0; i < steps && !signal?.aborted; i++) {
      // Damped swing: the error shrinks with every reading.
      const swing = ((target * 0.08 + 15) * (steps - i)) / steps;
      await this.client.publishEvent('weight', { grams: this.reading(target, this.rng.gaussian(swing)), stable: false }, { expectReply: false });
      await sleep(interval, signal);
    }
    const stableGrams = Math.max(target === 0 ? -5 : 0, this.reading(target, 0));
    const msgId = this.client.nextMsgId();
    const publishedAt = nowMs();
    const reply = this.client.publishEvent('weight', { msg_id: msgId, grams: stableGrams, stable: true, ts: Date.now() });
    // The caller may not care about the answer; never leave the rejection unhandled.
    reply.catch(() => {});
    return { stableGrams, msgId, publishedAt, reply };
  }
}
