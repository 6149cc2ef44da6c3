/**
 * Print channels (the merchant guide's 多通道打印): a channel is a logical queue with one or
 * more printers; each workstation prints on its channel (`stations[].channel`), and routing
 * rules can send a job to another channel by carrier or shop (e.g. all SF labels on the SF
 * printers). Within a channel the job goes to the station's own printer while it is healthy,
 * otherwise to the least-loaded healthy printer of the channel (failover). A printer is full
 * at `queueLimit` unanswered jobs: the job is refused with PKL_PRINT_QUEUE_FULL (back-pressure
 * the station shows), never dropped.
 *
 * Pure: printer health comes from the caller (device states and the runtime's job counts).
 */
export interface PrintChannel {
  id: number;
  printers: readonly string[];
}

export interface PrintRoute {
  channel: number;
  carrier?: string | undefined;
  shop?: string | undefined;
}

export interface PrinterHealth {
  online: boolean;
  /** A fault the printer reported (paper out, head open, …), or null. */
  fault: string | null;
  /** Jobs sent and not answered yet. */
  inFlight: number;
}

export interface RouteRequest {
  /** The station's channel and its own printer. */
  channel: number;
  stationPrinter: string;
  carrier: string | null;
  shop: string;
}

export type RouteDecision =
  | { ok: true; printerId: string; channel: number; failover: boolean }
  | { ok: false; code: 'PKL_PRINT_QUEUE_FULL' | 'PKL_PRINTER_UNAVAILABLE'; channel: number; details: Record<string, string | number> };

export interface PrintRouterConfig {
  channels: readonly PrintChannel[];
  routes: readonly PrintRoute[];
  queueLimit: number;
}

export class PrintRouter {
  private readonly byId: Map<number, PrintChannel>;

  constructor(private readonly cfg: PrintRouterConfig) {
    this.byId = new Map(cfg.channels.map((c) => [c.id, c]));
  }

  /** The channel a job goes to: the first matching route, else the station's channel. */
  channelFor(r: RouteRequest): number {
    for (const route of this.cfg.routes) {
      if (route.carrier !== undefined && route.carrier !== r.carrier) continue;
      if (route.shop !== undefined && route.shop !== r.shop) continue;
      return route.channel;
    }
    return r.channel;
  }

  /**
   * Picks the printer for a job. `exclude` holds printers that just failed this job (a
   * re-dispatch must not go back to them).
   */
  route(r: RouteRequest, health: (printerId: string) => PrinterHealth, exclude: readonly string[] = []): RouteDecision {
    const channel = this.channelFor(r);
    const routed = channel !== r.channel;
    // A station whose channel has no configured printers prints on its own printer alone.
    const members = this.byId.get(channel)?.printers ?? (routed ? [] : [r.stationPrinter]);
    const preferred = !routed && members.includes(r.stationPrinter) ? r.stationPrinter : members[0];
    const usable = members.filter((p) => !exclude.includes(p)).map((p) => ({ p, h: health(p) }));
    const healthy = usable.filter((x) => x.h.online && x.h.fault === null);
    if (healthy.length === 0) {
      return {
        ok: false,
        code: 'PKL_PRINTER_UNAVAILABLE',
        channel,
        details: { channel, printers: members.join(',') || '(none)' },
      };
    }
    const room = healthy.filter((x) => x.h.inFlight < this.cfg.queueLimit);
    if (room.length === 0) {
      return { ok: false, code: 'PKL_PRINT_QUEUE_FULL', channel, details: { channel, limit: this.cfg.queueLimit } };
    }
    const own = room.find((x) => x.p === preferred);
    if (own !== undefined) return { ok: true, printerId: own.p, channel, failover: false };
    // Least loaded; ties keep the configured order (stable sort).
    const pick = [...room].sort((a, b) => a.h.inFlight - b.h.inFlight)[0]!;
    return { ok: true, printerId: pick.p, channel, failover: preferred !== undefined };
  }
}
