/**
 * The printers as the station flow sees them: their health for the print router (what each
 * announced on `dev/{id}/state`, whether it is connected, how many labels it holds
 * unanswered), sending commands, and re-issuing unanswered labels with the same job id when
 * a printer comes back or after a restart (printers and drivers treat job ids as idempotent;
 * docs/mqtt.md).
 */
import { topics } from '../../../../contracts/topics.js';
import type { Logger } from '../../lib/logger.js';
import type { PrintJob } from '../domain.js';
import { printCommand } from '../decide/label-job.js';
import type { PrinterHealth } from '../decide/print-router.js';
import type { Command } from '../types.js';
import type { CommandLink } from '../ports.js';

export interface PrinterFleetDeps {
  link: CommandLink;
  logger: Logger;
  /** Whether the device is connected to the broker now. */
  isOnline(deviceId: string): boolean;
  /** How many jobs sent to this printer are not answered yet, on any station. */
  inFlight(printerId: string): number;
}

export class PrinterFleet {
  /** Last state each printer announced (`dev/{id}/state`): online, offline, or error + reason. */
  private readonly states = new Map<string, { state: string; reason: string | null }>();

  constructor(private readonly deps: PrinterFleetDeps) {}

  /** Records a device's announced state; true when it just came online. */
  announce(deviceId: string, state: string, reason: string | null): boolean {
    this.states.set(deviceId, { state, reason });
    return state === 'online';
  }

  /** What the print router needs to know about a printer (docs/mqtt.md device states). */
  health(printerId: string): PrinterHealth {
    const st = this.states.get(printerId);
    const inFlight = this.deps.inFlight(printerId);
    const online = st === undefined ? this.deps.isOnline(printerId) : st.state !== 'offline' && this.deps.isOnline(printerId);
    return { online, fault: st?.state === 'error' ? (st.reason ?? 'error') : null, inFlight };
  }

  /** Sends the unanswered jobs again (only those of `onlyPrinter`, when given), same job ids. */
  reissue(jobs: Iterable<PrintJob>, why: string, onlyPrinter?: string): void {
    for (const job of jobs) {
      if (onlyPrinter !== undefined && job.printerId !== onlyPrinter) continue;
      this.send(printCommand(job));
      this.deps.logger.info({ jobId: job.jobId, printer: job.printerId, why }, 're-issued unanswered print job');
    }
  }

  /** Publishes a device command at QoS 1; a failed publish is logged (the job stays unanswered and is re-issued). */
  send(command: Command): void {
    const { link, logger } = this.deps;
    link
      .publish(topics.command(command.deviceId, command.kind), JSON.stringify(command.payload), { qos: 1 })
      .catch((err: unknown) => logger.warn({ err, deviceId: command.deviceId, kind: command.kind }, 'could not send command'));
  }
}
