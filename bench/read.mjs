// Benchmarks 1–3: ListJobs and ShowJob against a bare node:http baseline, and ListJobs at 1,000
// stored jobs against 1,000,000. The server runs twice: as one process (the default), and with one
// API process per core (`--api-processes auto`, how a host serving heavy polling runs it); the
// targets are read off the second. ListJobs is also measured on a reference (lib/lean.mjs): the
// same work behind bare node:http, which tells the machine's share from the HTTP layer's.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usableCores } from '../dist/runtime/cores.js';
import { CREDENTIALS, PROJECT, ratio } from './lib/common.mjs';
import { load } from './lib/load.mjs';
import { createStore, startBare, startLean, startServer } from './lib/proc.mjs';
import { seedJobs } from './lib/seed.mjs';
import { signedHeaders } from './lib/sign.mjs';

// Authentication as a deployment runs it (verify is also the default).
const FLEET = ['--servers', '10', '--phones-per-server', '10', '--auth', 'verify'];
const CONNECTIONS = 64;
// As many as `--api-processes auto` starts (and the reference, lean.mjs): a CPU quota counted.
const PROCESSES = usableCores();
const DEPLOYMENTS = [
  { name: 'one process', args: [] },
  { name: `${PROCESSES} API processes`, args: ['--api-processes', 'auto'] },
];

/** A fresh data dir: the server creates and seeds its store, then the jobs are loaded straight into it. */
async function prepare(work, name, requests) {
  const dataDir = join(work, name);
  await createStore({ dataDir, args: FLEET, logFile: join(work, `${name}-init.log`) });
  const t = Date.now();
  const seeded = seedJobs(join(dataDir, 'opencph.db'), { requests });
  console.log(`  seeded ${requests * 10} jobs in ${requests} requests in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { dataDir, ...seeded };
}

/** A call ({path, query}) as sent to `url`: the target with its query, and the signed headers. */
function signed(url, { path, query }) {
  const qs = query ? '?' + new URLSearchParams(query).toString() : '';
  return { path: path + qs, headers: signedHeaders({ method: 'GET', path, query, host: new URL(url).host, ...CREDENTIALS }) };
}

/** Signed calls made ahead of a run (a signature stays valid for 15 minutes), picked at random during it. */
function pool(url, ids, size, callFor) {
  const calls = [];
  for (let i = 0; i < size; i++) calls.push(signed(url, callFor(ids[Math.floor(Math.random() * ids.length)])));
  return () => calls[Math.floor(Math.random() * calls.length)];
}

const listJobsCall = (requestId) => ({ path: `/v1/${PROJECT}/cloud-phone/jobs`, query: { request_id: requestId } });
const showJobCall = (jobId) => ({ path: `/v1/${PROJECT}/cloud-phone/jobs/${jobId}` });

/** CPU time (user + system, µs) a process and its children have used so far, on Linux; undefined elsewhere. */
function cpuMicros(pid) {
  try {
    return [pid, ...childrenOf(pid)].map(ownCpuMicros).reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid) {
  const children = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(pid)) children.push(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return children;
}

function ownCpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/**
 * Load `server` for `seconds` after a warm-up. Besides throughput and latency, the server's own CPU
 * per call: steadier than req/s on a machine whose load generator shares the cores.
 */
async function measure(label, server, next, seconds, quick) {
  const { url } = server;
  await load({ url, connections: CONNECTIONS, seconds: quick ? 1 : 3, next }); // warm-up
  const cpu0 = cpuMicros(server.pid);
  const own0 = process.cpuUsage();
  const r = await load({ url, connections: CONNECTIONS, seconds, next });
  const own = process.cpuUsage(own0);
  const cpu1 = cpuMicros(server.pid);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${label}: ${r.non2xx} answers were not 2xx and ${r.errors} failed`);
  if (cpu0 !== undefined && cpu1 !== undefined) r.cpuMicrosPerCall = Math.round((cpu1 - cpu0) / r.requests);
  // The load generator runs in this process: what it spends per call is CPU the server cannot have.
  r.loadCpuMicrosPerCall = Math.round((own.user + own.system) / r.requests);
  const cpu = r.cpuMicrosPerCall === undefined ? '' : `   server CPU ${r.cpuMicrosPerCall} µs/call`;
  console.log(`  ${label.padEnd(34)} ${String(r.rps).padStart(7)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms${cpu}`);
  return r;
}

