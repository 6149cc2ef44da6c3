/**
 * A DWS (dimension-weight-scan) tunnel on a sorter line: every parcel passing it becomes a
 * `dev/{id}/evt/parcel` telegram {msg_id, seq, barcode | null (no-read), grams, dims}. The
 * gateway answers with `dev/{id}/cmd/divert` {seq, barcode, chute, reason}. A real sorter
 * cannot wait: if no divert arrives before the parcel reaches the divert point
 * (`divertTimeoutMs`), the parcel rides on to the default chute.
 */
import type { DivertCommand } from '../../../contracts/payloads.js';
import type { SimLogger } from '../lib/logger.js';
import { Counter } from '../lib/stats.js';
import { nowMs } from '../lib/time.js';
import { DeviceClient } from './device-client.js';

export interface DwsLineOptions {
  mqttUrl: string;
  deviceId: string;
  secret: string;
  /** Travel time from the scan tunnel to the divert point. */
  divertTimeoutMs?: number;
  /** Chute used when the gateway does not answer in time. */
  defaultChute?: string;
  /** First telegram sequence number (sorters count up and wrap at 2^32). */
  startSeq?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export interface ParcelInput {
  barcode: string | null;
  grams: number;
  lengthMm: number;
  widthMm: number;
  heightMm: number;
}

export interface DivertOutcome {
  seq: number;
  barcode: string | null;
  chute: string;
  /** The gateway's reason, or `timeout` when the parcel went to the default chute. */
  reason: string;
  timedOut: boolean;
  /** ms from the telegram to the divert command (null on timeout). */
  latencyMs: number | null;
}

interface Waiting {
  barcode: string | null;
  sentAt: number;
  timer: NodeJS.Timeout;
  resolve: (o: DivertOutcome) => void;
}

/** Telegram sequence numbers are 32-bit unsigned and wrap (payloads.ts ParcelEvent.seq). */
const SEQ_MODULO = 4_294_967_296;

export class DwsLineSim {
  readonly client: DeviceClient;
  readonly outcomes: DivertOutcome[] = [];
  /** Divert commands that matched no parcel in flight (late, duplicate or unknown seq). */
  readonly strayDiverts: DivertCommand[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq: number;
  private readonly chutes = new Counter();
  private readonly reasons = new Counter();
  private diverted = 0;

  constructor(private readonly opts: DwsLineOptions) {
    this.client = new DeviceClient({
      mqttUrl: opts.mqttUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      commands: ['divert'],
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.seq = opts.startSeq ?? 0;
    this.client.on('command', (kind, payload) => {
      if (kind === 'divert') this.onDivert(payload);
    });
  }

  get deviceId(): string {
    return this.client.deviceId;
  }

  start(): Promise<void> {
    return this.client.start();
  }

  async stop(): Promise<void> {
    for (const [seq, w] of this.waiting) this.finish(seq, w, null);
    await this.client.stop();
  }

  stats(): { parcels: number; timedOut: number; inFlight: number; stray: number; chutes: Record<string, number>; reasons: Record<string, number> } {
    return {
      parcels: this.diverted,
      timedOut: this.reasons.get('timeout'),
      inFlight: this.waiting.size,
      stray: this.strayDiverts.length,
      chutes: this.chutes.toJSON(),
      reasons: this.reasons.toJSON(),
    };
  }

  /** Sends one parcel through the tunnel; resolves when it has been diverted. */
  async induct(parcel: ParcelInput): Promise<DivertOutcome> {
    const seq = this.seq;
    this.seq = (this.seq + 1) % SEQ_MODULO;
    const outcome = new Promise<DivertOutcome>((resolve) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(seq);
        if (w) this.finish(seq, w, null);
      }, this.opts.divertTimeoutMs ?? 2000);
      this.waiting.set(seq, { barcode: parcel.barcode, sentAt: nowMs(), timer, resolve });
    });
    await this.client.publishEvent(
      'parcel',
      {
        seq,
        barcode: parcel.barcode,
        grams: Math.round(parcel.grams),
        length_mm: Math.round(parcel.lengthMm),
        width_mm: Math.round(parcel.widthMm),
        height_mm: Math.round(parcel.heightMm),
        ts: Date.now(),
      },
      // The divert command is the answer a line cares about; the ack is not awaited.
      { expectReply: false },
    );
    return outcome;
  }

  private onDivert(payload: unknown): void {
    const cmd = payload as DivertCommand | undefined;
    if (!cmd || typeof cmd !== 'object' || typeof cmd.chute !== 'string') {
      return;
    }
    let seq = typeof cmd.seq === 'number' ? cmd.seq : undefined;
    if (seq === undefined) {
      // No seq: match the oldest parcel in flight with the same barcode.
      for (const [s, w] of this.waiting) {
        if (w.barcode === cmd.barcode) {
          seq = s;
          break;
        }
      }
    }
    const w = seq === undefined ? undefined : this.waiting.get(seq);
    if (seq === undefined || !w) {
      this.strayDiverts.push(cmd);
      if (this.strayDiverts.length > 1000) this.strayDiverts.shift();
      return;
    }
    this.finish(seq, w, cmd);
  }

  private finish(seq: number, w: Waiting, cmd: DivertCommand | null): void {
    clearTimeout(w.timer);
    this.waiting.delete(seq);
    const outcome: DivertOutcome = cmd
      ? { seq, barcode: w.barcode, chute: cmd.chute, reason: String(cmd.reason), timedOut: false, latencyMs: nowMs() - w.sentAt }
      : { seq, barcode: w.barcode, chute: this.opts.defaultChute ?? 'DEFAULT', reason: 'timeout', timedOut: true, latencyMs: null };
    this.diverted++;
    this.chutes.add(outcome.chute);
    this.reasons.add(outcome.reason);
    this.outcomes.push(outcome);
    if (this.outcomes.length > 1000) this.outcomes.shift();
    w.resolve(outcome);
  }
}
