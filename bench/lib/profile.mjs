// Where a read route's server time goes: `node bench/lib/profile.mjs <BENCH_PROFILE dir> [top]`
// after `BENCH_PROFILE=<dir> node bench/run.mjs`. The read benchmark records the window of each
// route's measured load (windows.jsonl, µs of the monotonic clock the profiles use); the server's
// profile is cut to that window, and each sample's time goes to one group, found from the sampled
// frame up its stack: the first frame that belongs to something named below decides. Frames without
// a script (native calls, generated code) take their caller's group unless their name says more.
// Printed per route: µs per call by group (sampled time / calls answered; the samples are wall time
// of the main thread, so on a shared machine read the shares, and scale them to the server's CPU
// per call measured by /proc), and with [top] the costliest frames by self time.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GROUPS = ['signature', 'sqlite read', 'serialization', 'logging', 'fastify', 'validation', 'node http', 'gc', 'other'];

// In order: the first rule that matches a frame's script decides.
const BY_URL = [
  [/\/dist\/auth\/|node:internal\/crypto/, 'signature'],
  [/\/dist\/store\/|better-sqlite3|kysely/, 'sqlite read'],
  [/\/dist\/http\/wire\.js|fast-json-stringify|\/dist\/http\/schemas\//, 'serialization'],
  [/\/pino|sonic-boom|\/dist\/runtime\/log\.js|fast-redact|quick-format-unescaped|safe-stable-stringify/, 'logging'],
  [/\/ajv|fast-uri|\/dist\/http\/plugins\/validation\.js/, 'validation'],
  [/\/fastify\/|\/find-my-way\/|\/avvio\/|\/@fastify\/|light-my-request|\/fastq\/|\/toad-cache\/|\/process-warning\//, 'fastify'],
  [/node:_http_|node:http$|node:net$|node:internal\/stream|node:stream|node:internal\/streams|node:internal\/http|node:internal\/net/, 'node http'],
];

// Frames without a script whose name says what they are.
const BY_NAME = new Map([
  ['(garbage collector)', 'gc'],
  ['stringify', 'serialization'],
  ['writev', 'node http'],
  ['writeBuffer', 'node http'],
  ['writeUtf8String', 'node http'],
  ['writeLatin1String', 'node http'],
  ['execute', 'node http'], // llhttp's parser
  ['digest', 'signature'],
  ['update', 'signature'],
  ['timingSafeEqual', 'signature'],
]);

function groupOf(node, parent, nodes) {
  for (let n = node; n; n = nodes.get(parent.get(n.id))) {
    const { url, functionName } = n.callFrame;
    if (!url) {
      const named = BY_NAME.get(functionName);
      if (named) return named;
      if (functionName === '(program)' || functionName === '(root)') return 'other';
      // fast-json-stringify's and ajv's generated functions have no script; their names give them away.
      if (/^anonymous\d*$|^main$|^\$asString|^asString|^serialize/.test(functionName)) return 'serialization';
      if (/^validate\d+$/.test(functionName)) return 'validation';
      continue;
    }
    for (const [re, group] of BY_URL) if (re.test(url)) return group;
  }
  return 'other';
}

function frameName(n) {
  const { url, functionName, lineNumber } = n.callFrame;
  const file = url ? url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/') : '';
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/** Sampled µs per group (and per frame) of `profile` within [from, to). */
export function breakdown(profile, from, to) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const groups = Object.fromEntries(GROUPS.map((g) => [g, 0]));
  const frames = new Map();
  const cache = new Map();
  let t = profile.startTime;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < from || t >= to) continue;
    const node = nodes.get(profile.samples[i]);
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    let g = cache.get(node.id);
    if (g === undefined) cache.set(node.id, (g = groupOf(node, parent, nodes)));
    groups[g] += dt;
    const f = `${g}: ${frameName(node)}`;
    frames.set(f, (frames.get(f) ?? 0) + dt);
  }
  return { groups, frames, idle };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  const top = Number(process.argv[3] ?? 0);
  const windows = readFileSync(join(dir, 'windows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.cpuprofile'));
  const loaded = new Map();
  const rows = [];
  for (const w of windows) {
    const file = files.find((f) => new RegExp(`\\.${w.pid}\\.\\d+\\.\\d+\\.cpuprofile$`).test(f));
    if (!file) {
      console.error(`no profile of pid ${w.pid} (${w.route})`);
      continue;
    }
    if (!loaded.has(file)) loaded.set(file, JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const { groups, frames, idle } = breakdown(loaded.get(file), w.from, w.to);
    const total = Object.values(groups).reduce((a, b) => a + b, 0);
    rows.push({ route: w.route, requests: w.requests, perCall: Object.fromEntries(GROUPS.map((g) => [g, groups[g] / w.requests])), total: total / w.requests, idle: idle / w.requests });
    if (top) {
      console.log(`\n${w.route}: ${w.requests} calls, ${(total / w.requests).toFixed(1)} µs sampled per call`);
      for (const [f, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${(us / w.requests).toFixed(1).padStart(6)} µs  ${(100 * us / total).toFixed(1).padStart(5)}%  ${f}`);
    }
  }
  console.log(`\n${'route'.padEnd(12)} ${GROUPS.map((g) => g.padStart(13)).join('')}  ${'total'.padStart(7)}  (µs sampled per call; share of the total)`);
  for (const r of rows) {
    console.log(`${r.route.padEnd(12)} ${GROUPS.map((g) => `${r.perCall[g].toFixed(1)} ${String(Math.round((100 * r.perCall[g]) / r.total)).padStart(2)}%`.padStart(13)).join('')}  ${r.total.toFixed(1).padStart(7)}`);
  }
}
