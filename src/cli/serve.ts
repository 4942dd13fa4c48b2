import { Command, Option } from 'commander';
import { DEFAULTS, makeConfig, ROLES, virtualClockRefusal, type Config } from '../config.js';
import type { Logger } from 'pino';
import { passwordLogin } from '../domain/iam.js';
import type { Clock } from '../domain/time.js';
import { DEFAULT_PROJECT_ID, startNode } from '../runtime/node.js';
import { isApiProcess, startApiProcess, startApiProcesses } from '../runtime/processes.js';
import { authOption, clockConfig, clockOptions, fleetConfig, fleetOptions, countOrAuto, databaseOption, dataDirOption, httpTimeoutConfig, httpTimeoutOptions, identityConfig, identityOptions, int, timeLimitConfig, timeLimitOptions } from './options.js';

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('Start the CPH API server (and its job workers) on the embedded SQLite store or PostgreSQL.')
    .addOption(
      new Option('--role <role>', 'api: answer HTTP only; worker: run jobs only; all: both').choices(ROLES).env('OPENCPH_ROLE').default(DEFAULTS.role),
    )
    .addOption(new Option('--host <address>', 'address to listen on').env('OPENCPH_HOST').default(DEFAULTS.host))
    .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').env('OPENCPH_PORT').default(DEFAULTS.port).argParser(int('port', 0)))
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(
      new Option('--db-pool-size <n>', 'PostgreSQL: connections each process keeps open at most, at least 2 (a worker holds one more, to LISTEN)')
        .env('OPENCPH_DB_POOL_SIZE')
        .default(DEFAULTS.dbPoolSize)
        // Start-up holds one connection for its lock while it migrates and seeds through another.
        .argParser(int('db-pool-size', 2)),
    )
    .addOption(new Option('--servers <n>', 'simulated servers seeded on first start').env('OPENCPH_SERVERS').default(DEFAULTS.servers).argParser(int('servers', 0)))
    .addOption(
      new Option('--phones-per-server <n>', 'simulated phones per server seeded on first start')
        .env('OPENCPH_PHONES_PER_SERVER')
        .default(DEFAULTS.phonesPerServer)
        .argParser(int('phones-per-server', 0)),
    )
    .addOption(
      new Option('--sim-delay <ms>', 'base duration of a simulated operation: a restart takes 3×, a reset 5×, a server restart 8× (0 = instant)')
        .env('OPENCPH_SIM_DELAY')
        .default(DEFAULTS.simDelayMs)
        .argParser(int('sim-delay', 0)),
    )
    .addOption(
      new Option(
        '--api-processes <n>',
        'processes answering HTTP on the port, to use several cores ("auto": one per core it can use, a CPU quota counted); above 1, this process runs the jobs and restarts any that die',
      )
        .env('OPENCPH_API_PROCESSES')
        .default(DEFAULTS.apiProcesses)
        .argParser(countOrAuto('api-processes')),
    )
    .addOption(new Option('--concurrency <n>', 'jobs this node runs at once').env('OPENCPH_CONCURRENCY').default(DEFAULTS.concurrency).argParser(int('concurrency', 1)))
    .addOption(
      new Option('--server-adb-concurrency <n>', 'adb jobs (install, push, shell, …) that run at once on one server')
        .env('OPENCPH_SERVER_ADB_CONCURRENCY')
        .default(DEFAULTS.serverAdbConcurrency)
        .argParser(int('server-adb-concurrency', 1)),
    )
    .addOption(new Option('--obs-dir <dir>', 'local folder standing in for OBS, one folder per bucket (default: <data-dir>/obs)').env('OPENCPH_OBS_DIR'))
    .addOption(new Option('--retention-days <n>', 'days finished jobs are kept').env('OPENCPH_RETENTION_DAYS').default(DEFAULTS.retentionDays).argParser(int('retention-days', 1)))
    .addOption(new Option('--lease <ms>', 'how long a worker holds a job without renewing it').env('OPENCPH_LEASE_MS').default(DEFAULTS.leaseMs).argParser(int('lease', 100)))
    .addOption(
      new Option('--shutdown-grace <ms>', 'on SIGTERM, how long running jobs get to finish before they are handed back')
        .env('OPENCPH_SHUTDOWN_GRACE_MS')
        .default(DEFAULTS.shutdownGraceMs)
        .argParser(int('shutdown-grace', 0)),
    )
    .addOption(new Option('--poll <ms>', 'how often an idle worker looks for jobs (PostgreSQL nodes are also woken by notifications)').env('OPENCPH_POLL_MS').default(DEFAULTS.pollMs).argParser(int('poll', 10)))
    .addOption(new Option('--sim-journal', 'record every simulated execution (worker, job, start, end) in the sim_runs table').env('OPENCPH_SIM_JOURNAL'))
    .addOption(new Option('--no-console', 'do not serve the web console at /console').env('OPENCPH_NO_CONSOLE'))
    .addOption(new Option('--no-metrics', 'do not serve GET /metrics (Prometheus text format, no credentials needed)').env('OPENCPH_NO_METRICS'))
    .addOption(
      new Option('--metrics-port <port>', 'also serve GET /metrics alone on this port (for a worker node, or the job-running process of --api-processes)')
        .env('OPENCPH_METRICS_PORT')
        .argParser(int('metrics-port', 0)),
    )
    .addOption(new Option('--sqlite-sync <mode>', 'SQLite commit durability').choices(['FULL', 'NORMAL']).env('OPENCPH_SQLITE_SYNC').default(DEFAULTS.sqliteSync))
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).env('OPENCPH_LOG_LEVEL').default(DEFAULTS.logLevel))
    .addOption(authOption())
    .action(async (opts) => {
      const config = makeConfig({
        role: opts.role,
        pollMs: opts.poll,
        simJournal: Boolean(opts.simJournal),
        metrics: opts.metrics !== false,
        console: opts.console !== false,
        metricsPort: opts.metricsPort,
        host: opts.host,
        port: opts.port,
        dataDir: opts.dataDir,
        database: opts.database,
        dbPoolSize: opts.dbPoolSize,
        servers: opts.servers,
        phonesPerServer: opts.phonesPerServer,
        simDelayMs: opts.simDelay,
        concurrency: opts.concurrency,
        apiProcesses: opts.apiProcesses,
        serverAdbConcurrency: opts.serverAdbConcurrency,
        obsDir: opts.obsDir,
        retentionDays: opts.retentionDays,
        leaseMs: opts.lease,
        shutdownGraceMs: opts.shutdownGrace,
        timeLimits: timeLimitConfig(opts),
        sqliteSync: opts.sqliteSync,
        logLevel: opts.logLevel,
        auth: opts.auth,
        ...identityConfig(opts),
        ...httpTimeoutConfig(opts),
        ...clockConfig(opts),
        ...fleetConfig(opts),
      } satisfies Partial<Config>);
      const refusal = virtualClockRefusal(config);
      if (refusal) throw new Error(refusal);
      // Signals are handled from the start: one that comes while the node starts (migrations, API
      // processes coming up) stops it as soon as it is up, and the banner comes after.
      if (isApiProcess()) {
        // Started by a parent with --api-processes: it says when to stop (SIGTERM); a terminal's
        // Ctrl-C reaches the parent too. If the parent is gone, node:cluster ends this process.
        const shutdown = shutdownOn(['SIGTERM']);
        process.on('SIGINT', () => undefined);
        const node = await startApiProcess(config);
        shutdown.ready(node.log, () => node.close());
        return;
      }
      const shutdown = shutdownOn(['SIGTERM', 'SIGINT']);
      if (config.apiProcesses > 1) {
        const group = await startApiProcesses(config).catch((err: Error) => {
          // Ctrl-C while the API processes start reaches them too; that is a stop, not a failure.
          if (shutdown.requested()) process.exit(0);
          throw err;
        });
        if (shutdown.ready(group.log, () => group.close())) return;
        void group.failed.then(() => shutdown.stop('API processes keep exiting', 1));
        printBanner(group.url, config, `${config.apiProcesses} API processes (pids ${group.pids().join(', ')})${group.node ? `; jobs run in this one (pid ${process.pid})` : ''}`);
        return;
      }
      const node = await startNode(config);
      if (shutdown.ready(node.log, () => node.close())) return;
      if (node.url) printBanner(node.url, config, undefined, node.engine.deps.clock);
      else process.stdout.write(`OpenCPH worker ${node.owner} is running jobs from ${redact(config.database)}\n`);
    });
  for (const option of [...fleetOptions(), ...timeLimitOptions(), ...httpTimeoutOptions(), ...clockOptions(), ...identityOptions()]) cmd.addOption(option);
  return cmd;
}

