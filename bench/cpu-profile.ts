/**
 * Reads a V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` JSON of the Chrome DevTools
 * protocol's Profiler.Profile) and summarises one time window of it: where the main thread's
 * busy time went (self time by function and by module) and the longest busy stretches — runs
 * of consecutive samples with no `(idle)` between them, i.e. what held the event loop.
 *
 * Profile timestamps are microseconds of the monotonic clock (V8 TimeTicks, CLOCK_MONOTONIC on
 * Linux), the same clock as `process.hrtime` in the bench, so a phase's window is cut by the
 * bench's own hrtime readings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Stretch {
  startMs: number;
  ms: number;
  /** The Packline frames (gateway/contracts/cloud-sync sources) most often on the stack in it. */
  packline: string[];
  /** The functions with the most self time in it. */
  self: string[];
}

export interface ProfileWindow {
  /** Wall time of the window, ms, and the main thread's busy (non-idle) share of it. */
  windowMs: number;
  busyMs: number;
  /** Self time by function, top 25, ms. */
  topSelf: Array<{ frame: string; ms: number; pct: number }>;
  /** Self time by module (node_modules package, Packline file, Node internals, GC, native), ms. */
  byModule: Array<{ module: string; ms: number; pct: number }>;
  /** Inclusive time of Packline functions (on the stack anywhere), top 25, ms. */
  topPacklineInclusive: Array<{ frame: string; ms: number; pct: number }>;
  /** The longest busy stretches, longest first. */
  stretches: Stretch[];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  for (const top of ['/gateway/', '/contracts/', '/cloud-sync/', '/device-drivers/']) {
    const i = url.indexOf(top);
    if (i >= 0) return url.slice(i + 1);
  }
  return url.replace(/^file:\/\//, '');
}

function frameName(f: CallFrame): string {
  const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return fn;
  return `${fn} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function moduleOf(f: CallFrame): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const nm = f.url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = f.url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
  }
  if (f.url.startsWith('node:')) return `node:${f.url.slice(5).split('/')[0]}`;
  const s = shortUrl(f.url);
  return s.split('/').slice(0, 3).join('/');
}

function isPackline(f: CallFrame): boolean {
  return f.url !== '' && !f.url.includes('node_modules/') && /\/(gateway|contracts|cloud-sync)\//.test(f.url);
}

/** The newest main-thread profile of process `pid` in a directory (`--cpu-prof` names files CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the main thread is 0, workers write their own). */
export function latestProfile(dir: string, pid: number): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.0.`))
    .sort();
  const last = files.at(-1);
  return last === undefined ? null : join(dir, last);
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** Summarises the samples between `fromUs` and `toUs` (monotonic µs). */
export function summarise(p: CpuProfile, fromUs: number, toUs: number, stretchesWanted = 5): ProfileWindow {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  // Packline frames on the stack of each leaf node, computed once per node.
  const stackCache = new Map<number, string[]>();
  const packlineStack = (id: number): string[] => {
    const hit = stackCache.get(id);
    if (hit) return hit;
    const out: string[] = [];
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (f && isPackline(f)) {
        const name = frameName(f);
        if (!seen.has(name)) {
          seen.add(name);
          out.push(name);
        }
      }
    }
    stackCache.set(id, out);
    return out;
  };

  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const stretches: Array<{ start: number; us: number; samples: Array<[number, number]> }> = [];
  let cur: { start: number; us: number; samples: Array<[number, number]> } | null = null;
  let t = p.startTime;
  let busyUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample's weight is the time to the next one.
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = p.samples[i] as number;
    if (idleIds.has(id)) {
      if (cur) stretches.push(cur);
      cur = null;
      continue;
    }
    busyUs += dt;
    const f = byId.get(id)?.callFrame;
    if (f) {
      const name = frameName(f);
      self.set(name, (self.get(name) ?? 0) + dt);
      const m = moduleOf(f);
      modules.set(m, (modules.get(m) ?? 0) + dt);
    }
    for (const name of packlineStack(id)) inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    if (!cur) cur = { start: t, us: 0, samples: [] };
    cur.us += dt;
    cur.samples.push([id, dt]);
  }
  if (cur) stretches.push(cur);
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: us / 1000, pct: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  const longest = stretches.sort((a, b) => b.us - a.us).slice(0, stretchesWanted);
  return {
    windowMs: (toUs - fromUs) / 1000,
    busyMs: busyUs / 1000,
    topSelf: top(self, 25).map(({ k, ms, pct }) => ({ frame: k, ms, pct })),
    byModule: top(modules, 15).map(({ k, ms, pct }) => ({ module: k, ms, pct })),
    topPacklineInclusive: top(inclusive, 25).map(({ k, ms, pct }) => ({ frame: k, ms, pct })),
    stretches: longest.map((s) => {
      const sSelf = new Map<string, number>();
      const sPkl = new Map<string, number>();
      for (const [id, dt] of s.samples) {
        const f = byId.get(id)?.callFrame;
        if (f) sSelf.set(frameName(f), (sSelf.get(frameName(f)) ?? 0) + dt);
        for (const name of packlineStack(id)) sPkl.set(name, (sPkl.get(name) ?? 0) + dt);
      }
      const names = (m: Map<string, number>) =>
        [...m.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([k, us]) => `${k} (${(us / 1000).toFixed(1)} ms)`);
      return { startMs: (s.start - fromUs) / 1000, ms: s.us / 1000, packline: names(sPkl), self: names(sSelf) };
    }),
  };
}

/** A few readable lines of a window's summary. */
export function describeWindow(w: ProfileWindow, title: string): string {
  const lines = [
    `${title}: main thread busy ${w.busyMs.toFixed(0)} ms of ${w.windowMs.toFixed(0)} ms (${((100 * w.busyMs) / Math.max(1, w.windowMs)).toFixed(1)} %)`,
    '  self time by module:',
    ...w.byModule.slice(0, 12).map((m) => `    ${m.pct.toFixed(1).padStart(5)} %  ${m.module}`),
    '  self time by function:',
    ...w.topSelf.slice(0, 15).map((m) => `    ${m.pct.toFixed(1).padStart(5)} %  ${m.frame}`),
    '  Packline functions, inclusive:',
    ...w.topPacklineInclusive.slice(0, 15).map((m) => `    ${m.pct.toFixed(1).padStart(5)} %  ${m.frame}`),
    '  longest busy stretches (event loop held):',
    ...w.stretches.map(
      (s) =>
        `    ${s.ms.toFixed(1)} ms at +${(s.startMs / 1000).toFixed(1)} s — self: ${s.self.join('; ')} — Packline: ${s.packline.slice(0, 3).join('; ') || '—'}`,
    ),
  ];
  return lines.join('\n');
}
