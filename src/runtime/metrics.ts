import { createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { OnLockout } from '../auth/lockout.js';
import { Errors } from '../domain/errors.js';
import type { Clock } from '../domain/time.js';
import type { EngineMetrics } from '../engine/deps.js';
import { operationByName } from '../engine/operations.js';
import type { Db } from '../store/db.js';
import { waitingJobs } from '../store/jobs.js';

/**
 * One node's metrics, served at `GET /metrics` (http/metrics.ts): a registry of its own rather than
 * prom-client's global one, so that several nodes in one process (tests, startOpenCph) each count
 * only their own work. Every series carries `node`, the node's owner id (as on its leases).
 * Labels are bounded: operations are the engine's, error codes the catalogue's (any other code, such
 * as one a rule invents, counts as `other`). See decision 27.
 */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly engine: EngineMetrics;
  readonly onLockout: OnLockout;
}

/** Job run-times, from seconds (a simulated restart) to an hour (a long install or export). */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

/**
 * `GET /metrics` alone on its own port (`--metrics-port`), for a node without an HTTP API: a bare
 * node:http server, so nothing of the API (auth, routes, its time-outs) comes with it.
 */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served here.\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${err.message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(Errors).map((e) => e.code));
/** A code for a label: the catalogue's, or `other`; a success has none (`none`). */
const codeLabel = (code: string | null): string => (code === null ? 'none' : KNOWN_CODES.has(code) ? code : 'other');
const operationLabel = (name: string): string => (operationByName(name) ? name : 'other');

/**
 * The process's own metrics (CPU, memory, event loop, GC), collected once per process: their
 * collectors (an event-loop monitor, a GC observer) cannot be stopped, so a node that closes must not
 * leave a set of its own behind. Every node's registry shows the same metric objects.
 */
let processMetrics: Registry | undefined;
function processMetricsRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export function createNodeMetrics(o: { owner: string; db: Db; clock: Pick<Clock, 'now'> }): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: o.owner });
  // getMetricsAsArray's type is what a metric renders to, but it returns the metric objects themselves.
  for (const metric of processMetricsRegistry().getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric);
  const registers = [registry];

  const submitted = new Counter({ name: 'opencph_jobs_submitted_total', help: 'Jobs written by batch calls this node answered, by operation.', labelNames: ['operation'], registers });
  const finished = new Counter({
    name: 'opencph_jobs_finished_total',
    help: 'Jobs ended, by operation and outcome (ok, failed) and error code (catalogue codes; other codes count as "other"): those this node ran, and those written failed by batch calls it answered.',
    labelNames: ['operation', 'outcome', 'error_code'],
    registers,
  });
  const runTime = new Histogram({
    name: 'opencph_job_run_seconds',
    help: 'How long jobs this node ran took, from their start to their end as its worker saw them, by operation.',
    labelNames: ['operation'],
    buckets: RUN_BUCKETS,
    registers,
  });
  const recoveries = new Counter({ name: 'opencph_lease_recoveries_total', help: 'Running jobs whose lease ran out, settled by this node: requeued or failed.', labelNames: ['outcome'], registers });
  const lockouts = new Counter({ name: 'opencph_lockouts_total', help: 'Lock-outs set after consecutive failures on this node: users (wrong passwords) and access keys (bad signatures).', labelNames: ['locked'], registers });

  // The queue is the store's, whichever node reads it: one query per scrape serves both gauges.
  let reading: Promise<{ waiting: number; oldest: number | null }> | undefined;
  const readQueue = () => (reading ??= waitingJobs(o.db).finally(() => (reading = undefined)));
  new Gauge({
    name: 'opencph_jobs_waiting',
    help: 'Jobs submitted and not yet started (all projects of the store).',
    registers,
    async collect() {
      this.set((await readQueue()).waiting);
    },
  });
  new Gauge({
    name: 'opencph_jobs_oldest_waiting_seconds',
    help: 'How long the oldest job not yet started has waited (0 when none waits).',
    registers,
    async collect() {
      const { oldest } = await readQueue();
      this.set(oldest === null ? 0 : Math.max(0, (o.clock.now() - oldest) / 1000));
    },
  });

  const engine: EngineMetrics = {
    submitted(operation, jobs, failedCodes) {
      const op = operationLabel(operation);
      submitted.inc({ operation: op }, jobs);
      for (const code of failedCodes) finished.inc({ operation: op, outcome: 'failed', error_code: codeLabel(code) });
    },
    finished(operation, ok, errorCode, runMs) {
      const op = operationLabel(operation);
      finished.inc({ operation: op, outcome: ok ? 'ok' : 'failed', error_code: ok ? 'none' : codeLabel(errorCode) });
      runTime.observe({ operation: op }, Math.max(0, runMs) / 1000);
    },
    recovered(requeued, failed) {
      if (requeued) recoveries.inc({ outcome: 'requeued' }, requeued);
      if (failed) recoveries.inc({ outcome: 'failed' }, failed);
    },
  };
  return { registry, engine, onLockout: (locked) => lockouts.inc({ locked }) };
}
