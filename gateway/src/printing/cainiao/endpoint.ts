/**
 * The print-component endpoint: a WebSocket server speaking the Cainiao print-component
 * protocol (protocol.ts) so that ERP web pages written for `ws://localhost:13528` print on the
 * gateway's printers. Config: `printing.cainiao` {enabled, host, port}; docs/printing-cainiao.md.
 *
 *   getPrinters        → the configured devices with role `printer` (name = device id), `enable`
 *                        while connected to the broker and not reporting a fault
 *   getPrinterConfig   → the gateway label's paper (76 × 130 mm), fixed
 *   print              → each document rendered (document-label.ts) and sent as one job on
 *                        `dev/{printer}/cmd/print`; the printer's `dev/{printer}/evt/print_result`
 *                        comes back as notifyPrintResult on the socket(s) that sent the task
 *   getTaskStatus      → from the task ledger (task-ledger.ts)
 *
 * Every frame is validated; a bad one is answered with a coded refusal and the connection stays
 * up. Frames are limited in size (answered with PKL_PAYLOAD_TOO_LARGE up to 4× the limit, beyond
 * that the socket is closed with 1009 as RFC 6455 §7.4.1 says) and in rate per connection (token
 * bucket; PKL_RATE_LIMITED, and the connection is closed with 1008 after a long run of refused
 * frames). There is no authentication: the protocol has none, and the endpoint is meant for the
 * warehouse LAN only (docs/printing-cainiao.md, "Security").
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type ErrorCode, type ErrorDetails, PacklineError } from '../../../../contracts/errors.js';
import type { PrintCommand } from '../../../../contracts/payloads.js';
import { parseTopic, topics } from '../../../../contracts/topics.js';
import { decodeEvent } from '../../../../contracts/validate.js';
import type { BrokerLink, InboundMessage } from '../../broker/link.js';
import type { Config } from '../../config/schema.js';
import { hostedPrinterLanguage, type LabelFormat, stationLabelFormat } from '../../label/label-format.js';
import type { Component } from '../../lib/component.js';
import type { Logger } from '../../lib/logger.js';
import { LABEL_PAPER_MM, renderDocument } from './document-label.js';
import {
  agentInfoFrame,
  type CainiaoRequest,
  decodeFrame,
  encodeFrame,
  errorFrame,
  failureFrame,
  type Frame,
  globalConfigFrame,
  notifyPrintResultFrame,
  printerConfigFrame,
  printersFrame,
  type PrintTask,
  type RequestId,
  successFrame,
  taskStatusFrame,
} from './protocol.js';
import { type DocRecord, isFinished, outcomeOf, renderedOutcomeOf, TaskLedger, type TaskRecord } from './task-ledger.js';
import { TokenBucket } from '../../lib/token-bucket.js';

export interface CainiaoLimits {
  /** Largest frame answered (bytes); larger ones get PKL_PAYLOAD_TOO_LARGE. */
  maxFrameBytes: number;
  /** Sustained frames per second per connection. */
  framesPerSecond: number;
  /** Frames a connection may send in a burst above the rate. */
  burst: number;
  /** Refused (rate-limited) frames in a row after which the connection is closed. */
  closeAfterRefused: number;
  /** Connections at once; more are closed with 1013 "try again later". */
  maxConnections: number;
  /** Tasks remembered for de-duplication and getTaskStatus. */
  maxTasks: number;
  /** Unsent bytes queued to one connection before it is dropped (a client that stopped reading). */
  maxBufferedBytes: number;
}

export const DEFAULT_CAINIAO_LIMITS: Readonly<CainiaoLimits> = {
  // 100 encrypted waybills (~1.5 KB each) plus custom areas stay far below 1 MiB.
  maxFrameBytes: 1024 * 1024,
  framesPerSecond: 20,
  burst: 40,
  closeAfterRefused: 200,
  maxConnections: 64,
  maxTasks: 5000,
  maxBufferedBytes: 4 * 1024 * 1024,
};

export interface CainiaoEndpointDeps {
  config: Readonly<Config>;
  link: BrokerLink;
  logger: Logger;
  limits?: Partial<CainiaoLimits>;
  /** Clock for the rate limit (tests). */
  now?: () => number;
}

interface Printer {
  id: string;
  model: string | null;
  format: LabelFormat;
}

