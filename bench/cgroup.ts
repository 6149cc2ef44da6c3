/**
 * A CPU quota for the gateway in `npm run bench -- core --pi-budget`: a cgroup whose CFS
 * bandwidth limit gives it `quotaUs` of CPU time per `periodUs` across all its threads
 * (Linux kernel docs, "CFS Bandwidth Control": cgroup v2 `cpu.max` = "$QUOTA $PERIOD",
 * cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`). The bench uses half of one core with
 * a 10 ms period ("5000 10000"): what that stands for on a Raspberry Pi is in bench/README.md.
 *
 * The process enters the group at exec (`sh -c 'echo $$ > cgroup.procs; exec …'`), so every
 * thread it ever starts (writer, checkpointer, V8 and libuv pools) is inside.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuBudget {
  /** "cgroup v2 /sys/fs/cgroup/packline-bench-123: cpu.max 5000 10000" */
  describe: string;
  /** The file a pid is written to, to move that process into the group. */
  procsFile: string;
  /** Throttling counters so far (cpu.stat). */
  stat(): { periods: number; throttledPeriods: number; throttledMs: number };
  remove(): void;
}

function mounts(): Array<{ point: string; type: string; options: string }> {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [pre, post = ''] = l.split(' - ');
      const f = (pre ?? '').split(' ');
      const g = post.split(' ');
      return { point: f[4] ?? '', type: g[0] ?? '', options: g[2] ?? '' };
    });
}

function readStat(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) out.set(k, Number(v));
  }
  return out;
}

/**
 * Creates the group or throws an Error that says why and what to do. Needs root (or a
 * delegated cgroup subtree) and the cpu controller.
 */
export function createCpuBudget(quotaUs: number, periodUs: number): CpuBudget {
  const name = `packline-bench-${process.pid}`;
  const problems: string[] = [];
  const all = mounts();
  // cgroup v2: a cgroup2 mount whose root offers the cpu controller.
  for (const m of all.filter((x) => x.type === 'cgroup2')) {
    const controllers = existsSync(join(m.point, 'cgroup.controllers')) ? readFileSync(join(m.point, 'cgroup.controllers'), 'utf8') : '';
    if (!controllers.split(/\s+/).includes('cpu')) {
      problems.push(`cgroup v2 at ${m.point} has no cpu controller (controllers: ${controllers.trim() || 'none'})`);
      continue;
    }
    const dir = join(m.point, name);
    try {
      // Children of the root get the cpu controller only if the root delegates it.
      const subtree = readFileSync(join(m.point, 'cgroup.subtree_control'), 'utf8');
      if (!subtree.split(/\s+/).includes('cpu')) writeFileSync(join(m.point, 'cgroup.subtree_control'), '+cpu');
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${periodUs}`);
      return {
        describe: `cgroup v2 ${dir}: cpu.max "${quotaUs} ${periodUs}"`,
        procsFile: join(dir, 'cgroup.procs'),
        stat: () => {
          const s = readStat(join(dir, 'cpu.stat'));
          return { periods: s.get('nr_periods') ?? 0, throttledPeriods: s.get('nr_throttled') ?? 0, throttledMs: (s.get('throttled_usec') ?? 0) / 1000 };
        },
        remove: () => rmdirSync(dir),
      };
    } catch (err) {
      problems.push(`cgroup v2 at ${m.point}: ${(err as Error).message}`);
    }
  }
  // cgroup v1: the hierarchy the cpu controller is mounted on (often "cpu,cpuacct").
  for (const m of all.filter((x) => x.type === 'cgroup' && x.options.split(',').includes('cpu'))) {
    const dir = join(m.point, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(periodUs));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
      return {
        describe: `cgroup v1 ${dir}: cpu.cfs_quota_us ${quotaUs} / cpu.cfs_period_us ${periodUs}`,
        procsFile: join(dir, 'cgroup.procs'),
        stat: () => {
          const s = readStat(join(dir, 'cpu.stat'));
          return { periods: s.get('nr_periods') ?? 0, throttledPeriods: s.get('nr_throttled') ?? 0, throttledMs: (s.get('throttled_time') ?? 0) / 1e6 };
        },
        remove: () => rmdirSync(dir),
      };
    } catch (err) {
      problems.push(`cgroup v1 at ${m.point}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0) problems.push('no cgroup filesystem with the cpu controller is mounted');
  const who = process.getuid?.() === 0 ? 'running as root' : 'not running as root (creating a cgroup needs root or a delegated subtree)';
  throw new Error(
    `--pi-budget cannot create a cgroup with a CPU quota (${who}):\n  ${problems.join('\n  ')}\n` +
      'Run the bench as root on Linux with the cpu controller (cgroup v2 cpu.max, or cgroup v1 cpu.cfs_quota_us), or without --pi-budget.',
  );
}