/**
 * The first of `signals` stops the node, once; the process then exits with the code given (1 if
 * closing failed). A signal that comes before the node is `ready` is kept until it is; `ready`
 * answers whether the node is already stopping.
 */
function shutdownOn(signals: readonly NodeJS.Signals[]) {
  let node: { log: Logger; close: () => Promise<void> } | undefined;
  let requested: { why: string; code: number } | undefined;
  const run = () => {
    const { why, code } = requested!;
    node!.log.info({ signal: why }, 'shutting down');
    node!.close().then(
      () => process.exit(code),
      (err) => {
        node!.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (why: string, code = 0) => {
    if (requested) return;
    requested = { why, code };
    if (node) run();
  };
  for (const signal of signals) process.on(signal, () => stop(signal));
  return {
    stop,
    requested: () => requested !== undefined,
    ready(log: Logger, close: () => Promise<void>): boolean {
      node = { log, close };
      if (requested) run();
      return requested !== undefined;
    },
  };
}

/** A database URL without its credentials, for printing. */
function redact(database: string): string {
  return database.startsWith('postgres') ? database.replace(/\/\/[^@/]*@/, '//***@') : database;
}

function printBanner(url: string, config: Config, processes?: string, clock?: Clock): void {
  const store = redact(config.database);
  process.stdout.write(
    [
      '',
      `OpenCPH is listening on ${url}${config.role === 'api' ? ' (API only: jobs run on worker nodes)' : ''}`,
      ...(processes ? [`  processes:  ${processes}`] : []),
      `  store:      ${store}`,
      `  objects:    ${config.obsDir} (obs://bucket/path = <objects>/bucket/path)`,
      ...(config.fleet === 'adb' ? [`  fleet:      adb devices on ${config.adbServers.join(', ')} (map them with \`opencph admin devices add\`)`] : []),
      `  project id: ${DEFAULT_PROJECT_ID}`,
      `  API docs:   ${url}/docs`,
      ...(config.console ? [`  console:    ${url}/console`] : []),
      ...(clock?.mode === 'virtual' ? [`  clock:      virtual, at ${new Date(clock.now()).toISOString()}; POST ${url}/_opencph/v1/${DEFAULT_PROJECT_ID}/clock/advance moves it`] : []),
      ...authBanner(url, config),
      '',
    ].join('\n') + '\n',
  );
}

/**
 * Who can call, and how. The documented default secrets are printed; secrets set by flag or
 * environment are not (stdout often ends up in a log).
 */
function authBanner(url: string, config: Config): string[] {
  const phones = `${url}/v1/${DEFAULT_PROJECT_ID}/cloud-phone/phones`;
  if (config.auth === 'off') return [`  auth:       off (anyone may call)`, '', 'Try:', `  curl -s ${phones}`];
  const shown = (value: string, fallback: string, flag: string) => (value === fallback ? value : `(set by ${flag})`);
  const password = config.defaultPassword === DEFAULTS.defaultPassword ? config.defaultPassword : '<password>';
  const body = JSON.stringify(passwordLogin({ user: config.defaultUser, password, account: config.defaultAccount, project: { id: DEFAULT_PROJECT_ID } }));
  return [
    `  auth:       ${config.auth === 'accept' ? 'accept (any well-formed signature or token, for the default project)' : 'verify (AK/SK SDK-HMAC-SHA256 signatures, or X-Auth-Token)'}`,
    `  access key: ${config.defaultAk}`,
    `  secret key: ${shown(config.defaultSk, DEFAULTS.defaultSk, '--default-sk')}`,
    `  user:       ${config.defaultUser} (account ${config.defaultAccount}), password ${shown(config.defaultPassword, DEFAULTS.defaultPassword, '--default-password')}`,
    '  (created on the first start of an empty database; manage them with `opencph admin`)',
    '',
    'Try:',
    `  TOKEN=$(curl -sSf -o /dev/null -D - '${url}/v3/auth/tokens?nocatalog=true' -H 'Content-Type: application/json' \\`,
    `    -d '${body}' | tr -d '\\r' | awk 'tolower($1) == "x-subject-token:" { print $2 }')`,
    `  curl -sSf -H "X-Auth-Token: $TOKEN" ${phones}`,
  ];
}