/** One WebSocket client (an ERP page). */
class Connection {
  refusedInRow = 0;
  readonly bucket: TokenBucket;

  constructor(
    readonly ws: WebSocket,
    readonly peer: string,
    limits: CainiaoLimits,
    now: number,
    private readonly maxBuffered: number,
  ) {
    this.bucket = new TokenBucket(limits.framesPerSecond, limits.burst, now);
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.ws.terminate();
      return;
    }
    this.ws.send(encodeFrame(frame));
  }
}

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_POLICY = 1008;
const CLOSE_TRY_LATER = 1013;

export class CainiaoPrintEndpoint implements Component {
  readonly name = 'cainiao-print';
  private readonly limits: CainiaoLimits;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly printers: ReadonlyMap<string, Printer>;
  private readonly defaultPrinter: string;
  private readonly ledger: TaskLedger<Connection>;
  private readonly connections = new Set<Connection>();
  /** Last `dev/{id}/state` of each printer: a printer reporting `error` (paper out, head open) shows as disabled. */
  private readonly faults = new Map<string, string>();
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private subscribed = false;

  constructor(private readonly deps: CainiaoEndpointDeps) {
    this.limits = { ...DEFAULT_CAINIAO_LIMITS, ...deps.limits };
    this.now = deps.now ?? Date.now;
    this.log = deps.logger;
    const { devices, stations } = deps.config;
    const printers = new Map<string, Printer>();
    for (const d of devices) {
      if (d.role !== 'printer') continue;
      const station = stations.find((s) => s.printer === d.id);
      const format = station ? stationLabelFormat(station, devices) : (hostedPrinterLanguage(d) ?? 'zpl');
      printers.set(d.id, { id: d.id, model: d.model ?? null, format });
    }
    this.printers = printers;
    // The protocol has one default printer ([CN]: an empty task.printer prints there): the first configured.
    this.defaultPrinter = printers.keys().next().value ?? '';
    this.ledger = new TaskLedger(this.limits.maxTasks);
  }

  /** Where the endpoint listens (port resolved when configured as 0), or null when stopped. */
  address(): { host: string; port: number } | null {
    const a = this.server?.address();
    if (a === undefined || a === null || typeof a === 'string') return null;
    return { host: (a as AddressInfo).address, port: (a as AddressInfo).port };
  }

