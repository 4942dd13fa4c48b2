import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas/common.js';

/** The event loop's delay is measured over whole seconds: each answer shows the last one. */
const WINDOW_MS = 1_000;

const delayFigures = { type: 'object', properties: { p50: { type: 'number' }, p99: { type: 'number' }, max: { type: 'number' } } } as const;

const healthResponse = {
  type: 'object',
  required: ['request_id', 'pid', 'uptime_s', 'rss_bytes', 'heap_used_bytes', 'event_loop_delay_ms', 'active_resources', 'active_resources_by_type'],
  properties: {
    request_id: { type: 'string' },
    pid: { type: 'integer' },
    uptime_s: { type: 'number' },
    rss_bytes: { type: 'integer' },
    heap_used_bytes: { type: 'integer' },
    event_loop_delay_ms: delayFigures,
    active_resources: { type: 'integer' },
    active_resources_by_type: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * `GET /_opencph/health`: how the process that answers is doing, read-only and without
 * credentials (it names no project and shows no data of one), for a load balancer's health check and
 * for watching a node under load (bench/soak.mjs): memory, the event loop's delay over the last
 * second, and the handles and requests that keep the process alive (what a leak of sockets or
 * timers grows). With `--api-processes` each process answers for itself.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let last = { p50: 0, p99: 0, max: 0 };
  const timer = setInterval(() => {
    last = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
    delay.reset();
  }, WINDOW_MS);
  timer.unref();
  app.addHook('onClose', (_app, done) => {
    clearInterval(timer);
    delay.disable();
    done();
  });

  app.get(
    '/_opencph/health',
    {
      schema: {
        operationId: 'Health',
        summary: "This process's memory, event-loop delay (last second) and active handles; no credentials needed",
        tags: ['opencph'],
        security: [],
        response: { 200: healthResponse, 500: errorResponses[500] },
      },
    },
    async (req) => {
      const resources = process.getActiveResourcesInfo();
      const byType: Record<string, number> = {};
      for (const r of resources) byType[r] = (byType[r] ?? 0) + 1;
      const memory = process.memoryUsage();
      return {
        request_id: req.id,
        pid: process.pid,
        uptime_s: Math.round(process.uptime() * 10) / 10,
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        event_loop_delay_ms: last,
        active_resources: resources.length,
        active_resources_by_type: byType,
      };
    },
  );
}