/** One signed call to `url`; it must answer 200. */
async function call(url, c) {
  const { path, headers } = signed(url, c);
  const res = await fetch(url + path, { headers });
  if (res.status !== 200) throw new Error(`${url}${path} answered ${res.status}: ${await res.text()}`);
  return { body: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type'), 'x-request-id': res.headers.get('x-request-id') } };
}

/** How many answers `sample` picks the median of. */
const SAMPLES = 51;

/**
 * A typical answer of the real server, served byte for byte by the baseline: the median size of
 * SAMPLES answers (ListJobs answers of ten jobs differ by up to a third in size; with the median of
 * nine, the baseline's answer was 2,718 bytes in one run and 3,548 in another).
 */
async function sample(url, ids, callFor) {
  const answers = [];
  for (let i = 0; i < SAMPLES; i++) {
    const c = callFor(ids[Math.floor(Math.random() * ids.length)]);
    answers.push({ call: c, ...(await call(url, c)) });
  }
  return answers.sort((a, b) => a.body.length - b.body.length)[(SAMPLES - 1) / 2];
}

/** A ListJobs answer with its request_id blanked: two servers' answers to the same call compare equal. */
const sameAnswer = (a, b) => {
  const blank = (body) => ({ ...JSON.parse(body), request_id: '' });
  return JSON.stringify(blank(a)) === JSON.stringify(blank(b));
};

/** Whether the server refuses an unsigned call: the benchmark reports whether authentication was on. */
async function authenticationOn(url, call) {
  const res = await fetch(url + call().path);
  await res.arrayBuffer();
  return res.status === 401;
}


/** The ratio line of a throughput benchmark: result over baseline. */
function compare(baseline, result, label = 'ratio') {
  const out = { baseline, result, ratio: ratio(result.rps, baseline.rps), p50Ratio: ratio(result.p50, baseline.p50), p99Ratio: ratio(result.p99, baseline.p99) };
  if (baseline.cpuMicrosPerCall && result.cpuMicrosPerCall) out.cpuRatio = ratio(result.cpuMicrosPerCall, baseline.cpuMicrosPerCall);
  const cpu = out.cpuRatio === undefined ? '' : `   server CPU per call ×${out.cpuRatio}`;
  console.log(`  ${label.padEnd(34)} ${String(out.ratio).padStart(7)} of the baseline's req/s   p50 ×${out.p50Ratio}   p99 ×${out.p99Ratio}${cpu}`);
  return out;
}

export async function readBench({ work, quick }) {
  const seconds = quick ? 2 : 10;
  console.log(`Preparing stores (${quick ? 'quick' : 'full'} run)`);
  const big = await prepare(work, 'big', quick ? 10_000 : 100_000);
  const small = await prepare(work, 'small', 100);
  const bigJobs = quick ? '100,000' : '1,000,000';

  // Samples of real answers for the baseline.
  let server = await startServer({ dataDir: big.dataDir, args: FLEET, logFile: join(work, 'big.log'), name: 'sample' });
  const listSample = await sample(server.url, big.requestIds, listJobsCall);
  const showSample = await sample(server.url, big.jobIds, showJobCall);
  const auth = (await authenticationOn(server.url, pool(server.url, big.requestIds, 1, listJobsCall))) ? 'AK/SK (SDK-HMAC-SHA256), verified' : 'off';
  await server.stop();
  writeFileSync(join(work, 'list.json'), listSample.body);
  writeFileSync(join(work, 'show.json'), showSample.body);
  console.log(`Authentication: ${auth}; ${CONNECTIONS} connections, ${seconds} s per run after a warm-up`);

  console.log('\n1. ListJobs (a random request_id of 10 jobs) and 2. ShowJob (a random job_id)');
  // The machine's speed drifts within a run, so each baseline is measured before the servers and
  // again after them, and the results are compared with the faster of its two runs.
  const bareRuns = { list: [], show: [] };
  const measureBare = async (again = '') => {
    for (const [key, answer, ids, callFor] of [
      ['list', listSample, big.requestIds, listJobsCall],
      ['show', showSample, big.jobIds, showJobCall],
    ]) {
      const bare = await startBare({ bodyFile: join(work, `${key}.json`), headers: answer.headers, logFile: join(work, 'bare.log') });
      const label = `${key === 'list' ? 'ListJobs' : 'ShowJob'} baseline${again}: node:http, ${answer.body.length} bytes`;
      bareRuns[key].push(await measure(label, bare, pool(bare.url, ids, 20_000, callFor), seconds, quick));
      await bare.stop();
    }
  };
  await measureBare();

  // The same work without OpenCPH's HTTP layer: how far this machine goes for a ListJobs.
  const lean = await startLean({ dataDir: big.dataDir, logFile: join(work, 'lean.log') });
  if (!sameAnswer((await call(lean.url, listSample.call)).body, listSample.body)) throw new Error('the ListJobs reference answered differently from the server');
  const listLean = await measure(`ListJobs reference: node:http, ${PROCESSES} processes`, lean, pool(lean.url, big.requestIds, 20_000, listJobsCall), seconds, quick);
  await lean.stop();

  const measured = [];
  for (const d of DEPLOYMENTS) {
    console.log(`  opencph, ${bigJobs} jobs, ${d.name}`);
    server = await startServer({ dataDir: big.dataDir, args: [...FLEET, ...d.args], logFile: join(work, 'big.log'), name: `read-${d.args.length ? 'processes' : 'single'}` });
    const list = await measure('  ListJobs', server, pool(server.url, big.requestIds, 20_000, listJobsCall), seconds, quick);
    const show = await measure('  ShowJob', server, pool(server.url, big.jobIds, 20_000, showJobCall), seconds, quick);
    await server.stop();
    measured.push({ d, list, show });
  }
  await measureBare(' again');

  const faster = (runs) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const listBase = { ...faster(bareRuns.list), runs: bareRuns.list.map((r) => r.rps) };
  const showBase = { ...faster(bareRuns.show), runs: bareRuns.show.map((r) => r.rps) };
  console.log(`  against the faster run of each baseline (ListJobs ${listBase.runs.join(' and ')} req/s, ShowJob ${showBase.runs.join(' and ')}):`);
  const reference = compare(listBase, listLean, 'ListJobs reference');
  const runs = measured.map(({ d, list, show }) => {
    console.log(`  opencph, ${d.name}`);
    return {
      deployment: d.name,
      args: d.args,
      listJobs: { ...compare(listBase, list, '  ListJobs'), bodyBytes: listSample.body.length },
      showJob: { ...compare(showBase, show, '  ShowJob'), bodyBytes: showSample.body.length },
    };
  });
  const target = runs[runs.length - 1];

  // 3. The two stores in turn, twice each, so that the machine's drift cannot pass for a
  // difference between them; each store's lower p50 is compared.
  console.log(`\n3. Scale: ListJobs p50 with 1,000 stored jobs (baseline) and ${bigJobs}, ${target.deployment}, each twice in turn`);
  const scaleRuns = { few: [], many: [] };
  const stores = { few: [small, 'opencph, 1,000 jobs'], many: [big, `opencph, ${bigJobs} jobs`] };
  // In the order few, many, many, few: a steady drift favours neither.
  for (const key of ['few', 'many', 'many', 'few']) {
    const [store, label] = stores[key];
    server = await startServer({ dataDir: store.dataDir, args: [...FLEET, ...target.args], logFile: join(work, 'scale.log'), name: `scale-${key}` });
    scaleRuns[key].push(await measure(label, server, pool(server.url, store.requestIds, 20_000, listJobsCall), seconds, quick));
    await server.stop();
  }
  const lowerP50 = (runs) => runs.reduce((a, b) => (b.p50 < a.p50 ? b : a));
  const few = lowerP50(scaleRuns.few);
  const many = lowerP50(scaleRuns.many);
  const scale = { storedJobs: [1_000, big.requestIds.length * 10], baseline: few, result: many, p50s: { few: scaleRuns.few.map((r) => r.p50), many: scaleRuns.many.map((r) => r.p50) }, ratio: ratio(many.p50, few.p50) };
  console.log(`  ${'ratio of the lower p50s'.padEnd(34)} p50 ×${scale.ratio}`);
  return { auth, cores: PROCESSES, connections: CONNECTIONS, seconds, deployment: target.deployment, listJobs: target.listJobs, listJobsReference: reference, showJob: target.showJob, runs, scale };
}
