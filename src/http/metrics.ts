import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import type { Metric, Registry } from 'prom-client';

/** Latency buckets in seconds for a fast API: from half a millisecond (a cached read) to 5 s. */
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const NAME = 'opencph_http_request_duration_seconds';

/** One series: the calls to one route, with one method, answered with one status. */
class Series {
  /** Per bucket (the last one past every bound); cumulated when scraped, not per call. */
  readonly counts = new Float64Array(BOUNDS.length + 1);
  sum = 0;
  count = 0;
  constructor(readonly labels: { route: string; method: string; status: string }) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** The calls to one route and method, a series per status, made on the first call with that status. */
class RouteTimes {
  private readonly byStatus = new Map<number, Series>();
  constructor(
    private readonly all: Series[],
    private readonly route: string,
    private readonly method: string,
  ) {}

  observe(status: number, ms: number): void {
    let s = this.byStatus.get(status);
    if (s === undefined) {
      s = new Series({ route: this.route, method: this.method, status: String(status) });
      this.byStatus.set(status, s);
      this.all.push(s);
    }
    s.observe(ms / 1000);
  }
}

/**
 * The HTTP latency histogram, by route pattern (`/v1/:project_id/cloud-phone/jobs`, never the URL
 * with its ids), method and status. A prom-client metric of our own rather than a Histogram: a call
 * costs a map lookup and a few additions, with no label object to build and hash; the buckets are
 * cumulated when scraped. See decision 27.
 */
export class HttpTimes {
  private readonly series: Series[] = [];
  private readonly routes = new Map<string, RouteTimes>();

  /** The times of one route and method; one object per pair, made once when the route is added. */
  of(route: string, method: string): RouteTimes {
    const key = `${method} ${route}`;
    let r = this.routes.get(key);
    if (r === undefined) this.routes.set(key, (r = new RouteTimes(this.series, route, method)));
    return r;
  }

  /**
   * A call that matched no route, under the route `unmatched` (a pattern always starts with `/`); its
   * method is the client's, so any other than HTTP's own counts as OTHER.
   */
  observeUnmatched(method: string, status: number, ms: number): void {
    this.of('unmatched', KNOWN_METHODS.has(method) ? method : 'OTHER').observe(status, ms);
  }

  /** prom-client's metric interface: what the registry renders. */
  asMetric(): Metric {
    const get = () => ({
      name: NAME,
      help: 'HTTP calls answered by this node, by route pattern, method and status, and how long each took (from the request to the end of the answer).',
      type: 'histogram',
      aggregator: 'sum',
      values: this.series.flatMap((s) => {
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
        let acc = 0;
        BOUNDS.forEach((le, i) => {
          acc += s.counts[i]!;
          values.push({ metricName: `${NAME}_bucket`, labels: { ...s.labels, le }, value: acc });
        });
        values.push({ metricName: `${NAME}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
        values.push({ metricName: `${NAME}_sum`, labels: s.labels, value: s.sum });
        values.push({ metricName: `${NAME}_count`, labels: s.labels, value: s.count });
        return values;
      }),
    });
    const reset = () => {
      for (const s of this.series) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    };
    return { name: NAME, get, reset } as unknown as Metric;
  }
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/**
 * Times every route added from now on: each gets an onResponse hook of its own that knows its
 * pattern and method, so a call pays no lookup of its route. Register before the routes.
 */
export function timeRoutes(app: FastifyInstance, times: HttpTimes): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const byMethod = new Map(methods.map((m) => [m, times.of(route.url, m)]));
    const only = methods.length === 1 ? byMethod.get(methods[0]!)! : undefined;
    const hook = only
      ? (_req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
          only.observe(reply.statusCode, reply.elapsedTime);
          done();
        }
      : (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
          byMethod.get(req.method)?.observe(reply.statusCode, reply.elapsedTime);
          done();
        };
    const own = route.onResponse;
    route.onResponse = own === undefined ? [hook] : [...(Array.isArray(own) ? own : [own]), hook];
  });
}

/**
 * `GET /metrics`: the node's metrics in Prometheus's text format, without credentials (as the
 * health route): they name no project, phone or job, only routes, operations and error codes.
 */
export async function metricsRoutes(app: FastifyInstance, o: { registry: Registry }): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const text = await o.registry.metrics();
    return reply.type(o.registry.contentType).send(text);
  });
}
