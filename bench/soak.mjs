// `npm run soak`: the real server (`opencph serve`, --auth verify, one process) under a steady mixed
// load for a bounded time (SOAK_SECONDS, default 180; SOAK_QUICK=1 for 30 s), sampled each second:
// its RSS and open file descriptors from /proc, its event-loop delay and active handles from
// GET /_opencph/health. It prints the samples, how they grew (the median of the first third of the
// run against the last third, and a linear fit), the thresholds, and exits non-zero above any of
// them, on any 5xx or failed call, or if a job is left at status 1. See bench/README.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CREDENTIALS, PROJECT, round } from './lib/common.mjs';
import { startServer } from './lib/proc.mjs';
import { signedHeaders } from './lib/sign.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? (process.env.SOAK_QUICK === '1' ? 30 : 180));
/** Not judged: the heap and the JIT settle, the store's first pages are read. */
const WARMUP_S = Math.max(5, Math.round(SECONDS / 10));
const FLEET = { servers: 5, phonesPerServer: 10 };
/** Sync commands allow 6 calls a minute per project: 5 stays clear of the limit. */
const SYNC_EVERY_MS = 12_000;

const THRESHOLDS = {
  rssAnonGrowth: { max: 0.25, says: 'anonymous RSS (heap and native memory), last third over first third' },
  fdGrowth: { max: 16, says: 'open file descriptors, last third minus first third' },
  handleGrowth: { max: 16, says: 'active handles and requests, last third minus first third' },
  loopDelayP99: { factor: 2, slackMs: 10, says: 'event-loop delay p99, last third ≤ 2 × first third + 10 ms' },
};

/** What each sample holds, as the summary names it. */
const FIGURES = [
  ['RSS, MB (with the mapped store)', 'rssMB'],
  ['anonymous RSS, MB', 'rssAnonMB'],
  ['heap used, MB', 'heapMB'],
  ['open file descriptors', 'fds'],
  ['active handles', 'handles'],
  ['event-loop delay p99, ms', 'loopP99'],
  ['event-loop delay max, ms', 'loopMax'],
];

const cph = `/v1/${PROJECT}/cloud-phone`;
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Calls by kind and answer: `restart 200`, `sync 429`, `poll error`. */
const tally = new Map();
const count = (key) => tally.set(key, (tally.get(key) ?? 0) + 1);
let failedCalls = 0;
const failures = [];

async function call(base, kind, method, path, { query, body } = {}) {
  const url = new URL(base);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = signedHeaders({ method, path, query, body: text, host: url.host, ...CREDENTIALS });
  const qs = query ? '?' + new URLSearchParams(query).toString() : '';
  try {
    const res = await fetch(base + path + qs, { method, headers, body: text });
    const answer = await res.json();
    count(`${kind} ${res.status}`);
    // Sync commands may meet their per-minute limit when a call is slow: 429 is an answer, not a failure.
    if (res.status !== 200 && !(kind === 'sync' && res.status === 429)) {
      failedCalls++;
      if (failures.length < 10) failures.push(`${kind}: ${method} ${path}${qs} answered ${res.status} ${JSON.stringify(answer).slice(0, 200)}`);
    }
    return res.status === 200 ? answer : undefined;
  } catch (err) {
    count(`${kind} error`);
    failedCalls++;
    if (failures.length < 10) failures.push(`${kind}: ${method} ${path}${qs} failed: ${err.message}`);
    return undefined;
  }
}

/** Run `step` every `everyMs` until `stop()` says so (a slow step delays the next, never overlaps it). */
async function every(everyMs, stop, step) {
  while (!stop()) {
    const t0 = performance.now();
    await step();
    await sleep(Math.max(0, everyMs - (performance.now() - t0)));
  }
}

