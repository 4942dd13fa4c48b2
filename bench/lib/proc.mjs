import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort as freePortOn } from '../../dist/runtime/net.js';

/** A free port on the loopback address, where every server of the bench listens. */
const freePort = () => freePortOn('127.0.0.1');

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');

/** Wait until something answers HTTP on `url`. */
async function ready(url, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listening on ${url} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** Children still running: a benchmark that fails half-way leaves no server behind. */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Run a node script as a child process with its output in `logFile`. With BENCH_PROFILE=<dir> the
 * child writes a V8 CPU profile there when it exits.
 */
async function runChild(script, args, { logFile, env = {}, port, name }) {
  const out = openSync(logFile, 'a');
  // A folder per run: node:cluster's API processes inherit the flags, and each writes its own file (named by pid).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_PROFILE, `${name}-${Date.now()}`)}`] : [];
  const child = spawn(process.execPath, [...profile, script, ...args], { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  closeSync(out);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const url = `http://127.0.0.1:${port}`;
  await ready(url, child);
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `opencph serve` as a child process on a free port. */
export async function startServer({ dataDir, database, args = [], logFile, name = 'opencph' }) {
  const port = await freePort();
  const db = database ? ['--database', database] : [];
  return runChild(CLI, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...db, ...args], { logFile, port, name });
}

/** A fresh store as a first start leaves it: migrated, with the default project and its fleet. */
export async function createStore(options) {
  const server = await startServer(options);
  await server.stop();
}

/** The baseline: a bare node:http server answering every request with the given bytes. */
export async function startBare({ bodyFile, headers, logFile }) {
  const port = await freePort();
  return runChild(join(ROOT, 'bench/lib/bare.mjs'), [String(port), bodyFile, JSON.stringify(headers)], { logFile, port, name: 'bare' });
}

/** The framework's floor (floor.mjs): a one-route Fastify app answering every call on `route` with the given bytes. */
export async function startFloor({ route, bodyFile, headers, logFile }) {
  const port = await freePort();
  return runChild(join(ROOT, 'bench/lib/floor.mjs'), [String(port), route, bodyFile, JSON.stringify(headers)], { logFile, port, name: 'floor' });
}
