/**
 * systemd readiness and watchdog notifications (sd_notify(3)) without a native addon.
 *
 * The protocol is one datagram on the AF_UNIX socket named by $NOTIFY_SOCKET. Node has no
 * unix datagram sockets (net is stream-only, dgram is UDP-only), so each message is sent by
 * the `systemd-notify` tool that ships with systemd itself (systemd-notify(1)), spawned only
 * when $NOTIFY_SOCKET is set, i.e. only under a Type=notify unit. The message then comes from
 * the tool's PID, not the gateway's, so the unit needs NotifyAccess=all (docs/packline.service).
 *
 * Watchdog: when the unit has WatchdogSec=, systemd sets $WATCHDOG_USEC (and $WATCHDOG_PID);
 * we send WATCHDOG=1 every WATCHDOG_USEC / 2, as sd_watchdog_enabled(3) recommends. The timer
 * runs on the event loop, so a blocked loop stops the pings and systemd restarts the gateway.
 * A spawn per ping (every 15 s with WatchdogSec=30) costs a few ms of a Pi's CPU.
 */
import { spawn } from 'node:child_process';

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** The tool (default `systemd-notify` on PATH). */
  command?: string;
  /** Whether the process is well enough to keep the watchdog fed (default: always). */
  healthy?: () => boolean;
  onError?: (err: Error) => void;
}

export class SdNotify {
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private timer: NodeJS.Timeout | null = null;
  /** A message on its way: a slow tool never piles up a queue of spawns. */
  private inFlight: Promise<void> | null = null;

  constructor(private readonly opts: SdNotifyOptions = {}) {
    this.env = opts.env ?? process.env;
    this.command = opts.command ?? 'systemd-notify';
  }

  /** True when running under a Type=notify unit. */
  get enabled(): boolean {
    return typeof this.env['NOTIFY_SOCKET'] === 'string' && this.env['NOTIFY_SOCKET'] !== '';
  }

  /** The watchdog ping interval: half of WATCHDOG_USEC, or null when the watchdog is off or meant for another PID. */
  watchdogIntervalMs(): number | null {
    const usec = Number(this.env['WATCHDOG_USEC']);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return null;
    const pid = this.env['WATCHDOG_PID'];
    if (pid !== undefined && pid !== '' && Number(pid) !== process.pid) return null;
    return Math.max(1, Math.floor(usec / 2_000));
  }

  /** READY=1 and start feeding the watchdog. */
  ready(status?: string): Promise<void> {
    const interval = this.watchdogIntervalMs();
    if (interval !== null && this.timer === null) {
      this.timer = setInterval(() => {
        if (this.opts.healthy?.() === false) return;
        if (this.inFlight === null) void this.send(['WATCHDOG=1']);
      }, interval);
      this.timer.unref();
    }
    return this.send(['READY=1', ...(status !== undefined ? [`STATUS=${status}`] : [])]);
  }

  /** STOPPING=1 and stop the watchdog pings (systemd stops expecting them too). */
  async stopping(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight; // a ping already on its way goes first, so STOPPING=1 is the last word
    await this.send(['STOPPING=1']);
  }

  /** Sends one message (several NAME=value assignments); resolves when the tool exited. Never rejects. */
  send(assignments: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const p = new Promise<void>((resolve) => {
      const child = spawn(this.command, assignments, { stdio: 'ignore', env: this.env });
      child.once('error', (err) => {
        this.opts.onError?.(err);
        resolve();
      });
      child.once('exit', (code) => {
        if (code !== 0) this.opts.onError?.(new Error(`${this.command} ${assignments.join(' ')} exited with ${code}`));
        resolve();
      });
    });
    this.inFlight = p;
    void p.then(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    return p;
  }
}
