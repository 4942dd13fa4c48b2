import type { Clock } from './time.js';

const noop = () => undefined;

interface Timer {
  at: number;
  seq: number;
  fn: () => unknown;
  cancelled: boolean;
}

interface Periodic {
  periodMs: number;
  next: number;
  fn: () => unknown;
  cancelled: boolean;
}

/**
 * A clock whose time moves only through `advance`/`advanceTo` (`--clock virtual`). Timers wait in a
 * queue ordered by the instant they are due; an advance fires them in that order, setting `now` to
 * each one's instant first, and after each waits until the work it set off has settled (`settle`,
 * wired by the node to the worker: nothing claimed or finished is pending, every running job is
 * waiting). So an advance answers once the work due up to its instant has run, and a test that
 * moves the clock sees the same result every time (docs/decisions/0020-virtual-clock.md).
 *
 * Periodic work (`every`: polls, lease renewals, recovery, retention) runs at most once per advance,
 * at the last instant it was due: a jump of a day costs one lease renewal, not 8640.
 */
export class VirtualClock implements Clock {
  readonly mode = 'virtual' as const;
  private current: number;
  /** A binary heap by (at, seq); cancelled timers stay until they reach the top. */
  private readonly heap: Timer[] = [];
  private readonly periodic = new Set<Periodic>();
  private seq = 0;
  private cancelled = 0;
  private advancing: Promise<void> = Promise.resolve();

  /** Waits until the work set off by a timer has settled; the node sets it (the worker's settle). */
  settle: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve));
  /** Told the new instant after every advance (the node keeps it in the store). */
  onAdvanced?: (now: number) => Promise<void>;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Put the clock at `ms` without firing anything: only while nothing waits on it (start-up). */
  reset(ms: number): void {
    this.current = ms;
  }

  /** How many timers and periodic tasks wait (cancelled ones not counted). */
  get pending(): number {
    return this.heap.filter((t) => !t.cancelled).length + this.periodic.size;
  }

  setTimer(fn: () => unknown, ms: number): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      timer.fn = noop;
      // Most timers are cancelled (a job's time limit, when the job ends in time): drop them in bulk.
      if (++this.cancelled > 64 && this.cancelled > this.heap.length / 2) this.compact();
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!signal) {
        this.setTimer(resolve, ms);
        return;
      }
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      const cancel = this.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  every(fn: () => unknown, ms: number): () => void {
    const p: Periodic = { periodMs: Math.max(1, ms), next: this.current + Math.max(1, ms), fn, cancelled: false };
    this.periodic.add(p);
    return () => {
      p.cancelled = true;
      this.periodic.delete(p);
    };
  }

  /** Move time on by `ms`; see advanceTo. */
  advance(ms: number): Promise<void> {
    if (!Number.isSafeInteger(ms) || ms < 0) return Promise.reject(new RangeError(`cannot advance by ${ms} ms`));
    return this.queue(() => this.current + ms);
  }

  /**
   * Move time to `instant` (not before now), firing what falls due on the way in order; answers once
   * the work due up to `instant` has run. Advances take turns.
   */
  advanceTo(instant: number): Promise<void> {
    if (!Number.isFinite(instant) || instant < this.current) return Promise.reject(new RangeError(`cannot move the clock back to ${instant}`));
    // An advance queued before this one may have passed the instant meanwhile: then this one fires nothing.
    return this.queue(() => Math.max(instant, this.current));
  }

  private queue(target: () => number): Promise<void> {
    const run = this.advancing.then(() => this.run(target()));
    this.advancing = run.catch(() => undefined);
    return run;
  }

  private async run(target: number): Promise<void> {
    // Work submitted at the current instant starts at it, before time moves.
    await this.settle();
    for (let next = this.next(target); next; next = this.next(target)) {
      this.current = Math.max(this.current, next.at);
      await next.fn();
      await this.settle();
    }
    this.current = target;
    await this.onAdvanced?.(target);
  }

  /** The first thing due by `target`, taken off its queue (a periodic task is moved past `target`). */
  private next(target: number): { at: number; fn: () => unknown } | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop();
      this.cancelled--;
    }
    const timer = this.heap[0];
    let periodic: Periodic | undefined;
    let periodicAt = Infinity;
    for (const p of this.periodic) {
      if (p.next > target) continue;
      const at = p.next + Math.floor((target - p.next) / p.periodMs) * p.periodMs;
      if (at < periodicAt) [periodic, periodicAt] = [p, at];
    }
    if (timer && timer.at <= target && timer.at <= periodicAt) {
      this.pop();
      // Fired: a cancel from now on changes nothing.
      timer.cancelled = true;
      return { at: timer.at, fn: timer.fn };
    }
    if (!periodic) return undefined;
    periodic.next = periodicAt + periodic.periodMs;
    return { at: periodicAt, fn: periodic.fn };
  }

  private compact(): void {
    const live = this.heap.filter((t) => !t.cancelled);
    this.heap.length = 0;
    this.cancelled = 0;
    for (const t of live) this.push(t);
  }

  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
