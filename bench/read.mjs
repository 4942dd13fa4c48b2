// Read routes, each against the framework's floor: a one-route Fastify app answering the same bytes
// (lib/floor.mjs), measured in the same run beside it, and bare node:http answering them too
// (lib/bare.mjs). Then Scale: ListJobs with 1,000 stored jobs against 1,000,000.
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREDENTIALS, PROJECT, ratio } from './lib/common.mjs';
import { cpuMicros } from './lib/cpu.mjs';
import { load } from './lib/load.mjs';
import { createStore, startBare, startFloor, startServer } from './lib/proc.mjs';
import { seedJobs } from './lib/seed.mjs';
import { signedHeaders } from './lib/sign.mjs';

// Authentication as a deployment runs it (verify is also the default); 200 phones on 100 servers,
// so that both list routes answer full pages of 100.
const FLEET = ['--servers', '100', '--phones-per-server', '2', '--auth', 'verify'];
const CONNECTIONS = 64;
const CPH = `/v1/${PROJECT}/cloud-phone`;

/**
 * The routes measured: the call (from an id picked at random), the route's pattern for the floor,
 * and the share of the floor's req/s it must reach.
 */
const ROUTES = [
  { key: 'listJobs', name: 'ListJobs ?request_id=', ids: 'requestIds', route: '/v1/:project_id/cloud-phone/jobs', call: (id) => ({ path: `${CPH}/jobs`, query: { request_id: id } }), target: 0.5 },
  { key: 'listJobsLimit', name: 'ListJobs ?request_id=&limit=100', ids: 'requestIds', route: '/v1/:project_id/cloud-phone/jobs', call: (id) => ({ path: `${CPH}/jobs`, query: { request_id: id, limit: '100' } }), target: 0.5 },
  { key: 'showJob', name: 'ShowJob', ids: 'jobIds', route: '/v1/:project_id/cloud-phone/jobs/:job_id', call: (id) => ({ path: `${CPH}/jobs/${id}` }), target: 0.5 },
  { key: 'listPhones', name: 'ListCloudPhones ?limit=100', route: '/v1/:project_id/cloud-phone/phones', call: () => ({ path: `${CPH}/phones`, query: { limit: '100' } }), target: 0.35 },
  { key: 'showPhone', name: 'ShowCloudPhoneDetail', ids: 'phoneIds', route: '/v1/:project_id/cloud-phone/phones/:phone_id', call: (id) => ({ path: `${CPH}/phones/${id}` }), target: 0.5 },
  { key: 'listServers', name: 'ListCloudPhoneServers ?limit=100', route: '/v1/:project_id/cloud-phone/servers', call: () => ({ path: `${CPH}/servers`, query: { limit: '100' } }), target: 0.35 },
];