  async start(): Promise<void> {
    if (this.server !== null) return;
    const { link } = this.deps;
    if (!this.subscribed) {
      // BrokerLink has no unsubscribe: subscribe once per instance, and ignore traffic while stopped.
      await link.subscribe(topics.event('+', 'print_result'), (msg) => this.onPrintResult(msg));
      await link.subscribe(topics.allDeviceStates, (msg) => this.onDeviceState(msg));
      this.subscribed = true;
    }
    const { host, port } = this.deps.config.printing.cainiao;
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('Packline print-component endpoint (Cainiao protocol): connect with a WebSocket.\n');
    });
    const wss = new WebSocketServer({
      server,
      // Frames up to 4× the answered limit are read and refused with a code; beyond, ws closes with 1009.
      maxPayload: this.limits.maxFrameBytes * 4,
      perMessageDeflate: false,
      clientTracking: false,
    });
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    wss.on('error', (err) => this.log.warn({ err }, 'print-component endpoint error'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      wss.close();
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `printing.cainiao: cannot listen on ${host}:${port} (${code})` }, { cause: err });
    }
    this.server = server;
    this.wss = wss;
    const a = this.address();
    this.log.info({ host: a?.host, port: a?.port, printers: [...this.printers.keys()] }, 'print-component endpoint listening');
  }

  async stop(): Promise<void> {
    const { server, wss } = this;
    if (server === null || wss === null) return;
    this.server = null;
    this.wss = null;
    const closing = [...this.connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === c.ws.CLOSED) return resolve();
          // Safety net: a peer that never answers the close handshake is cut off.
          const timer = setTimeout(() => c.ws.terminate(), 1000);
          timer.unref();
          c.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          c.ws.close(CLOSE_GOING_AWAY, 'gateway stopping');
        }),
    );
    await Promise.all(closing);
    this.connections.clear();
    this.ledger.clear();
    wss.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- connections and frames --------------------------------------------------------------

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.server === null || this.connections.size >= this.limits.maxConnections) {
      ws.close(CLOSE_TRY_LATER, 'too many connections');
      return;
    }
    const conn = new Connection(ws, peer, this.limits, this.now(), this.limits.maxBufferedBytes);
    this.connections.add(conn);
    this.log.debug({ peer, origin: req.headers.origin }, 'print-component client connected');
    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('error', (err) => this.log.debug({ err, peer }, 'print-component socket error'));
    ws.on('close', () => {
      this.connections.delete(conn);
      this.ledger.removeListener(conn);
    });
  }

  private onFrame(conn: Connection, data: RawData, _isBinary: boolean): void {
    if (!conn.bucket.take(this.now())) {
      conn.refusedInRow += 1;
      if (conn.refusedInRow >= this.limits.closeAfterRefused) {
        this.log.warn({ peer: conn.peer }, 'print-component client kept flooding; closing it');
        conn.ws.close(CLOSE_POLICY, 'rate limit');
        return;
      }
      // Not parsed: refusing cheaply is the point.
      conn.send(failureFrame(null, null, 'PKL_RATE_LIMITED', { deviceId: `print-component client ${conn.peer}` }));
      return;
    }
    conn.refusedInRow = 0;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const decoded = decodeFrame(bytes, this.limits.maxFrameBytes);
    if (!decoded.ok) {
      this.log.debug({ peer: conn.peer, code: decoded.error.code, details: decoded.error.details }, 'print-component frame refused');
      conn.send(errorFrame(decoded.error));
      return;
    }
    this.handle(conn, decoded.request).catch((err: unknown) => {
      const ref = `cn-${this.now().toString(36)}`;
      this.log.error({ err, ref, peer: conn.peer, cmd: decoded.request.cmd }, 'print-component request failed');
      conn.send(failureFrame(decoded.request.cmd, decoded.request.requestID, 'PKL_INTERNAL', { ref }));
    });
  }

  private async handle(conn: Connection, req: CainiaoRequest): Promise<void> {
    switch (req.cmd) {
      case 'getPrinters':
        conn.send(
          printersFrame(
            req.requestID,
            [...this.printers.values()].map((p) => ({ name: p.id, online: this.usable(p.id), model: p.model })),
            this.defaultPrinter,
          ),
        );
        return;
      case 'getPrinterConfig':
        if (!this.printers.has(req.printer)) {
          conn.send(failureFrame(req.cmd, req.requestID, 'PKL_DEVICE_UNKNOWN', { deviceId: req.printer }));
          return;
        }
        conn.send(printerConfigFrame(req.requestID, req.printer, LABEL_PAPER_MM));
        return;
      case 'getTaskStatus':
        conn.send(
          taskStatusFrame(req.requestID, req.taskIDs, (taskID) => {
            const t = this.ledger.get(taskID);
            return t === undefined ? null : outcomeOf(t);
          }),
        );
        return;
      case 'getAgentInfo':
        conn.send(agentInfoFrame(req.requestID));
        return;
      case 'getGlobalConfig':
        conn.send(globalConfigFrame(req.requestID));
        return;
      case 'print':
        await this.print(conn, req.requestID, req.task);
        return;
    }
  }

  private connected(printerId: string): boolean {
    return this.deps.link.connectedDevices().has(printerId);
  }

  private usable(printerId: string): boolean {
    return this.connected(printerId) && !this.faults.has(printerId);
  }

  // ---- printing -------------------------------------------------------------------------------

  private async print(conn: Connection, requestID: RequestId, task: PrintTask): Promise<void> {
    const refuse = (code: ErrorCode, details: ErrorDetails) => conn.send(failureFrame('print', requestID, code, details, { taskID: task.taskID }));
    if (task.preview) {
      refuse('PKL_PAYLOAD_INVALID', { reason: 'preview is not supported: the gateway prints labels, it renders no previews' });
      return;
    }
    // A known task keeps its first printer: the same document must not go to a second one.
    const known = this.ledger.get(task.taskID);
    const printerId = known?.printer ?? (task.printer === '' ? this.defaultPrinter : task.printer);
    const printer = this.printers.get(printerId);
    if (printer === undefined) {
      refuse('PKL_DEVICE_UNKNOWN', { deviceId: printerId === '' ? '(no printer configured)' : printerId });
      return;
    }
    const ids = task.documents.map((d) => d.documentID);
    // An offline printer would get the job whenever it reconnects (QoS 1 session), long after the
    // page gave up and printed elsewhere; refuse now, record nothing, so a later re-send prints.
    if (this.ledger.wouldDispatch(task.taskID, ids).length > 0 && !this.connected(printer.id)) {
      refuse('PKL_PRINTER_UNAVAILABLE', { deviceId: printer.id });
      return;
    }
    const { task: record, dispatch, resent } = this.ledger.admit(task.taskID, printer.id, ids, conn, requestID);
    const documents = new Map(task.documents.map((d) => [d.documentID, d]));
    const jobs: Array<{ doc: DocRecord; command: PrintCommand }> = [];
    for (const doc of dispatch) {
      const source = documents.get(doc.documentID);
      if (source === undefined) continue; // cannot happen: dispatch comes from these ids
      const printable = renderDocument(source, printer.format);
      if (!printable.ok) {
        this.ledger.fail(doc, printable.code, printable.details);
        continue;
      }
      jobs.push({ doc, command: { job_id: doc.jobId, format: printable.format, data: printable.data, copies: 1 } });
    }
    this.log.debug({ taskID: task.taskID, printer: printer.id, jobs: jobs.length, failed: dispatch.length - jobs.length, resent }, 'print-component task');
    conn.send(successFrame('print', requestID, { taskID: task.taskID }));
    if (task.notifyRender && jobs.length > 0)
      conn.send(
        notifyPrintResultFrame(
          requestID,
          renderedOutcomeOf(
            record,
            jobs.map((j) => j.doc),
          ),
        ),
      );
    await Promise.all(
      jobs.map(({ doc, command }) =>
        this.deps.link.publish(topics.command(printer.id, 'print'), JSON.stringify(command), { qos: 1 }).catch((err: unknown) => {
          this.log.warn({ err, printer: printer.id, jobId: doc.jobId }, 'could not send print job');
          this.ledger.fail(doc, 'PKL_PRINTER_UNAVAILABLE', { deviceId: printer.id });
        }),
      ),
    );
    // A sending that dispatched something was notified by the last answer if the printer was
    // quicker than the publish acknowledgements; only a sending with nothing to do is re-told.
    this.notifyIfFinished(record, dispatch.length === 0 ? conn : undefined);
  }

  /**
   * Sends the final notifyPrintResult once every document of the current sending is answered:
   * to every connection that sent the task and is still open. A connection that re-sends an
   * already finished task is told its outcome again (nothing is printed).
   */
  private notifyIfFinished(task: TaskRecord<Connection>, resender?: Connection): void {
    if (!isFinished(task)) return;
    const outcome = outcomeOf(task);
    if (!task.finalNotified) {
      task.finalNotified = true;
      for (const [listener, requestID] of task.listeners) listener.send(notifyPrintResultFrame(requestID, outcome));
      this.log.debug({ taskID: task.taskID, taskStatus: outcome.taskStatus }, 'print-component task finished');
    } else if (resender !== undefined) {
      resender.send(notifyPrintResultFrame(task.listeners.get(resender) ?? '', outcome));
    }
  }

  private onPrintResult(msg: InboundMessage): void {
    if (this.server === null) return;
    const parsed = parseTopic(msg.topic);
    if (parsed?.type !== 'event' || parsed.kind !== 'print_result') return;
    const decoded = decodeEvent('print_result', msg.payload);
    if (!decoded.ok) return; // ingress answers the device with the coded error
    const { job_id: jobId, status, reason } = decoded.value;
    if (!jobId.startsWith('cn-')) return; // a station's job
    const task = this.ledger.settle(jobId, parsed.deviceId, status, reason ?? null);
    if (task !== null) this.notifyIfFinished(task);
  }

  private onDeviceState(msg: InboundMessage): void {
    const parsed = parseTopic(msg.topic);
    if (parsed?.type !== 'state' || !this.printers.has(parsed.deviceId)) return;
    let state: unknown;
    let reason: unknown;
    try {
      ({ state, reason } = JSON.parse(msg.payload.toString('utf8')) as { state?: unknown; reason?: unknown });
    } catch {
      return;
    }
    if (state === 'error') this.faults.set(parsed.deviceId, typeof reason === 'string' ? reason : 'error');
    else if (typeof state === 'string') this.faults.delete(parsed.deviceId);
  }
}
