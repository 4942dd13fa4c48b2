// Part of `npm run bench`, or alone: `npm run build && node bench/snapshots.mjs`. What a snapshot save, a restore and a reset of the
// default fleet (2 servers × 4 phones) cost on the real server (`opencph serve`, --auth verify), on
// SQLite and on PostgreSQL, against two baselines measured in the same run on the same server: one
// ListCloudPhones call (the cheapest thing a test does between cases) and a fresh start of the
// server on a new store (what a test would do instead of a reset). BENCH_QUICK=1 shortens it.
// See bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CREDENTIALS, PROJECT, ratio, round, PG_ADMIN, pgAdmin } from './lib/common.mjs';
import { startServer } from './lib/proc.mjs';
import { signedHeaders } from './lib/sign.mjs';

const ARGS = ['--auth', 'verify', '--sim-delay', '0'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function call(base, method, path, body, query) {
  const url = new URL(base);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = signedHeaders({ method, path, query, body: text, host: url.host, ...CREDENTIALS });
  const qs = query ? '?' + new URLSearchParams(query).toString() : '';
  const res = await fetch(base + path + qs, { method, headers, body: text });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Milliseconds `fn` takes, as the client sees it. */
async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function waitForRequest(base, requestId) {
  for (;;) {
    const { jobs } = await call(base, 'GET', `/v1/${PROJECT}/cloud-phone/jobs`, undefined, { request_id: requestId });
    if (jobs.length > 0 && jobs.every((j) => j.status !== 1)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measure(label, { work, database, quick }) {
  const ROUNDS = quick ? 10 : 60;
  const STARTS = quick ? 2 : 5;
  const dir = (name) => join(work, `${label}-${name}`);
  const logFile = join(work, 'snapshots.log');
  // Baseline 2: a fresh start on a new store (migrate, seed the fleet, listen), as the client waits for it.
  const starts = [];
  for (let i = 0; i < STARTS; i++) {
    const db = database ? await database() : undefined;
    const t0 = Date.now();
    const s = await startServer({ dataDir: dir(`fresh-${i}`), database: db, args: ARGS, logFile, name: `${label}-fresh` });
    starts.push(Date.now() - t0);
    await s.stop();
  }
  const server = await startServer({ dataDir: dir('server'), database: database ? await database() : undefined, args: ARGS, logFile, name: label });
  const base = server.url;
  const ctl = `/_opencph/v1/${PROJECT}`;
  try {
    const { phones } = await call(base, 'GET', `/v1/${PROJECT}/cloud-phone/phones`);
    // What the saved state holds beyond the fleet: a restart of every phone, finished.
    const { request_id } = await call(base, 'POST', `/v1/${PROJECT}/cloud-phone/phones/batch-restart`, { phones: phones.map((p) => ({ phone_id: p.phone_id })) });
    await waitForRequest(base, request_id);
    const saved = await call(base, 'POST', `${ctl}/snapshots`, { name: 'bench' });
    const times = { listPhones: [], save: [], restore: [], reset: [] };
    for (let i = 0; i < ROUNDS + 5; i++) {
      const keep = i >= 5;
      const t = {
        listPhones: await timed(() => call(base, 'GET', `/v1/${PROJECT}/cloud-phone/phones`)),
        save: await timed(() => call(base, 'POST', `${ctl}/snapshots`, { name: 'bench' })),
      };
      // A change for the restore to undo: a phone renamed.
      await call(base, 'PUT', `/v1/${PROJECT}/cloud-phone/phones/${phones[i % phones.length].phone_id}`, { phone_name: `renamed-${i}` });
      t.restore = await timed(() => call(base, 'POST', `${ctl}/snapshots/bench/restore`));
      t.reset = await timed(() => call(base, 'POST', `${ctl}/reset`));
      if (keep) for (const k of Object.keys(times)) times[k].push(t[k]);
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, round(median(xs), 2)]));
    const fresh = median(starts);
    const out = { rows: saved.snapshot.rows, medianMs: { ...m, freshStart: fresh }, resetOverListPhones: ratio(m.reset, m.listPhones), restoreOverListPhones: ratio(m.restore, m.listPhones), resetOverFreshStart: ratio(m.reset, fresh) };
    console.log(`  ${label} (a snapshot of ${saved.snapshot.rows} rows; medians of ${ROUNDS} rounds, ${STARTS} fresh starts)`);
    console.log(`    ListCloudPhones (baseline)   ${String(m.listPhones).padStart(8)} ms`);
    console.log(`    save                         ${String(m.save).padStart(8)} ms   ${ratio(m.save, m.listPhones)} × ListCloudPhones`);
    console.log(`    restore                      ${String(m.restore).padStart(8)} ms   ${out.restoreOverListPhones} × ListCloudPhones`);
    console.log(`    reset                        ${String(m.reset).padStart(8)} ms   ${out.resetOverListPhones} × ListCloudPhones, ${out.resetOverFreshStart} × a fresh start`);
    console.log(`    fresh start (baseline)       ${String(fresh).padStart(8)} ms`);
    return out;
  } finally {
    await server.stop();
  }
}


/** Save, restore and reset of the default fleet on SQLite and PostgreSQL, with their baselines; `work` is a scratch dir. */
export async function snapshotBench({ work, quick }) {
  const results = {};
  const created = [];
  try {
    console.log('Snapshots of the default fleet: save, restore, reset, against ListCloudPhones and a fresh start');
    results.sqlite = await measure('SQLite', { work, quick });
    const database = async () => {
      const name = `opencph_bench_${randomBytes(4).toString('hex')}`;
      await pgAdmin(`create database ${name}`);
      created.push(name);
      return Object.assign(new URL(PG_ADMIN), { pathname: `/${name}` }).toString();
    };
    try {
      results.postgres = await measure('PostgreSQL', { work, database, quick });
    } catch (err) {
      console.log(`  PostgreSQL: skipped (${err.message})`);
    }
  } finally {
    for (const name of created) await pgAdmin(`drop database if exists ${name} with (force)`).catch(() => undefined);
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const work = mkdtempSync(join(tmpdir(), 'opencph-bench-snapshots-'));
  try {
    console.log(JSON.stringify(await snapshotBench({ work, quick: process.env.BENCH_QUICK === '1' })));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
