// `npm run bench`: every benchmark with its baseline measured in the same run.
// Results are printed and written to bench/results/latest.json. BENCH_QUICK=1 shortens every run
// (for trying the harness, not for figures); BENCH_PROFILE=<dir> makes the servers write CPU profiles;
// BENCH_ROUTES=listPhones,showJob measures only those read routes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ratio } from './lib/common.mjs';
import { ROOT } from './lib/proc.mjs';
import { engineBench } from './engine.mjs';
import { readBench } from './read.mjs';
import { snapshotBench } from './snapshots.mjs';

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
  results.snapshots = await snapshotBench({ work, quick });
} finally {
  rmSync(work, { recursive: true, force: true });
}
results.seconds = Math.round((Date.now() - started) / 1000);
results.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);

const { routes, scale, engine } = results;
const verdict = (ok) => (ok ? 'met' : 'NOT met');
results.targets = {};
console.log('\nTargets (each route against its floor, a one-route Fastify app answering the same bytes, in the same run)');
console.log(`  ${'route'.padEnd(34)} ${'req/s'.padStart(7)} ${'floor'.padStart(7)} ${'bare'.padStart(7)}  ratio  target   p99 ms  floor p99  ×p99  CPU µs/call (floor)`);
for (const [key, r] of Object.entries(routes)) {
  const met = r.ratio >= r.target && r.p99Ratio <= 2;
  results.targets[key] = { target: `≥ ${r.target} of the floor's req/s, p99 ≤ 2 × the floor's`, value: r.ratio, p99Ratio: r.p99Ratio, met };
  console.log(
    `  ${r.name.padEnd(34)} ${String(r.opencph.rps).padStart(7)} ${String(r.floor.rps).padStart(7)} ${String(r.bare.rps).padStart(7)}  ${r.ratio.toFixed(3)}  ≥ ${r.target.toFixed(2)}  ${r.opencph.p99.toFixed(2).padStart(6)}  ${r.floor.p99.toFixed(2).padStart(9)}  ${r.p99Ratio.toFixed(2).padStart(4)}  ${r.opencph.cpuMicrosPerCall ?? '?'} (${r.floor.cpuMicrosPerCall ?? '?'})   ${verdict(met)}`,
  );
}
if (routes.listJobs && routes.listJobsLimit) {
  const [a, b] = [routes.listJobs.opencph.rps, routes.listJobsLimit.opencph.rps];
  const forms = ratio(Math.min(a, b), Math.max(a, b));
  results.targets.listJobsForms = { target: 'the two ListJobs forms within 10% of each other', value: forms, met: forms >= 0.9 };
  console.log(`  The two ListJobs forms: the slower answered ${forms} of the faster's calls (≥ 0.9): ${verdict(forms >= 0.9)}`);
}
results.targets.scale = { target: 'p50 at 1M ≤ 1.25 × p50 at 1k', value: scale.ratio, met: scale.ratio <= 1.25 };
results.targets.engineSqlite = { target: '≥ 5,000 jobs/s', value: engine.sqlite.result.jobsPerSecond, met: engine.sqlite.result.jobsPerSecond >= 5000 };
console.log(`  Scale: ListJobs p50 at ${scale.storedJobs[1].toLocaleString('en')} jobs ${scale.ratio} × p50 at 1,000 (≤ 1.25): ${verdict(results.targets.scale.met)}`);
console.log(`  Engine on SQLite ${engine.sqlite.result.jobsPerSecond} jobs/s (≥ 5,000): ${verdict(results.targets.engineSqlite.met)}`);
const reset = results.snapshots.sqlite;
results.targets.resetSqlite = { target: 'a reset of the default fleet on SQLite ≤ 0.1 × a fresh start of the server', value: reset.resetOverFreshStart, met: reset.resetOverFreshStart <= 0.1 };
console.log(`  Reset of the default fleet on SQLite ${reset.medianMs.reset} ms, ${reset.resetOverFreshStart} × a fresh start (≤ 0.1): ${verdict(results.targets.resetSqlite.met)}`);

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nWhole run: ${results.seconds} s. Results in bench/results/latest.json`);
