import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aPrintJob } from '../../storage/test-fixtures.js';
import type { StationState } from '../types.js';
import { PrinterJobCounts } from './printer-job-counts.js';

type Jobs = StationState['pendingJobs'];

const jobs = (...list: Array<[string, string]>): Jobs => Object.fromEntries(list.map(([id, printer]) => [id, aPrintJob({ jobId: id, printerId: printer })]));

describe('PrinterJobCounts', () => {
  it('counts jobs per printer as stations come, replace their jobs and go', () => {
    const c = new PrinterJobCounts();
    const a1 = jobs(['J1', 'p1'], ['J2', 'p2']);
    const b1 = jobs(['J3', 'p1']);
    c.replace(null, a1);
    c.replace(null, b1);
    expect([c.of('p1'), c.of('p2'), c.of('p3')]).toEqual([2, 1, 0]);
    // Station a: J1 printed, J4 routed to p3 (failover).
    const a2 = jobs(['J2', 'p2'], ['J4', 'p3']);
    c.replace(a1, a2);
    expect([c.of('p1'), c.of('p2'), c.of('p3')]).toEqual([1, 1, 1]);
    // The same object again changes nothing.
    c.replace(a2, a2);
    expect(c.of('p2')).toBe(1);
    // Station b removed.
    c.replace(b1, null);
    expect([c.of('p1'), c.of('p2'), c.of('p3')]).toEqual([0, 1, 1]);
  });

  it('equals a recount over the stations after any sequence of replacements', () => {
    const printers = ['p1', 'p2', 'p3'];
    const jobSet = fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(...printers)), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), jobSet), { maxLength: 40 }), (steps) => {
        const c = new PrinterJobCounts();
        const stations: Jobs[] = [0, 1, 2, 3].map(() => ({}));
        for (const s of stations) c.replace(null, s);
        for (const [station, list] of steps) {
          const next = jobs(...list.map(([n, p]): [string, string] => [`J${station}-${n}`, p]));
          c.replace(stations[station]!, next);
          stations[station] = next;
        }
        for (const p of printers) {
          const recount = stations.reduce((n, s) => n + Object.values(s).filter((j) => j.printerId === p).length, 0);
          expect(c.of(p)).toBe(recount);
        }
      }),
    );
  });
});