/** A fresh data dir: the server creates and seeds its store, then the jobs are loaded straight into it. */
async function prepare(work, name, requests) {
  const dataDir = join(work, name);
  await createStore({ dataDir, args: FLEET, logFile: join(work, `${name}-init.log`) });
  const t = Date.now();
  const seeded = seedJobs(join(dataDir, 'opencph.db'), { requests });
  console.log(`  seeded ${requests * 10} jobs in ${requests} requests in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // Read once, so that the file is in the page cache as a store in use finds it: otherwise the
  // first route measured pays for reading the store from disk.
  warm(join(dataDir, 'opencph.db'));
  return { dataDir, ...seeded };
}

/** Read a file through once. */
function warm(file) {
  const fd = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

/** A call ({path, query}) as sent to `url`: the target with its query, and the signed headers. */
function signed(url, { path, query }) {
  const qs = query ? '?' + new URLSearchParams(query).toString() : '';
  return { path: path + qs, headers: signedHeaders({ method: 'GET', path, query, host: new URL(url).host, ...CREDENTIALS }) };
}

const pick = (ids) => (ids ? ids[Math.floor(Math.random() * ids.length)] : undefined);

/** Signed calls made ahead of a run (a signature stays valid for 15 minutes), picked at random during it. */
function pool(url, ids, callFor, size = ids ? 20_000 : 1) {
  const calls = [];
  for (let i = 0; i < size; i++) calls.push(signed(url, callFor(pick(ids))));
  return () => calls[Math.floor(Math.random() * calls.length)];
}

/**
 * Load `server` for `seconds` after a warm-up. Besides throughput and latency, the server's own CPU
 * per call: steadier than req/s on a machine whose load generator shares the cores.
 */
async function measure(label, server, next, seconds, quick) {
  const { url } = server;
  await load({ url, connections: CONNECTIONS, seconds: quick ? 1 : 3, next }); // warm-up
  const cpu0 = cpuMicros(server.pid);
  const own0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await load({ url, connections: CONNECTIONS, seconds, next });
  const t1 = process.hrtime.bigint();
  const own = process.cpuUsage(own0);
  const cpu1 = cpuMicros(server.pid);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${label}: ${r.non2xx} answers were not 2xx and ${r.errors} failed`);
  // The measured window in µs of the monotonic clock V8's CPU profiles also use: bench/lib/profile.mjs
  // cuts a server's profile to it.
  r.window = { pid: server.pid, from: Number(t0 / 1000n), to: Number(t1 / 1000n) };
  if (cpu0 !== undefined && cpu1 !== undefined) r.cpuMicrosPerCall = Math.round((cpu1 - cpu0) / r.requests);
  // The load generator runs in this process: what it spends per call is CPU the server cannot have.
  r.loadCpuMicrosPerCall = Math.round((own.user + own.system) / r.requests);
  const cpu = r.cpuMicrosPerCall === undefined ? '' : `   server CPU ${String(r.cpuMicrosPerCall).padStart(4)} µs/call`;
  console.log(`    ${label.padEnd(30)} ${String(r.rps).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms${cpu}`);
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
 * A typical answer of the real server, served byte for byte by the floor and the bare server: the
 * median size of SAMPLES answers (ListJobs answers of ten jobs differ by up to a third in size).
 */
async function sample(url, ids, callFor) {
  const answers = [];
  for (let i = 0; i < SAMPLES; i++) {
    const c = callFor(pick(ids));
    answers.push({ call: c, ...(await call(url, c)) });
  }
  return answers.sort((a, b) => a.body.length - b.body.length)[(SAMPLES - 1) / 2];
}

/** Whether the server refuses an unsigned call: the benchmark reports whether authentication was on. */
async function authenticationOn(url, path) {
  const res = await fetch(url + path);
  await res.arrayBuffer();
  return res.status === 401;
}

export async function readBench({ work, quick }) {
  const seconds = quick ? 2 : 10;
  if (process.env.BENCH_PROFILE) mkdirSync(process.env.BENCH_PROFILE, { recursive: true });
  console.log(`Preparing stores (${quick ? 'quick' : 'full'} run)`);
  const big = await prepare(work, 'big', quick ? 10_000 : 100_000);
  const small = await prepare(work, 'small', 100);
  const bigJobs = big.requestIds.length * 10;

  const server = await startServer({ dataDir: big.dataDir, args: FLEET, logFile: join(work, 'big.log'), name: 'read' });
  const phones = JSON.parse((await call(server.url, { path: `${CPH}/phones`, query: { limit: '200' } })).body).phones;
  const store = { ...big, phoneIds: phones.map((p) => p.phone_id) };
  const auth = (await authenticationOn(server.url, `${CPH}/jobs?request_id=${big.requestIds[0]}`)) ? 'AK/SK (SDK-HMAC-SHA256), verified' : 'off';
  console.log(`Authentication: ${auth}; log level info (the default), to a file; ${CONNECTIONS} connections, ${seconds} s per run after a warm-up`);
  console.log(`\n1. Read routes (${bigJobs.toLocaleString('en')} jobs, ${store.phoneIds.length} phones stored), each against the floor and bare node:http answering the same bytes`);

  const routes = {};
  try {
    // BENCH_ROUTES=listPhones,showJob measures only those (while iterating on one route).
    const only = process.env.BENCH_ROUTES?.split(',');
    for (const r of ROUTES.filter((x) => !only || only.includes(x.key))) {
      const ids = r.ids ? store[r.ids] : undefined;
      const answer = await sample(server.url, ids, r.call);
      const bodyFile = join(work, `${r.key}.json`);
      writeFileSync(bodyFile, answer.body);
      console.log(`  ${r.name}: ${answer.body.length} bytes`);
      // In the order floor, OpenCPH, bare: the floor and OpenCPH, whose ratio is the target, side by side.
      const floor = await startFloor({ route: r.route, bodyFile, headers: answer.headers, logFile: join(work, 'floor.log') });
      const f = await measure('floor: one-route Fastify', floor, pool(floor.url, ids, r.call), seconds, quick);
      await floor.stop();
      const o = await measure('OpenCPH', server, pool(server.url, ids, r.call), seconds, quick);
      if (process.env.BENCH_PROFILE) appendFileSync(join(process.env.BENCH_PROFILE, 'windows.jsonl'), JSON.stringify({ route: r.key, ...o.window, requests: o.requests }) + '\n');
      const bare = await startBare({ bodyFile, headers: answer.headers, logFile: join(work, 'bare.log') });
      const b = await measure('bare node:http', bare, pool(bare.url, ids, r.call), seconds, quick);
      await bare.stop();
      const out = { name: r.name, bodyBytes: answer.body.length, floor: f, opencph: o, bare: b, ratio: ratio(o.rps, f.rps), p99Ratio: ratio(o.p99, f.p99), bareRatio: ratio(o.rps, b.rps), target: r.target };
      if (f.cpuMicrosPerCall && o.cpuMicrosPerCall) out.cpuOverFloorMicros = o.cpuMicrosPerCall - f.cpuMicrosPerCall;
      console.log(`    ${'ratio'.padEnd(30)} ${String(out.ratio).padStart(7)} of the floor's req/s (≥ ${r.target})   p99 ×${out.p99Ratio} (≤ 2)   ${out.bareRatio} of bare node:http`);
      routes[r.key] = out;
    }
  } finally {
    await server.stop();
  }

  // 2. The two stores in turn, twice each, so that the machine's drift cannot pass for a
  // difference between them; each store's lower p50 is compared.
  console.log(`\n2. Scale: ListJobs p50 with 1,000 stored jobs (baseline) and ${bigJobs.toLocaleString('en')}, each twice in turn`);
  const scaleRuns = { few: [], many: [] };
  const stores = { few: [small, 'opencph, 1,000 jobs'], many: [big, `opencph, ${bigJobs.toLocaleString('en')} jobs`] };
  // In the order few, many, many, few: a steady drift favours neither.
  for (const key of ['few', 'many', 'many', 'few']) {
    const [s, label] = stores[key];
    const scaleServer = await startServer({ dataDir: s.dataDir, args: FLEET, logFile: join(work, 'scale.log'), name: `scale-${key}` });
    scaleRuns[key].push(await measure(label, scaleServer, pool(scaleServer.url, s.requestIds, ROUTES[0].call), seconds, quick));
    await scaleServer.stop();
  }
  const lowerP50 = (runs) => runs.reduce((a, b) => (b.p50 < a.p50 ? b : a));
  const few = lowerP50(scaleRuns.few);
  const many = lowerP50(scaleRuns.many);
  const scale = { storedJobs: [1_000, bigJobs], baseline: few, result: many, p50s: { few: scaleRuns.few.map((r) => r.p50), many: scaleRuns.many.map((r) => r.p50) }, ratio: ratio(many.p50, few.p50) };
  console.log(`    ${'ratio of the lower p50s'.padEnd(30)} p50 ×${scale.ratio}`);
  return { auth, connections: CONNECTIONS, seconds, routes, scale };
}
