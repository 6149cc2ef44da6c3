/**
 * The power plan (断电): a UPS signal starts a graceful shutdown before the battery runs out.
 * Signals come as NUT `upsmon` NOTIFYCMD events (upsmon(8): NOTIFYCMD is run with the event
 * type in $NOTIFYTYPE — ONBATT, LOWBATT, ONLINE…), delivered by `packline ups <event>`
 * (POST /api/v1/power) or read from a line file the gateway polls (a GPIO value file, or a
 * file a NOTIFYCMD script writes). On the configured event (`handover.shutdownOn`):
 * 1. the event is committed to the log (it travels upstream like any other);
 * 2. new parcels are refused with PKL_SHUTTING_DOWN (the station screen and `dev/{id}/err`
 *    say so), while parcels already open finish: item scans, weights and print results go on;
 * 3. after `graceMs`, or as soon as no label is still printing, the gateway stops the usual
 *    way (SIGTERM path: stations finish their queued steps, the store flushes, the process exits).
 * Everything acknowledged before the power goes is on disk already (synchronous=FULL group
 * commit), so a power cut at any moment after the signal loses nothing acknowledged.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { Logger } from '../lib/logger.js';
import { EVENT } from '../station/events.js';
import type { StationWrite } from '../station/domain.js';

export const UPS_EVENTS = ['onbatt', 'lowbatt', 'online', 'fsd'] as const;
export type UpsEvent = (typeof UPS_EVENTS)[number];

/** Parses a NUT NOTIFYTYPE or a line-file value (`ONBATT`, `lowbatt`, `1`/`0` of a GPIO line). */
export function parseUpsEvent(text: string): UpsEvent | null {
  const t = text.trim().toLowerCase();
  if (t === '1') return 'onbatt'; // a GPIO line driven by the UPS's "on battery" relay
  if (t === '0') return 'online';
  return (UPS_EVENTS as readonly string[]).includes(t) ? (t as UpsEvent) : null;
}

/** Whether this event starts the shutdown, given the configured trigger (FSD always does). */
export function startsShutdown(event: UpsEvent, trigger: 'onbatt' | 'lowbatt'): boolean {
  if (event === 'fsd' || event === 'lowbatt') return true;
  return event === 'onbatt' && trigger === 'onbatt';
}

export interface PowerDeps {
  gatewayId: string;
  trigger: 'onbatt' | 'lowbatt';
  write(ops: StationWrite[]): Promise<unknown>;
  /** Labels still printing (open shipments in `labelling`). */
  printing(): number;
  /** Starts the graceful stop (the composition root: SIGTERM to itself). */
  requestStop(): void;
  logger: Logger;
  graceMs?: number;
  now?: () => number;
}

export type PowerState = 'online' | 'onbatt' | 'shutting_down';

export class PowerPlan {
  readonly name = 'power';
  private state: PowerState = 'online';
  private reason: UpsEvent | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: PowerDeps) {}

  status(): { state: PowerState; reason: UpsEvent | null } {
    return { state: this.state, reason: this.reason };
  }

  /** Null while new parcels are welcome; the refusal once the shutdown started. */
  refusal(): { code: 'PKL_SHUTTING_DOWN'; details: { reason: string } } | null {
    return this.state === 'shutting_down' ? { code: 'PKL_SHUTTING_DOWN', details: { reason: `ups ${this.reason ?? 'signal'}` } } : null;
  }

  /** A UPS event: recorded durably first, then acted on. */
  async signal(event: UpsEvent, source: string): Promise<{ state: PowerState }> {
    const prev = this.state;
    await this.deps.write([{ op: 'event', type: EVENT.powerEvent, subject: `gateway:${this.deps.gatewayId}`, data: { event, source, state_before: prev } }]);
    if (this.state === 'shutting_down') return { state: this.state };
    if (startsShutdown(event, this.deps.trigger)) {
      this.state = 'shutting_down';
      this.reason = event;
      this.deps.logger.warn({ event, source, code: 'PKL_SHUTTING_DOWN' }, `UPS ${event}: refusing new parcels, finishing open ones, then stopping`);
      this.drain();
    } else {
      this.state = event === 'online' ? 'online' : 'onbatt';
      this.reason = event === 'online' ? null : event;
      this.deps.logger.warn({ event, source }, `UPS ${event}`);
    }
    return { state: this.state };
  }

  /** Waits for labels still printing (bounded by graceMs), then asks for the stop. */
  private drain(): void {
    const until = (this.deps.now ?? Date.now)() + (this.deps.graceMs ?? 10_000);
    const tick = () => {
      if (this.deps.printing() === 0 || (this.deps.now ?? Date.now)() >= until) {
        this.timer = null;
        this.deps.requestStop();
        return;
      }
      this.timer = setTimeout(tick, 200);
    };
    tick();
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Polls a line file (GPIO sysfs value, or a file a NOTIFYCMD script writes) for changes. */
export class UpsLineWatch {
  readonly name = 'ups-line';
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;

  constructor(
    private readonly file: string,
    private readonly read: (file: string) => string,
    private readonly onEvent: (event: UpsEvent) => void,
    private readonly everyMs = 1_000,
  ) {}

  async start(): Promise<void> {
    this.poll(true);
    this.timer = setInterval(() => this.poll(false), this.everyMs);
    this.timer.unref();
  }

  poll(first: boolean): void {
    let text: string;
    try {
      text = this.read(this.file);
    } catch {
      return; // no file yet: no signal
    }
    const ev = parseUpsEvent(text);
    if (ev === null || text === this.last) return;
    this.last = text;
    // The line's state at start is only news when it is not "online".
    if (first && ev === 'online') return;
    this.onEvent(ev);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

export function upsEventOrThrow(text: string): UpsEvent {
  const ev = parseUpsEvent(text);
  if (ev === null) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `UPS event must be one of ${UPS_EVENTS.join(', ')}` });
  return ev;
}