function procFigures(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: round(kb('VmRSS') / 1024, 1), rssAnonMB: round(kb('RssAnon') / 1024, 1), fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function health(base) {
  try {
    const res = await fetch(`${base}/_opencph/health`);
    const h = await res.json();
    return { loopP99: h.event_loop_delay_ms.p99, loopMax: h.event_loop_delay_ms.max, handles: h.active_resources, heapMB: round(h.heap_used_bytes / 2 ** 20, 1) };
  } catch (err) {
    failedCalls++;
    if (failures.length < 10) failures.push(`health: ${err.message}`);
    return { loopP99: NaN, loopMax: NaN, handles: NaN, heapMB: NaN };
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'opencph-soak-'));
  const args = ['--auth', 'verify', '--sim-delay', '50', '--servers', String(FLEET.servers), '--phones-per-server', String(FLEET.phonesPerServer)];
  const server = await startServer({ dataDir: work, args, logFile: join(work, 'server.log'), name: 'soak' });
  let verdict = false;
  try {
    verdict = await soak(server);
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = verdict ? 0 : 1;
}

async function soak(server) {
  const base = server.url;
  const phones = (await call(base, 'setup', 'GET', `${cph}/phones`, { query: { limit: '200' } })).phones.map((p) => p.phone_id);
  const servers = (await call(base, 'setup', 'GET', `${cph}/servers`)).servers.map((s) => s.server_id);
  const requests = [];
  const jobs = [];
  const remember = (answer) => {
    if (!answer) return;
    requests.push(answer.request_id);
    jobs.push(...answer.jobs.map((j) => j.job_id));
    if (requests.length > 200) requests.splice(0, requests.length - 200);
    if (jobs.length > 500) jobs.splice(0, jobs.length - 500);
  };
  const allRequests = [];
  const submit = async (kind, path, body) => {
    const answer = await call(base, kind, 'POST', `${cph}${path}`, { body });
    remember(answer);
    if (answer) allRequests.push(answer.request_id);
  };
  const some = (n) => Array.from({ length: n }, () => pick(phones));

  console.log(`soak: ${SECONDS} s (the first ${WARMUP_S} s not judged), one server process at ${base}, pid ${server.pid}, ${phones.length} simulated phones, load average ${loadavg().map((x) => round(x)).join(' ')}`);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const stop = () => elapsed() >= SECONDS;
  let turn = 0;
  const loops = [
    // Batch calls, 4 a second, in turn.
    every(250, stop, () => {
      turn++;
      if (turn % 4 === 0) return submit('commands', '/phones/commands', { command: 'shell', content: 'echo soak', phone_ids: some(2) });
      if (turn % 4 === 1) return submit('property', '/phones/batch-update-property', { phones: some(2).map((phone_id) => ({ phone_id, property: '{"com.cph.mainkeys":"1"}' })) });
      if (turn % 40 === 2) return submit('server-restart', '/servers/batch-restart', { server_ids: [pick(servers)] });
      return submit('restart', '/phones/batch-restart', { phones: some(3).map((phone_id) => ({ phone_id })) });
    }),
    // ListJobs as clients poll it, three pollers at 20 a second each.
    ...[0, 1, 2].map(() =>
      every(50, stop, () =>
        requests.length === 0
          ? sleep(10)
          : Math.random() < 0.8
            ? call(base, 'poll', 'GET', `${cph}/jobs`, { query: { request_id: pick(requests) } })
            : call(base, 'poll', 'GET', `${cph}/jobs`, { query: { request_ids: Array.from({ length: 5 }, () => pick(requests)).join(','), limit: '50' } }),
      ),
    ),
    // Lists and single reads, 5 a second.
    every(200, stop, () => {
      const r = Math.random();
      if (r < 0.3) return call(base, 'list', 'GET', `${cph}/phones`, { query: { offset: String(Math.floor(Math.random() * 40)), limit: '20' } });
      if (r < 0.5) return call(base, 'list', 'GET', `${cph}/servers`);
      if (r < 0.8 && jobs.length > 0) return call(base, 'show', 'GET', `${cph}/jobs/${pick(jobs)}`);
      return call(base, 'show', 'GET', `${cph}/phones/${pick(phones)}`);
    }),
    every(SYNC_EVERY_MS, stop, () => call(base, 'sync', 'POST', `${cph}/phones/sync-commands`, { body: { command: 'shell', content: 'echo sync', phone_ids: some(2) } })),
  ];

  const samples = [];
  const sampler = every(1000, stop, async () => {
    const s = { t: round(elapsed(), 1), ...procFigures(server.pid), ...(await health(base)) };
    samples.push(s);
    if (samples.length % 15 === 0) {
      const calls = [...tally.values()].reduce((a, b) => a + b, 0);
      console.log(`  ${String(Math.round(s.t)).padStart(4)} s  RSS ${s.rssMB} MB (anon ${s.rssAnonMB})  heap ${s.heapMB} MB  fds ${s.fds}  handles ${s.handles}  loop p99 ${s.loopP99} ms  calls ${calls}`);
    }
  });
  await Promise.all([...loops, sampler]);

  // Every job the load submitted must finish: none left at status 1.
  let running = [];
  const deadline = Date.now() + 60_000;
  do {
    running = [];
    for (let i = 0; i < allRequests.length; i += 20) {
      const answer = await call(base, 'final', 'GET', `${cph}/jobs`, { query: { request_ids: allRequests.slice(i, i + 20).join(','), limit: '100' } });
      running.push(...(answer?.jobs ?? []).filter((j) => j.status === 1).map((j) => j.job_id));
    }
    if (running.length > 0) await sleep(500);
  } while (running.length > 0 && Date.now() < deadline);

  return report(samples, running, allRequests.length);
}

function report(samples, running, requestCount) {
  const judged = samples.filter((s) => s.t >= WARMUP_S);
  const third = Math.max(1, Math.floor(judged.length / 3));
  const first = judged.slice(0, third);
  const last = judged.slice(-third);
  const fig = (key) => ({ first: median(first.map((s) => s[key])), last: median(last.map((s) => s[key])), min: Math.min(...judged.map((s) => s[key])), max: Math.max(...judged.map((s) => s[key])) });
  const perMinute = (key) => round(slope(judged.map((s) => s.t / 60), judged.map((s) => s[key])), 2);
  const rows = Object.fromEntries(FIGURES.map(([name, key]) => [key, { name, ...fig(key), perMinute: perMinute(key) }]));
  const calls = [...tally.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const total = calls.reduce((a, [, n]) => a + n, 0);
  console.log(`\n${samples.length} samples, ${judged.length} judged (${first.length} in each third); ${total} calls, ${requestCount} batch requests:`);
  console.log('  ' + calls.map(([k, n]) => `${k}: ${n}`).join(', '));
  console.log(`\n  ${'figure'.padEnd(34)}${'first third'.padStart(12)}${'last third'.padStart(12)}${'min'.padStart(9)}${'max'.padStart(9)}${'per minute (fit)'.padStart(18)}`);
  for (const f of Object.values(rows)) {
    console.log(`  ${f.name.padEnd(34)}${String(round(f.first, 1)).padStart(12)}${String(round(f.last, 1)).padStart(12)}${String(f.min).padStart(9)}${String(f.max).padStart(9)}${String(f.perMinute).padStart(18)}`);
  }

  const { rssAnonMB: rss, fds, handles, loopP99: loop } = rows;
  const checks = [
    [THRESHOLDS.rssAnonGrowth.says, `${round((rss.last / rss.first - 1) * 100, 1)}%`, `≤ ${THRESHOLDS.rssAnonGrowth.max * 100}%`, rss.last / rss.first - 1 <= THRESHOLDS.rssAnonGrowth.max],
    [THRESHOLDS.fdGrowth.says, `${fds.last - fds.first}`, `≤ ${THRESHOLDS.fdGrowth.max}`, fds.last - fds.first <= THRESHOLDS.fdGrowth.max],
    [THRESHOLDS.handleGrowth.says, `${handles.last - handles.first}`, `≤ ${THRESHOLDS.handleGrowth.max}`, handles.last - handles.first <= THRESHOLDS.handleGrowth.max],
    [THRESHOLDS.loopDelayP99.says, `${round(loop.last, 1)} ms`, `≤ ${round(loop.first * THRESHOLDS.loopDelayP99.factor + THRESHOLDS.loopDelayP99.slackMs, 1)} ms`, loop.last <= loop.first * THRESHOLDS.loopDelayP99.factor + THRESHOLDS.loopDelayP99.slackMs],
    ['calls that failed or answered other than 200 (429 allowed on sync commands)', `${failedCalls}`, '0', failedCalls === 0],
    ['jobs left at status 1 a minute after the load stopped', `${running.length}`, '0', running.length === 0],
  ];
  console.log('\nThresholds');
  for (const [says, value, limit, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${says}: ${value} (${limit})`);
  for (const f of failures) console.log(`  ${f}`);
  const passed = checks.every(([, , , ok]) => ok);
  console.log(`\nsoak ${passed ? 'passed' : 'FAILED'}; load average at the end ${loadavg().map((x) => round(x)).join(' ')}`);
  return passed;
}

await main();
