import autocannon from 'autocannon';
import { round } from './common.mjs';

/** The value below which `p` of the sorted samples fall. */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}


/**
 * `connections` keep-alive connections hammer `url` for `seconds`; each call is `next()` →
 * {path, headers}. Latencies are kept per response at sub-millisecond resolution (autocannon's own
 * histogram counts whole milliseconds).
 */
export async function load({ url, connections = 64, seconds = 10, next }) {
  const samples = [];
  let non2xx = 0;
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, ...next() }) }],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) samples.push(ms);
    else non2xx++;
  });
  const result = await instance;
  const sorted = Float64Array.from(samples).sort();
  return {
    requests: sorted.length + non2xx,
    rps: round((sorted.length + non2xx) / result.duration, 0),
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    errors: result.errors + result.timeouts,
    non2xx,
  };
}
