import { describe, expect, test } from 'vitest';
import { parseDuration, parseIsoInstant, systemClock } from '../../src/domain/time.js';
import { VirtualClock } from '../../src/domain/virtualClock.js';

const T0 = Date.UTC(2030, 0, 1);

describe('VirtualClock', () => {
  test('time moves only through advance; timers fire in order of their instant, each at it', async () => {
    const clock = new VirtualClock(T0);
    const fired: [string, number][] = [];
    clock.setTimer(() => fired.push(['c', clock.now()]), 300);
    clock.setTimer(() => fired.push(['a', clock.now()]), 100);
    clock.setTimer(() => fired.push(['b', clock.now()]), 100);
    clock.setTimer(() => fired.push(['zero', clock.now()]), 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.now()).toBe(T0);
    expect(fired).toEqual([]);
    await clock.advance(100);
    expect(fired).toEqual([
      ['zero', T0],
      ['a', T0 + 100],
      ['b', T0 + 100],
    ]);
    expect(clock.now()).toBe(T0 + 100);
    await clock.advanceTo(T0 + 1000);
    expect(fired.at(-1)).toEqual(['c', T0 + 300]);
    expect(clock.now()).toBe(T0 + 1000);
    expect(clock.pending).toBe(0);
  });

  test('a timer set while an advance fires runs in the same advance when it falls due by its end', async () => {
    const clock = new VirtualClock(T0);
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 50);
      clock.setTimer(() => fired.push(clock.now()), 500);
    }, 10);
    await clock.advance(100);
    expect(fired).toEqual([T0 + 10, T0 + 60]);
    await clock.advance(1000);
    expect(fired).toEqual([T0 + 10, T0 + 60, T0 + 510]);
  });

  test('a cancelled timer never fires; many cancelled timers are dropped', async () => {
    const clock = new VirtualClock(T0);
    let fired = 0;
    const cancels = Array.from({ length: 500 }, (_, i) => clock.setTimer(() => fired++, 1000 + i));
    clock.setTimer(() => fired++, 2000);
    for (const cancel of cancels) cancel();
    cancels[0]!();
    expect(clock.pending).toBe(1);
    await clock.advance(5000);
    expect(fired).toBe(1);
  });

  test('sleep resolves at its instant and rejects with the signal\'s reason when aborted', async () => {
    const clock = new VirtualClock(T0);
    const woke: number[] = [];
    const slept = clock.sleep(3000).then(() => woke.push(clock.now()));
    const controller = new AbortController();
    const reason = new Error('stop');
    const cut = clock.sleep(10_000, controller.signal);
    await clock.advance(2999);
    expect(woke).toEqual([]);
    await clock.advance(1);
    await slept;
    expect(woke).toEqual([T0 + 3000]);
    controller.abort(reason);
    await expect(cut).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(1, controller.signal)).rejects.toBe(reason);
  });

  test('the system clock\'s sleep rejects with the signal\'s reason too', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const cut = systemClock.sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(cut).rejects.toBe(reason);
    await systemClock.sleep(1);
    let fired = false;
    systemClock.setTimer(() => (fired = true), 1)();
    await systemClock.sleep(5);
    expect(fired).toBe(false);
  });

  test('periodic work runs at most once per advance, at the last instant it was due', async () => {
    const clock = new VirtualClock(T0);
    const beats: number[] = [];
    const sweeps: number[] = [];
    clock.every(() => beats.push(clock.now()), 10_000);
    const stop = clock.every(() => sweeps.push(clock.now()), 15_000);
    await clock.advance(86_400_000);
    expect(beats).toEqual([T0 + 86_400_000]);
    expect(sweeps).toEqual([T0 + 86_400_000]);
    await clock.advance(9_999);
    expect(beats).toHaveLength(1);
    await clock.advance(12_000);
    expect(beats).toEqual([T0 + 86_400_000, T0 + 86_420_000]);
    expect(sweeps).toEqual([T0 + 86_400_000, T0 + 86_415_000]);
    stop();
    await clock.advance(100_000);
    expect(sweeps).toHaveLength(2);
    expect(beats).toHaveLength(3);
  });

  test('after each timer it waits for the work it set off (settle) before the next one', async () => {
    const clock = new VirtualClock(T0);
    const log: string[] = [];
    let working = 0;
    let wake: (() => void) | undefined;
    clock.settle = async () => {
      while (working > 0) await new Promise<void>((r) => (wake = r));
    };
    const job = (name: string) => () => {
      working++;
      // The work takes real time (I/O); the clock must not fire the next timer meanwhile.
      setTimeout(() => {
        log.push(`${name} done at ${clock.now() - T0}`);
        working--;
        wake?.();
      }, 5);
    };
    clock.setTimer(job('a'), 10);
    clock.setTimer(job('b'), 20);
    await clock.advance(30);
    expect(log).toEqual(['a done at 10', 'b done at 20']);
  });

  test('advances take turns; the clock does not go back; each advance reports its instant', async () => {
    const clock = new VirtualClock(T0);
    const seen: number[] = [];
    clock.onAdvanced = async (now) => void seen.push(now);
    await Promise.all([clock.advance(10), clock.advance(20), clock.advanceTo(T0 + 15)]);
    expect(clock.now()).toBe(T0 + 30);
    expect(seen).toEqual([T0 + 10, T0 + 30, T0 + 30]);
    await expect(clock.advanceTo(T0)).rejects.toThrow(RangeError);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('durations and instants', () => {
  test('durations: days, hours, minutes, seconds, ms in that order', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1d2h3m4s5ms')).toBe(93_784_005);
    expect(parseDuration('0s')).toBe(0);
    for (const bad of ['', '30', 'm', '30m1h', '1.5h', '-1s', '1 h', '1H', '5mss', '1m1m']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  test('instants: ISO 8601 date-times with a zone', () => {
    expect(parseIsoInstant('2030-01-01T00:00:00Z')).toBe(T0);
    expect(parseIsoInstant('2030-01-01T01:00:00.250+01:00')).toBe(T0 + 250);
    expect(parseIsoInstant('2030-01-01T00:00Z')).toBe(T0);
    for (const bad of ['2030-01-01', '2030-01-01T00:00:00', 'yesterday', '2030-13-01T00:00:00Z', '2030-02-30T00:00:00Z', '2030-01-01T25:00:00Z', '']) expect(parseIsoInstant(bad), bad).toBeUndefined();
  });
});
