// `npm run bench`: every benchmark with its baseline measured in the same run.
// Results are printed and written to bench/results/latest.json. BENCH_QUICK=1 shortens every run
// (for trying the harness, not for figures); BENCH_PROFILE=<dir> makes the servers write CPU profiles.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
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

const results = { date: new Date().toISOString(), machine: machine(), quick };
try {
  Object.assign(results, await readBench({ work, quick }));
  results.engine = await engineBench({ work, quick });
} finally {
  rmSync(work, { recursive: true, force: true });
}
results.seconds = Math.round((Date.now() - started) / 1000);

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nWhole run: ${results.seconds} s. Results in bench/results/latest.json`);
