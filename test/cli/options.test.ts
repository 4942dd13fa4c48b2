import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { clockConfig, clockOptions, timeLimitConfig, timeLimitOptions } from '../../src/cli/options.js';
import { virtualClockRefusal } from '../../src/config.js';
import { DEFAULT_TIME_LIMITS, TIME_LIMIT_KINDS } from '../../src/domain/limits.js';

/** The time-limit flags as `serve` parses them, from arguments and an environment. */
function parse(args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    for (const option of timeLimitOptions()) cmd.addOption(option);
    cmd.parse(args, { from: 'user' });
    return timeLimitConfig(cmd.opts());
  } finally {
    process.env = saved;
  }
}

describe('time-limit flags', () => {
  test('one flag and one OPENCPH_*_TIME_LIMIT_MS variable per kind, with the documented defaults', () => {
    expect(parse([])).toEqual(DEFAULT_TIME_LIMITS);
    expect(parse(['--shell-time-limit', '500', '--operation-time-limit', '1000'], { OPENCPH_PUSH_TIME_LIMIT_MS: '7000' })).toEqual({
      ...DEFAULT_TIME_LIMITS,
      shell: 500,
      push: 7000,
      operation: 1000,
    });
    expect(TIME_LIMIT_KINDS.map((k) => timeLimitOptions().find((o) => o.long === `--${k}-time-limit`)?.envVar)).toEqual(
      TIME_LIMIT_KINDS.map((k) => `OPENCPH_${k.toUpperCase()}_TIME_LIMIT_MS`),
    );
  });

  test('a limit is a whole number of ms from 1 to 2^31 - 1, written in digits', () => {
    for (const value of ['0', '2147483648', '0x10', '1e3', ' 5', '-1', 'Infinity', '']) {
      expect(() => parse(['--shell-time-limit', value]), value).toThrow('--shell-time-limit must be a whole number from 1 to 2147483647');
    }
    expect(parse(['--install-time-limit', '2147483647']).install).toBe(2147483647);
  });
});

describe('clock flags', () => {
  function parseClock(args: string[], env: Record<string, string> = {}) {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const cmd = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
      for (const option of clockOptions()) cmd.addOption(option);
      cmd.parse(args, { from: 'user' });
      return clockConfig(cmd.opts());
    } finally {
      process.env = saved;
    }
  }

  test('--clock real|virtual and --clock-start, or OPENCPH_CLOCK and OPENCPH_CLOCK_START', () => {
    expect(parseClock([])).toEqual({ clock: 'real', clockStart: undefined });
    expect(parseClock(['--clock', 'virtual', '--clock-start', '2030-01-01T00:00:00Z'])).toEqual({ clock: 'virtual', clockStart: '2030-01-01T00:00:00Z' });
    expect(parseClock([], { OPENCPH_CLOCK: 'virtual', OPENCPH_CLOCK_START: '2030-01-01T08:00:00+08:00' })).toEqual({ clock: 'virtual', clockStart: '2030-01-01T08:00:00+08:00' });
    expect(() => parseClock(['--clock', 'fast'])).toThrow();
    expect(() => parseClock(['--clock-start', '2030-01-01'])).toThrow('--clock-start must be an ISO 8601 date-time');
  });

  test('a virtual clock runs on one node only', () => {
    expect(virtualClockRefusal({ clock: 'real', role: 'api', apiProcesses: 4 })).toBeUndefined();
    expect(virtualClockRefusal({ clock: 'virtual', role: 'all', apiProcesses: 1 })).toBeUndefined();
    expect(virtualClockRefusal({ clock: 'virtual', role: 'worker', apiProcesses: 1 })).toContain('--clock virtual needs --role all');
    expect(virtualClockRefusal({ clock: 'virtual', role: 'all', apiProcesses: 2 })).toContain('takes no --api-processes above 1');
  });
});
