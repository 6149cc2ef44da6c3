/**
 * What a TSPL printer does with the bytes it receives, as far as the simulator needs it:
 * CR LF terminated command lines, a label job ending with `PRINT m[,n]`, and the immediate
 * `<ESC>!?` status query, which may arrive anywhere (answered in stream order). Pure.
 *
 * TSC TSPL manual: `PRINT m[,n]` prints m label sets with n copies of each (n defaults to 1);
 * `<ESC>!` commands are handled as soon as they arrive, outside the command line buffer.
 */
import { latin1 } from '../../framing/bytes.js';

export type TsplInput =
  | { readonly type: 'job'; readonly tspl: string; readonly labels: number }
  | { readonly type: 'status-query' }
  /** A job over `maxJobBytes` was dropped. */
  | { readonly type: 'overflow'; readonly bytes: number };

const ESC = '\x1b';
const PRINT_RE = /^PRINT\s+(\d{1,5})(?:\s*,\s*(\d{1,5}))?\s*$/i;

export class TsplStreamParser {
  readonly #maxJob: number;
  #buf = '';
  #lines: string[] = [];
  #size = 0;

  constructor(maxJobBytes = 1 << 20) {
    this.#maxJob = maxJobBytes;
  }

  /** True while command lines arrived and their `PRINT` did not. */
  get inJob(): boolean {
    return this.#lines.length > 0;
  }

  push(chunk: Uint8Array): TsplInput[] {
    const out: TsplInput[] = [];
    let buf = this.#buf + latin1(chunk);
    // In stream order: an `<ESC>!?` is answered where it stands, so a query written after a job
    // sees that job (an `<ESC>!?` inside a line is cut out of it, the line continues).
    for (;;) {
      const esc = buf.indexOf(`${ESC}!?`);
      const nl = buf.indexOf('\n');
      if (esc !== -1 && (nl === -1 || esc < nl)) {
        out.push({ type: 'status-query' });
        buf = buf.slice(0, esc) + buf.slice(esc + 3);
        continue;
      }
      if (nl === -1) break;
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.trim() === '') continue;
      this.#lines.push(line);
      this.#size += line.length + 2;
      const m = PRINT_RE.exec(line.trim());
      if (m) {
        const labels = Number(m[1]) * (m[2] === undefined ? 1 : Number(m[2]));
        out.push({ type: 'job', tspl: `${this.#lines.join('\r\n')}\r\n`, labels });
        this.#lines = [];
        this.#size = 0;
      } else if (this.#size > this.#maxJob) {
        out.push({ type: 'overflow', bytes: this.#size });
        this.#lines = [];
        this.#size = 0;
      }
    }
    if (buf.length > this.#maxJob) {
      out.push({ type: 'overflow', bytes: buf.length }); // one endless line: not TSPL
      buf = '';
    }
    this.#buf = buf; // a partial line, or a partial <ESC>!? (rescanned with the next chunk)
    return out;
  }

  reset(): void {
    this.#buf = '';
    this.#lines = [];
    this.#size = 0;
  }
}
