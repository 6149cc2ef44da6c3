/**
 * The line side of a DWS / sorter TCP link, over a real socket, speaking the SAME telegram
 * module as the driver (device-drivers/src/conveyor/telegram.ts). It inducts parcels (parcel
 * telegrams), injects faults — no-reads, repeated telegrams, garbage, truncated telegrams,
 * dropped connections — and records every destination reply it receives.
 *
 * `role: 'listen'`: the simulated controller waits for the gateway to dial it (definition
 * `gatewayRole: 'dial'`); `role: 'dial'`: it connects to the gateway and redials after a drop.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { type ParcelTelegram, type ReplyTelegram, TelegramCodec, type TelegramTemplate } from '../../../device-drivers/src/conveyor/telegram.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';

export interface DwsLineTcpSimOptions {
  readonly template: TelegramTemplate;
  readonly role: 'listen' | 'dial';
  /** listen: bind address (default 127.0.0.1, port 0); dial: the gateway's address. */
  readonly host?: string;
  readonly port?: number;
  readonly startSeq?: number;
  /** The line's counter wraps here (a 4-digit field: 10,000). Default 2^32. */
  readonly seqModulo?: number;
  /** dial role: wait this long before redialling after a drop. Default 100 ms. */
  readonly redialMs?: number;
  readonly logger?: SimLogger;
}

export interface ReceivedReply extends ReplyTelegram {
  /** ms since the parcel telegram with this seq was sent (null if none was). */
  readonly latencyMs: number | null;
}

export interface ParcelInput {
  readonly barcode: string | null;
  readonly grams?: number;
  readonly lengthMm?: number;
  readonly widthMm?: number;
  readonly heightMm?: number;
}

interface SimEvents {
  reply: [ReceivedReply];
  connection: [];
}

export class DwsLineTcpSim extends EventEmitter<SimEvents> {
  readonly codec: TelegramCodec;
  readonly replies: ReceivedReply[] = [];
  /** Reply bytes that did not parse (a driver bug would show here). */
  readonly badReplies: string[] = [];
  connections = 0;
  readonly #o: DwsLineTcpSimOptions;
  readonly #log: SimLogger;
  readonly #sentAt = new Map<number, number>();
  #seq: number;
  #last: Uint8Array | null = null;
  #server: net.Server | null = null;
  #socket: net.Socket | null = null;
  #stopped = false;
  #redial: NodeJS.Timeout | null = null;

  constructor(options: DwsLineTcpSimOptions) {
    super();
    this.#o = options;
    this.codec = new TelegramCodec(options.template);
    this.#log = options.logger ?? silentLogger;
    this.#seq = options.startSeq ?? 1;
  }

  /** Listening port (listen role). */
  get port(): number {
    const a = this.#server?.address();
    return a !== null && typeof a === 'object' && a !== undefined ? a.port : (this.#o.port ?? 0);
  }

  get connected(): boolean {
    return this.#socket !== null && !this.#socket.destroyed;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#o.role === 'listen') {
      const server = net.createServer((s) => this.#adopt(s));
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#o.port ?? 0, this.#o.host ?? '127.0.0.1', () => resolve());
      });
    } else {
      this.#dial();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#redial) clearTimeout(this.#redial);
    this.#socket?.destroy();
    this.#socket = null;
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once a connection to the gateway is up. */
  async waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return;
    await this.#waitFor('connection', () => this.connected, timeoutMs, 'connection');
  }

  /** Sends one parcel telegram; returns its seq. */
  sendParcel(p: ParcelInput, seq?: number): number {
    const s = seq ?? this.#nextSeq();
    const t: ParcelTelegram = { seq: s, barcode: p.barcode, ...pick(p) };
    const bytes = this.codec.encodeParcel(t);
    this.#last = bytes;
    this.#sentAt.set(s, performance.now());
    this.#write(bytes);
    return s;
  }

  /** Fault: the line repeats its last telegram (same seq, same content). */
  resendLast(): void {
    if (!this.#last) throw new Error('nothing sent yet');
    this.#write(this.#last);
  }

  /** Fault: arbitrary bytes on the line. */
  sendGarbage(bytes: Uint8Array | string): void {
    this.#write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Fault: the first `keep` bytes of a parcel telegram, then nothing (the next telegram follows). */
  sendTruncated(p: ParcelInput, keep?: number): number {
    const s = this.#nextSeq();
    const bytes = this.codec.encodeParcel({ seq: s, barcode: p.barcode, ...pick(p) });
    this.#write(bytes.subarray(0, keep ?? Math.floor(bytes.length / 2)));
    return s;
  }

  /** Fault: the cable is pulled (socket destroyed). A dialling line redials. */
  dropConnection(): void {
    this.#socket?.destroy();
  }

  /** The first reply for `seq` received after this call or already recorded. */
  async waitForReply(seq: number, timeoutMs = 10_000): Promise<ReceivedReply> {
    const found = () => this.replies.find((r) => r.seq === seq);
    await this.#waitFor('reply', () => found() !== undefined, timeoutMs, `reply for seq ${seq}`);
    return found()!;
  }

  #nextSeq(): number {
    const s = this.#seq;
    this.#seq = (this.#seq + 1) % (this.#o.seqModulo ?? 4_294_967_296);
    return s;
  }

  #write(bytes: Uint8Array): void {
    const s = this.#socket;
    if (!s || s.destroyed) throw new Error('line not connected');
    s.write(bytes);
  }

  #dial(): void {
    if (this.#stopped) return;
    const s = net.connect({ host: this.#o.host ?? '127.0.0.1', port: this.#o.port ?? 0 });
    s.once('connect', () => this.#adopt(s));
    s.once('error', (err) => {
      this.#log.debug({ err: err.message }, 'dws sim dial failed');
    });
    s.once('close', () => {
      if (this.#socket === s) this.#socket = null;
      if (!this.#stopped) this.#redial = setTimeout(() => this.#dial(), this.#o.redialMs ?? 100);
    });
  }

  #adopt(s: net.Socket): void {
    this.#socket?.destroy();
    this.#socket = s;
    s.setNoDelay(true);
    this.connections++;
    const decoder = this.codec.createDecoder('reply');
    s.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (!r.ok) {
          this.badReplies.push(r.raw);
          continue;
        }
        const at = this.#sentAt.get(r.value.seq);
        const reply: ReceivedReply = { ...r.value, latencyMs: at === undefined ? null : performance.now() - at };
        this.replies.push(reply);
        if (this.replies.length > 10_000) this.replies.shift();
        this.emit('reply', reply);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.#socket === s) this.#socket = null;
    });
    this.emit('connection');
  }

  #waitFor(event: keyof SimEvents, done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.off(event, check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off(event, check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.on(event, check);
    });
  }
}

function pick(p: ParcelInput): Omit<ParcelTelegram, 'seq' | 'barcode'> {
  const out: { grams?: number; lengthMm?: number; widthMm?: number; heightMm?: number } = {};
  if (p.grams !== undefined) out.grams = p.grams;
  if (p.lengthMm !== undefined) out.lengthMm = p.lengthMm;
  if (p.widthMm !== undefined) out.widthMm = p.widthMm;
  if (p.heightMm !== undefined) out.heightMm = p.heightMm;
  return out;
}
