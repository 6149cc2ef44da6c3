import { describe, expect, it } from 'vitest';
import { ConsoleLines, type FloorFigures, floorSummary, formatLogLine } from './console.js';

describe('the start-up console on a terminal', () => {
  it('turns a pino record into one readable line: time of day, level, component, message, fields', () => {
    const t = new Date(2026, 10, 11, 9, 5, 7).toISOString();
    const line = formatLogLine(
      JSON.stringify({ level: 30, time: t, svc: 'packline', component: 'broker', msg: 'mqtt broker listening', tcp: 1883, ws: '/mqtt' }),
    );
    expect(line).toBe('09:05:07 INFO  broker     mqtt broker listening  tcp=1883 ws=/mqtt');
  });

  it("reads the floor's records (name, ISO or epoch time) in the same format, and an error as code: message", () => {
    const epoch = new Date(2026, 10, 11, 23, 59, 1).getTime();
    const line = formatLogLine(
      JSON.stringify({
        level: 50,
        time: epoch,
        name: 'floor-sim',
        msg: 'print failed',
        err: { type: 'PacklineError', code: 'PKL_X', message: 'no paper', stack: 'at …' },
      }),
    );
    expect(line).toBe('23:59:01 ERROR floor-sim  print failed  err="PKL_X: no paper"');
  });

  it('passes lines that are not records unchanged, and splits a byte stream into lines', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
    const out: string[] = [];
    const lines = new ConsoleLines({ write: (s: string) => (out.push(s), true) } as never);
    lines.write('{"level":30,"time":0,"msg":"a"}\n{"level":40,');
    lines.write('"time":0,"msg":"b"}\n');
    expect(out.map((l) => l.slice(9))).toEqual(['INFO  a\n', 'WARN  b\n']);
  });
});

describe('the floor summary line', () => {
  const figures = (shipped: number): FloorFigures => ({
    throughput: { last_hour: shipped, rate_per_hour: 120, intercepts_last_hour: 2, holds_last_hour: 1 },
    sync: { enabled: true, backlog: 7, state: 'online' },
    exceptions: { counts: { hold: 1 } },
  });

  it('says shipped (and how many since the last line), intercepted, held, the sync backlog', () => {
    expect(floorSummary(figures(10), null, 10)).toBe('floor: 10 shipped, 2 intercepted, 1 held now · last hour, 120/h · sync backlog 7 (online)');
    expect(floorSummary(figures(16), figures(10), 10)).toContain('16 shipped (+6 in 10 s)');
  });
});
