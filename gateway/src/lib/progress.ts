/**
 * A one-line progress indicator for long CLI operations, on stderr and only when stderr is a
 * terminal (a pipe or a log file gets nothing, so `--json > out` stays clean). The line is
 * redrawn in place with a carriage return and erased when done.
 */
const FRAMES = ['|', '/', '-', '\\'];

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): boolean;
}

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  private current = '';
  private readonly startedAt = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    private label: string,
    /** Redraw period; the elapsed seconds tick with it. */
    everyMs = 250,
  ) {
    if (stream.isTTY !== true) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), everyMs);
    this.timer.unref();
  }

  /** Updates the line, e.g. `update('marked', 1200, 5000)` → `marked 1200/5000 (24%)`. */
  update(label: string, done?: number, total?: number): void {
    this.label = done === undefined ? label : `${label} ${done}${total ? `/${total} (${Math.floor((done / total) * 100)}%)` : ''}`;
    if (this.timer !== null) this.draw();
  }

  done(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.stream.write(`\r${' '.repeat(this.current.length)}\r`);
  }

  private draw(): void {
    const secs = Math.floor((Date.now() - this.startedAt) / 1000);
    const line = `${FRAMES[this.frame++ % FRAMES.length]} ${this.label} ${secs}s`;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.current.length - line.length))}`);
    this.current = line;
  }
}
