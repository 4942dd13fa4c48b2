/**
 * All time of the modelled world flows through a Clock: what time it is, and waiting for a time to
 * come. The system clock is Node's own; a VirtualClock (virtualClock.ts) moves only when told, so a
 * test can pass 30 minutes in milliseconds. What is purely about this process and its sockets or
 * database (busy retries, reconnects, HTTP time-outs) uses Node's timers directly
 * (docs/decisions/0020-virtual-clock.md).
 */
export interface Clock {
  /** 'virtual' when time moves only through advance (VirtualClock). */
  readonly mode: 'real' | 'virtual';
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` have passed; rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` once `ms` have passed; the answer cancels it. A virtual clock waits for the promise
   * `fn` may return before it moves on.
   */
  setTimer(fn: () => unknown, ms: number): () => void;
  /**
   * Calls `fn` every `ms` until cancelled, never keeping the process alive. A virtual clock calls it
   * at most once per advance (at the last instant it was due), however far time jumps.
   */
  every(fn: () => unknown, ms: number): () => void;
}

export const systemClock: Clock = {
  mode: 'real',
  now: () => Date.now(),
  sleep(ms, signal) {
    if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal.reason);
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  every(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

/** A clock that tells `now` its own way and waits as the system clock does (tests' fixed or shifted times). */
export function clockAt(now: () => number): Clock {
  return { ...systemClock, now };
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** A duration written as `2d`, `1h30m`, `45s`, `250ms` (units in that order, each at most once) in ms; undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [d = 0, h = 0, min = 0, s = 0, ms = 0] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const total = d * 86_400_000 + h * 3_600_000 + min * 60_000 + s * 1000 + ms;
  return Number.isSafeInteger(total) ? total : undefined;
}

/** An ISO 8601 date-time with a zone (`Z` or `±hh:mm`), seconds and fraction optional, in ms; undefined otherwise. */
export function parseIsoInstant(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i.exec(text);
  if (!m) return undefined;
  // Date.parse rolls 30 February over into March: the day must be one of the month's.
  const [year, month, day] = m.slice(1, 4).map(Number) as [number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** CPH's wire format for times: `YYYY-MM-DDTHH:MM:SSZ`, always UTC, no fraction. */
export function formatUtc(ms: number): string {
  // The same text as `new Date(ms).toISOString().slice(0, 19) + 'Z'`, eight times faster: the date
  // part is kept for the last day seen (a page of jobs nearly always shares it), the time of day is
  // arithmetic. ListJobs formats two times per job.
  const second = Math.floor(ms / 1000);
  const day = Math.floor(second / 86_400);
  if (day !== lastDay) {
    lastDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    lastDay = day;
  }
  const t = second - day * 86_400;
  return lastDayPrefix + TWO_DIGITS[Math.floor(t / 3600)] + ':' + TWO_DIGITS[Math.floor(t / 60) % 60] + ':' + TWO_DIGITS[t % 60] + 'Z';
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let lastDay = NaN;
let lastDayPrefix = '';

export function formatUtcOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : formatUtc(ms);
}

/** IAM's wire format for token times: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds; ours end in 000). */
export function formatIamTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23) + '000Z';
}
