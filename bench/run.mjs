// `npm run bench`: every benchmark with its baseline measured in the same run.
// Results are printed and written to bench/results/latest.json. BENCH_QUICK=1 shortens every run
// (for trying the harness, not for figures); BENCH_PROFILE=<dir> makes the servers write CPU profiles.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ratio } from './lib/common.mjs';
import { ROOT } from './lib/proc.mjs';
import { engineBench } from './engine.mjs';
import { readBench } from './read.mjs';

const quick = process.env.BENCH_QUICK === '1';
const work = mkdtempSync(join(tmpdir(), 'opencph-bench-'));
const started = Date.now();

function machine() {
  const lscpu = (() => {
    try {
      return execFileSync('lscpu', { encoding: 'utf8' }).split('\n').slice(0, 10).join('\n');
    } catch {
      return '';
    }
  })();
  return { nproc: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`, lscpu };
}

// Another busy process on the machine skews every figure; the load average says whether there was one.
const results = { date: new Date().toISOString(), machine: machine(), quick, loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
try {
  Object.assign(results, await readBench({ work, quick }));
  results.engine = await engineBench({ work, quick });
} finally {
  rmSync(work, { recursive: true, force: true });
}
results.seconds = Math.round((Date.now() - started) / 1000);
results.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);

const { listJobs, listJobsReference, showJob, scale, engine } = results;

/**
 * The server CPU per call that 0.6 of the baseline would allow on this machine: the cores it may
 * use (a CPU quota counted), fully used, carry that many calls of the load generator (measured in
 * the same run) plus the server. An upper bound: processes taking turns on the cores lose some of it.
 */
function cpuBudget({ baseline, result }, cores) {
  if (result.cpuMicrosPerCall === undefined) return undefined;
  const callsPerSecond = Math.round(0.6 * baseline.rps);
  return { cores, callsPerSecond, loadCpuMicrosPerCall: result.loadCpuMicrosPerCall, serverMicrosPerCall: Math.round((cores * 1e6) / callsPerSecond - result.loadCpuMicrosPerCall) };
}
const verdict = (ok) => (ok ? 'met' : 'NOT met');
results.targets = {
  listJobsThroughput: { target: '≥ 0.6 of the baseline', value: listJobs.ratio, met: listJobs.ratio >= 0.6 },
  listJobsP99: { target: '≤ 10 ms', value: listJobs.result.p99, met: listJobs.result.p99 <= 10 },
  scale: { target: 'p50 at 1M ≤ 1.25 × p50 at 1k', value: scale.ratio, met: scale.ratio <= 1.25 },
  engineSqlite: { target: '≥ 5,000 jobs/s', value: engine.sqlite.result.jobsPerSecond, met: engine.sqlite.result.jobsPerSecond >= 5000 },
};
console.log('\nTargets');
console.log(`  ListJobs throughput ${listJobs.ratio} of the baseline (≥ 0.6): ${verdict(results.targets.listJobsThroughput.met)}`);
console.log(`  ListJobs p99 ${listJobs.result.p99} ms at ${results.connections} connections (≤ 10 ms): ${verdict(results.targets.listJobsP99.met)}`);
console.log(`  Scale: ListJobs p50 at ${scale.storedJobs[1].toLocaleString('en')} jobs ${scale.ratio} × p50 at 1,000 (≤ 1.25): ${verdict(results.targets.scale.met)}`);
console.log(`  Engine on SQLite ${engine.sqlite.result.jobsPerSecond} jobs/s (≥ 5,000): ${verdict(results.targets.engineSqlite.met)}`);
console.log(`  (ShowJob throughput ${showJob.ratio} of its baseline)`);
const budget = cpuBudget(listJobs, results.cores);
if (budget) {
  results.targets.listJobsThroughput.serverCpuBudget = budget;
  console.log(
    `  (0.6 of the baseline is ${budget.callsPerSecond} calls/s: on ${budget.cores} cores beside the load generator's ${budget.loadCpuMicrosPerCall} µs per call, ` +
      `that leaves the server at most ${budget.serverMicrosPerCall} µs per call; it used ${listJobs.result.cpuMicrosPerCall})`,
  );
}
console.log(
  `  (the same work behind bare node:http, bench/lib/lean.mjs: ${listJobsReference.ratio} of the baseline, p99 ${listJobsReference.result.p99} ms; ` +
    `OpenCPH answered ${ratio(listJobs.result.rps, listJobsReference.result.rps)} of its calls)`,
);
console.log(`  (read figures above: ${results.deployment}; as one process ListJobs is ${results.runs[0].listJobs.ratio} of the baseline, p99 ${results.runs[0].listJobs.result.p99} ms)`);

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nWhole run: ${results.seconds} s. Results in bench/results/latest.json`);
