/**
 * What `packline start` shows on its console. On a terminal: one human-readable line per log
 * record (`19:02:03 INFO  stations  message  key=value`), the local time of day as the only
 * timestamp, the floor's and the gateway's records alike. Anywhere else (systemd, a pipe, a
 * file): pino's JSON lines unchanged, ISO 8601 timestamps, for log shippers.
 */
import type { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Record fields shown elsewhere on the line, or noise on a console. */
const HIDDEN = new Set(['level', 'time', 'msg', 'svc', 'pid', 'hostname', 'component', 'name', 'v', 'reqId']);

function timeOfDay(time: unknown): string {
  const d = typeof time === 'number' ? new Date(time) : typeof time === 'string' ? new Date(time) : new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object') {
    const e = v as { message?: unknown; code?: unknown; type?: unknown };
    // An error object (pino's err serializer): its code and message, not its stack.
    if (typeof e.message === 'string' && ('stack' in e || 'type' in e)) return JSON.stringify(`${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message}`);
    return JSON.stringify(v);
  }
  return String(v);
}

/** One pino JSON record as a console line; a line that is not a record passes unchanged. */
export function formatLogLine(line: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (r === null || typeof r !== 'object' || typeof r['level'] !== 'number') return line;
  const who = (r['component'] ?? r['name'] ?? '') as string;
  const extras = Object.entries(r)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  const head = `${timeOfDay(r['time'])} ${LEVELS[r['level'] as number] ?? String(r['level'])} ${who === '' ? '' : `${who.padEnd(10)} `}${String(r['msg'] ?? '')}`;
  return extras.length === 0 ? head : `${head}  ${extras.join(' ')}`;
}

/** Splits a byte stream into lines and writes each, formatted, to `out`. */
export class ConsoleLines {
  private rest = '';
  constructor(private readonly out: Pick<Writable, 'write'>) {}

  write(chunk: string | Buffer): boolean {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) if (l !== '') this.out.write(`${formatLogLine(l)}\n`);
    return true;
  }
}

/** The pino destination for `packline start`: formatted on a terminal, JSON (undefined = pino's own stdout) otherwise. */
export function consoleDestination(out: NodeJS.WriteStream = process.stdout): ConsoleLines | undefined {
  return out.isTTY ? new ConsoleLines(out) : undefined;
}

/** What the floor summary reads from GET /api/v1/dashboard. */
export interface FloorFigures {
  throughput: { last_hour: number; rate_per_hour: number; intercepts_last_hour: number; holds_last_hour: number };
  sync: { enabled: boolean; backlog: number; state: string };
  exceptions: { counts: Record<string, number> };
}

/** The one-line floor summary: what shipped since the last line and in the last hour. */
export function floorSummary(now: FloorFigures, before: FloorFigures | null, everySeconds: number): string {
  const t = now.throughput;
  const delta = before === null ? '' : ` (+${Math.max(0, t.last_hour - before.throughput.last_hour)} in ${everySeconds} s)`;
  const held = now.exceptions.counts['hold'] ?? 0;
  const sync = now.sync.enabled ? `sync backlog ${now.sync.backlog} (${now.sync.state})` : 'sync off';
  return `floor: ${t.last_hour} shipped${delta}, ${t.intercepts_last_hour} intercepted, ${held} held now · last hour, ${t.rate_per_hour}/h · ${sync}`;
}
