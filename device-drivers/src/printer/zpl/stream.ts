/**
 * What a ZPL printer does with the bytes it receives, as far as the simulator needs it: split
 * the stream into label formats (`^XA` … `^XZ`) and immediate `~` commands. Pure.
 *
 * ZPL II Programming Guide: a format starts with `^XA` and ends with `^XZ` and may span any
 * number of TCP segments; `~` commands (`~HS`, `~HQES`, `~JA`, `~PP`, `~PS`) are acted on as
 * soon as they are received, even in the middle of a format, and are not part of it.
 */
import { latin1 } from '../../framing/bytes.js';

/** Immediate commands the simulator understands (ZPL II Guide: ~HS, ~HQ, ~JA, ~PP, ~PS). */
export const ZPL_IMMEDIATE_COMMANDS = ['HQES', 'HS', 'JA', 'PP', 'PS'] as const;
export type ZplImmediate = (typeof ZPL_IMMEDIATE_COMMANDS)[number];

export type ZplInput =
  /** A complete format; `quantity` from `^PQ` (ZPL II Guide, ^PQ: total labels), else 1. */
  | { readonly type: 'format'; readonly zpl: string; readonly quantity: number }
  | { readonly type: 'immediate'; readonly command: ZplImmediate }
  /** A format over `maxFormatBytes` was dropped. */
  | { readonly type: 'overflow'; readonly bytes: number };

const LONGEST_IMMEDIATE = Math.max(...ZPL_IMMEDIATE_COMMANDS.map((c) => c.length));

export class ZplStreamParser {
  readonly #maxFormat: number;
  #buf = '';
  #format: string | null = null;
  #discarded = 0;

  constructor(maxFormatBytes = 1 << 20) {
    this.#maxFormat = maxFormatBytes;
  }

  /** True while a `^XA` was received and its `^XZ` not yet (ZPL ~HS field h, "partial format"). */
  get inFormat(): boolean {
    return this.#format !== null;
  }

  /** Bytes outside any format that were not an immediate command. */
  get discardedBytes(): number {
    return this.#discarded;
  }

  push(chunk: Uint8Array): ZplInput[] {
    const out: ZplInput[] = [];
    const buf = this.#buf + latin1(chunk);
    let i = 0;
    while (i < buf.length) {
      if (buf[i] === '~') {
        const rest = buf.slice(i + 1, i + 1 + LONGEST_IMMEDIATE);
        const command = ZPL_IMMEDIATE_COMMANDS.find((c) => rest.startsWith(c));
        if (command !== undefined) {
          out.push({ type: 'immediate', command });
          i += 1 + command.length;
          continue;
        }
        // `~H` at the very end may still become `~HS`: wait for more bytes.
        if (i + 1 + rest.length === buf.length && ZPL_IMMEDIATE_COMMANDS.some((c) => c.startsWith(rest))) break;
      }
      if (this.#format === null) {
        if (buf.startsWith('^XA', i)) {
          this.#format = '';
          i += 3;
          continue;
        }
        if (i + 3 > buf.length && '^XA'.startsWith(buf.slice(i))) break;
        this.#discarded++;
        i++;
        continue;
      }
      if (buf.startsWith('^XZ', i)) {
        const zpl = `^XA${this.#format}^XZ`;
        const pq = /\^PQ(\d{1,8})/.exec(zpl);
        out.push({ type: 'format', zpl, quantity: pq ? Math.max(1, Number(pq[1])) : 1 });
        this.#format = null;
        i += 3;
        continue;
      }
      if (i + 3 > buf.length && '^XZ'.startsWith(buf.slice(i))) break;
      this.#format += buf[i];
      i++;
      if (this.#format.length > this.#maxFormat) {
        out.push({ type: 'overflow', bytes: this.#format.length });
        this.#format = null;
      }
    }
    this.#buf = buf.slice(i);
    return out;
  }

  reset(): void {
    this.#buf = '';
    this.#format = null;
  }
}
