/** All time flows through a Clock so that tests (and a virtual clock) can control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** CPH's wire format for times: `YYYY-MM-DDTHH:MM:SSZ`, always UTC, no fraction. */
export function formatUtc(ms: number): string {
  // Jobs of one batch share their begin time and often their end second: remember the last one.
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastFormatted = new Date(second * 1000).toISOString().slice(0, 19) + 'Z';
  }
  return lastFormatted;
}

let lastSecond = NaN;
let lastFormatted = '';

export function formatUtcOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : formatUtc(ms);
}

/** IAM's wire format for token times: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds; ours end in 000). */
export function formatIamTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23) + '000Z';
}
