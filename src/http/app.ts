import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { OnLockout } from '../auth/lockout.js';
import { CphError, Errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { Limits } from '../domain/limits.js';
import type { Engine } from '../engine/engine.js';
import { accessLogBeside, tenthsOfMs, type AccessLog } from '../runtime/log.js';
import type { Db, DbHandle } from '../store/db.js';
import { projectChecker, type Authenticator } from '../auth/authenticator.js';
import { controlRoutes } from '../control/routes.js';
import { BUILT_CONSOLE_DIR, consoleRoutes } from './console.js';
import { HttpTimes, metricsRoutes, timeRoutes } from './metrics.js';
import { registerAuth } from './plugins/auth.js';
import { registerJsonBody } from './plugins/body.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './plugins/errors.js';
import { registerValidation } from './plugins/validation.js';
import { bandwidthRoutes } from './routes/bandwidths.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { commandRoutes } from './routes/commands.js';
import { encodeServerRoutes } from './routes/encodeServers.js';
import { imageRoutes } from './routes/images.js';
import { healthRoutes } from './routes/health.js';
import { iamRoutes } from './routes/iam.js';
import { jobRoutes } from './routes/jobs.js';
import { phoneDataRoutes } from './routes/phoneData.js';
import { phoneExtraRoutes } from './routes/phoneExtras.js';
import { phoneRoutes } from './routes/phones.js';
import { serverLifecycleRoutes, serverOrderRoutes } from './routes/serverLifecycle.js';
import { serverRoutes } from './routes/servers.js';
import { shareRoutes } from './routes/share.js';
import { tagRoutes } from './routes/tags.js';
import type { RouteDeps, RoutePlugin } from './types.js';
import './types.js';

export interface AppOptions {
  db: Db;
  /** The raw SQLite connection (SQLite only): the job reads run prepared statements on it. */
  sqlite?: DbHandle['sqlite'];
  engine: Engine;
  authenticator: Authenticator;
  logger: Logger;
  /** Where the one line per request goes (see log.ts); by default beside `logger`. */
  accessLog?: AccessLog;
  version: string;
  /** How long a client may take to send a request, and keep an idle connection; see HttpTimeouts. */
  timeouts: HttpTimeouts;
  /** The node's metrics (runtime/metrics.ts): served at GET /metrics, with every call's time added; none without. */
  metrics?: { registry: Registry; onLockout?: OnLockout };
  /** Serve the web console at /console/ from these built files (by default the package's dist/console); false: not at all. */
  console?: string | false;
}

/** In milliseconds. A slow or idle client cannot hold a connection longer than these. */
export interface HttpTimeouts {
  /** From the start of a request to the end of its headers. */
  headersMs: number;
  /** From the start of a request to the end of its body. */
  requestMs: number;
  /** An idle connection between two requests. */
  keepAliveMs: number;
}

/** How paths are matched; the error handler's mirror of the route table matches the same way. */
const ROUTER_OPTIONS = { maxParamLength: 8192, ignoreTrailingSlash: true };

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    // Our own onResponse hook writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId(),
    bodyLimit: Limits.bodyBytes,
    // Ids in paths are at most 32 bytes; longer paths are still answered, in CPH's error format.
    routerOptions: ROUTER_OPTIONS,
    // Calls arriving while it closes are refused in CPH's format (see the onRequest hook), not Fastify's.
    return503OnClosing: false,
    // Time-outs: node:http answers 408 (clientErrorHandler) and closes the connection.
    requestTimeout: o.timeouts.requestMs,
    keepAliveTimeout: o.timeouts.keepAliveMs,
    http: {
      // node:http refuses a headers time-out longer than the request's.
      headersTimeout: Math.min(o.timeouts.headersMs, o.timeouts.requestMs),
      // How often node:http looks for requests past their time-outs (30 s by default, as long as a time-out).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(Math.min(o.timeouts.headersMs, o.timeouts.requestMs) / 4))),
    },
    // Answers made outside the request cycle, in CPH's format too.
    frameworkErrors,
    clientErrorHandler,
  });

  const checkProject = projectChecker(o.db);
  // Declared once, so that every request object has the same shape from the start rather than
  // growing these properties as the body parser and the auth hook set them.
  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('caller', undefined);
  // Before any route is added: each route gets its own timing hook (see timeRoutes).
  const times = o.metrics ? new HttpTimes() : undefined;
  if (o.metrics && times) {
    o.metrics.registry.registerMetric(times.asMetric());
    timeRoutes(app, times);
  }
  registerErrorHandling(app, ROUTER_OPTIONS);
  registerValidation(app);
  registerJsonBody(app, Limits.bodyBytes);

  // Closing (app.close()): a call still arriving is refused (503, in CPH's format, to be sent again),
  // and every answer says `Connection: close`. Fastify marks the refused ones itself; the onSend
  // hook is for calls in flight when the close began: their keep-alive connection is closed after
  // the answer rather than holding the close open until the client hangs up, and the client is
  // told not to send another call on it.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Callback hooks rather than async ones: these run on every request, and a promise each is not free.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('X-Request-Id', req.id);
    if (!closing) return done();
    reply.header('Retry-After', '1');
    done(new CphError(Errors.shuttingDown));
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });
  // One log line per request. It holds no credentials (method, path, status, time), so it skips the
  // redaction every other line goes through: that took half the cost of the line.
  const accessLog = o.accessLog ?? accessLogBeside(o.logger);
  const store = { db: o.db, sqlite: o.sqlite };
  app.addHook('onResponse', (req, reply, done) => {
    const ms = reply.elapsedTime;
    accessLog.write({ reqId: req.id, method: req.method, path: req.url, status: reply.statusCode, ms: tenthsOfMs(ms) });
    // Routes time themselves (timeRoutes); a call that matched none is timed here.
    if (times !== undefined && req.is404) times.observeUnmatched(req.method, reply.statusCode, ms);
    done();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'OpenCPH — CPH (Cloud Phone Host) API', version: o.version, description: 'A compatible implementation of the Huawei Cloud CPH API.' },
      components: {
        securitySchemes: {
          aksk: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…' },
          token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        },
      },
      security: [{ aksk: [] }, { token: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // IAM lives beside CPH, outside its project scope: these calls have no project in the path.
  await app.register(iamRoutes, { db: o.db, clock: o.engine.deps.clock, authenticator: o.authenticator, onLockout: o.metrics?.onLockout });
  await app.register(healthRoutes);
  if (o.console !== false) await app.register(consoleRoutes, { dir: o.console ?? BUILT_CONSOLE_DIR });
  if (o.metrics) await app.register(metricsRoutes, { registry: o.metrics.registry });

  // CPH's routes, each scope behind authentication and the project check. Most live under
  // /v1/{project_id}/cloud-phone; server orders under /v2 and /v2.1, tags under /v1/{project_id}/{resource_type}.
  const deps: RouteDeps = { store, engine: o.engine };
  const cphScope = (prefix: string, routes: RoutePlugin[]) =>
    app.register(
      async (scope) => {
        registerAuth(scope, o.authenticator, checkProject);
        for (const r of routes) await scope.register(r, deps);
      },
      { prefix },
    );
  await cphScope('/v1/:project_id/cloud-phone', [
    jobRoutes,
    phoneRoutes,
    phoneExtraRoutes,
    phoneDataRoutes,
    commandRoutes,
    serverRoutes,
    serverLifecycleRoutes,
    shareRoutes,
    catalogueRoutes,
    imageRoutes,
    encodeServerRoutes,
    bandwidthRoutes,
  ]);
  await cphScope('', [serverOrderRoutes, tagRoutes]);
  await cphScope('/_opencph/v1/:project_id', [controlRoutes]);
  return app;
}
