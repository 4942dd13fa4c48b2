import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** A file's text, or undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** CPUs' worth of time per period a cgroup may use: `quota / period`, or undefined when unlimited. */
function quotaOf(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : undefined;
}

/**
 * `/a/b/c` → `/a/b/c`, `/a/b`, `/a`, `/`: a cgroup and the ones above it, each of which may limit
 * it. None for a group outside the process's cgroup namespace (`/../…`): nothing mounted here is it.
 */
function selfAndAncestors(path: string): string[] {
  if (path.split('/').includes('..')) return [];
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, parts.length - i).join('/')).concat('/');
}

const join = (...parts: string[]) => parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '');

/**
 * The CPU quota of this process's control group, in CPUs (1.5 = a core and a half), or undefined
 * when there is none: cgroup v2's `cpu.max` ("max 100000" or "150000 100000"), or v1's
 * `cpu.cfs_quota_us` over `cpu.cfs_period_us` (-1: none). The tightest of the group and the groups
 * above it counts; inside a container the group is usually the root of what is mounted. v1's
 * controller is looked for where distributions mount it (/sys/fs/cgroup/cpu or cpu,cpuacct), not
 * through /proc/self/mountinfo.
 */
export function cgroupCpuQuota(read: ReadText = readText): number | undefined {
  const lines = (read('/proc/self/cgroup') ?? '').split('\n');
  const quotas: number[] = [];
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 !== undefined) {
    for (const dir of selfAndAncestors(v2.slice(3).trim())) {
      const [quota, period] = (read(join('/sys/fs/cgroup', dir, 'cpu.max')) ?? '').trim().split(/\s+/);
      const q = quotaOf(quota, period);
      if (q !== undefined) quotas.push(q);
    }
  }
  const v1 = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[1]!.split(',').includes('cpu'));
  if (v1 !== undefined) {
    const mount = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpuacct,cpu'].find((m) => read(join(m, 'cpu.cfs_period_us')) !== undefined);
    if (mount !== undefined) {
      for (const dir of selfAndAncestors(v1.slice(2).join(':').trim())) {
        const q = quotaOf(read(join(mount, dir, 'cpu.cfs_quota_us'))?.trim(), read(join(mount, dir, 'cpu.cfs_period_us'))?.trim());
        if (q !== undefined) quotas.push(q);
      }
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}

/**
 * Cores this process can use: the CPUs it may run on, capped by its control group's CPU quota
 * rounded down (1.5 CPUs: one; more processes than the quota gets throttled), at least 1. Newer
 * libuv (1.49, in newer Node releases) counts the quota in availableParallelism() itself, the same way.
 */
export function usableCores(cpus = availableParallelism(), quota = cgroupCpuQuota()): number {
  return Math.max(1, quota === undefined ? cpus : Math.min(cpus, Math.floor(quota)));
}
