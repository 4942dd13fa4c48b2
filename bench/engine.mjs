// Benchmark 4: 20,000 jobs submitted in batches of 100 on the instant simulated driver; jobs/s from
// the first submit until the last job has reached status 2, on SQLite and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore, startServer } from './lib/proc.mjs';
import { signedHeaders } from './lib/sign.mjs';
import { pgBaseline, sqliteBaseline } from './lib/store-baseline.mjs';
import { CREDENTIALS, PROJECT, ratio, round, PG_ADMIN, pgAdmin } from './lib/common.mjs';
import { cpuMicros } from './lib/cpu.mjs';

const BATCH = 100;

async function call(base, method, path, { query, body } = {}) {
  const url = new URL(base);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = signedHeaders({ method, path, query, body: text, host: url.host, ...CREDENTIALS });
  const qs = query ? '?' + new URLSearchParams(query).toString() : '';
  const res = await fetch(base + path + qs, { method, headers, body: text });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

const cph = `/v1/${PROJECT}/cloud-phone`;

/** Submit `total` jobs as restarts of `BATCH` phones at a time, one call after the other; time until every job succeeded. */
async function run(url, total) {
  const phones = (await call(url, 'GET', `${cph}/phones`, { query: { limit: '200' } })).phones.map((p) => p.phone_id).slice(0, BATCH);
  if (phones.length < BATCH) throw new Error(`the fleet has ${phones.length} phones; a batch needs ${BATCH}`);
  const body = { phones: phones.map((phone_id) => ({ phone_id })) };
  const requests = [];
  const t0 = performance.now();
  for (let n = 0; n < total; n += BATCH) requests.push((await call(url, 'POST', `${cph}/phones/batch-restart`, { body })).request_id);
  const submitted = performance.now();
  // Jobs on a phone run in order, so the last request finishes last on every phone.
  const last = requests[requests.length - 1];
  for (;;) {
    const jobs = (await call(url, 'GET', `${cph}/jobs`, { query: { request_id: last } })).jobs;
    if (jobs.every((j) => j.status !== 1)) break;
    await sleep(5);
  }
  const seconds = (performance.now() - t0) / 1000;
  let succeeded = 0;
  for (const id of requests) succeeded += (await call(url, 'GET', `${cph}/jobs`, { query: { request_id: id } })).jobs.filter((j) => j.status === 2).length;
  if (succeeded !== total) throw new Error(`${total - succeeded} of ${total} jobs did not succeed`);
  return { jobs: total, seconds: round(seconds), submitSeconds: round((submitted - t0) / 1000), jobsPerSecond: Math.round(total / seconds) };
}

/** The run, and the server's CPU per job (its API processes included): steadier than jobs/s on a shared machine. */
async function withServer(options, total) {
  const server = await startServer(options);
  try {
    const cpu0 = cpuMicros(server.pid);
    const result = await run(server.url, total);
    const cpu1 = cpuMicros(server.pid);
    if (cpu0 !== undefined && cpu1 !== undefined) result.cpuMicrosPerJob = Math.round((cpu1 - cpu0) / total);
    return result;
  } finally {
    await server.stop();
  }
}



function print(label, baseline, result) {
  console.log(`  ${label}`);
  console.log(`    baseline: plain SQL, same work    ${String(baseline.jobsPerSecond).padStart(7)} jobs/s   (${baseline.seconds} s)`);
  const cpu = result.cpuMicrosPerJob === undefined ? '' : `; server CPU ${result.cpuMicrosPerJob} µs/job`;
  console.log(`    opencph                           ${String(result.jobsPerSecond).padStart(7)} jobs/s   (${result.seconds} s; submitting took ${result.submitSeconds} s${cpu})`);
  console.log(`    ratio                             ${ratio(result.jobsPerSecond, baseline.jobsPerSecond)}`);
}

export async function engineBench({ work, quick }) {
  const total = quick ? 2_000 : 20_000;
  const fleet = ['--servers', '10', '--phones-per-server', '10', '--sim-delay', '0', '--auth', 'verify'];
  console.log(`\n4. Engine: ${total} jobs in batches of ${BATCH}, instant simulated driver, from the first submit until the last job is 2`);
  const out = { target: 5000 };
  // The default, the faster commit, and the trade-off of API processes (see README).
  const runs = [
    { key: 'sqlite', sync: 'FULL', extra: [], label: 'SQLite, --sqlite-sync FULL (the default)' },
    { key: 'sqliteNormal', sync: 'NORMAL', extra: [], label: 'SQLite, --sqlite-sync NORMAL' },
    { key: 'sqliteApiProcesses', sync: 'FULL', extra: ['--api-processes', 'auto'], label: 'SQLite, FULL, --api-processes auto' },
  ];
  for (const { key, sync, extra, label } of runs) {
    const args = [...fleet, '--sqlite-sync', sync, ...extra];
    const dir = (name) => join(work, `engine-${key}-${name}`);
    await createStore({ dataDir: dir('baseline'), args, logFile: join(work, 'engine.log') });
    const baseline = sqliteBaseline(join(dir('baseline'), 'opencph.db'), { total, batch: BATCH, sync });
    const result = await withServer({ dataDir: dir('server'), args, logFile: join(work, 'engine.log'), name: `engine-${key}` }, total);
    out[key] = { sync, args: extra, baseline, result, ratio: ratio(result.jobsPerSecond, baseline.jobsPerSecond) };
    print(label, baseline, result);
  }
  const names = [0, 1].map(() => `opencph_bench_${randomBytes(4).toString('hex')}`);
  try {
    for (const name of names) await pgAdmin(`create database ${name}`);
  } catch (err) {
    console.log(`  PostgreSQL: skipped (${err.message})`);
    return out;
  }
  try {
    const urlOf = (name) => Object.assign(new URL(PG_ADMIN), { pathname: `/${name}` }).toString();
    await createStore({ dataDir: join(work, 'engine-pg-baseline'), database: urlOf(names[0]), args: fleet, logFile: join(work, 'engine.log') });
    const baseline = await pgBaseline(urlOf(names[0]), { total, batch: BATCH });
    const result = await withServer({ dataDir: join(work, 'engine-pg'), database: urlOf(names[1]), args: fleet, logFile: join(work, 'engine.log'), name: 'engine-pg' }, total);
    out.postgres = { baseline, result, ratio: ratio(result.jobsPerSecond, baseline.jobsPerSecond) };
    print('PostgreSQL', baseline, result);
  } finally {
    for (const name of names) await pgAdmin(`drop database if exists ${name} with (force)`);
  }
  return out;
}

// `node bench/engine.mjs` (after `npm run build`): this benchmark alone, its figures as JSON on the last line.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const work = mkdtempSync(join(tmpdir(), 'opencph-bench-'));
  try {
    console.log(JSON.stringify(await engineBench({ work, quick: process.env.BENCH_QUICK === '1' })));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
