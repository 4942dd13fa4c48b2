import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCores, type ReadText } from '../../src/runtime/cores.js';

/** A file system of the given files only. */
const files =
  (map: Record<string, string>): ReadText =>
  (path) =>
    map[path];

describe('cgroupCpuQuota', () => {
  it('reads cgroup v2 cpu.max of the process group', () => {
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
  });

  it('sees no quota in "max"', () => {
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('takes the tightest of the group and the groups above it (v2)', () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': 'max 100000',
      '/sys/fs/cgroup/kubepods/pod1/cpu.max': '200000 100000',
      '/sys/fs/cgroup/kubepods/cpu.max': '800000 100000',
      '/sys/fs/cgroup/cpu.max': 'max 100000',
    });
    expect(cgroupCpuQuota(read)).toBe(2);
  });

  it('reads nothing for a group outside the cgroup namespace (/../…): no file mounted here is it', () => {
    const read = files({ '/proc/self/cgroup': '0::/../../outside\n', '/sys/fs/cgroup/outside/cpu.max': '100000 100000', '/sys/fs/cgroup/cpu.max': '300000 100000' });
    expect(cgroupCpuQuota(read)).toBeUndefined();
  });

  it('reads cgroup v1 cfs quota and period, walking up to the mount (a container sees its group as the root)', () => {
    const read = files({
      '/proc/self/cgroup': '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(read)).toBe(0.5);
  });

  it('sees no quota in v1 -1, nor when nothing can be read', () => {
    const read = files({ '/proc/self/cgroup': '1:cpu:/\n', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuQuota(read)).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });
});

describe('usableCores', () => {
  it('is the CPUs the process may run on, capped by the quota rounded down, at least 1', () => {
    expect(usableCores(8, undefined)).toBe(8);
    expect(usableCores(8, 2.5)).toBe(2);
    expect(usableCores(8, 1.5)).toBe(1);
    expect(usableCores(2, 16)).toBe(2);
    expect(usableCores(4, 0.25)).toBe(1);
  });

  it('on this machine is at most what node sees', () => {
    expect(usableCores()).toBeGreaterThanOrEqual(1);
    expect(usableCores()).toBeLessThanOrEqual(availableParallelism());
  });
});
