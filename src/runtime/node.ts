import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { seedDefaultIdentity } from '../auth/admin.js';
import { virtualClockRefusal, type Config } from '../config.js';
import { newId, type IdGenerator } from '../domain/ids.js';
import { clockAt, parseIsoInstant, systemClock, type Clock } from '../domain/time.js';
import { VirtualClock } from '../domain/virtualClock.js';
import { readVirtualNow, writeVirtualNow } from '../store/clock.js';
import { Engine } from '../engine/engine.js';
import { androidState } from '../engine/androidState.js';
import type { Driver } from '../fleet/driver.js';
import { SimDriver } from '../fleet/sim/driver.js';
import { startAdbFleet, type AdbFleet } from '../fleet/adb/fleet.js';
import { deviceMap } from '../engine/deviceMap.js';
import { buildApp } from '../http/app.js';
import { authenticatorFor, type Authenticator } from '../auth/authenticator.js';
import { accessLogBeside, createAccessLog, createLogger, type AccessLog } from './log.js';
import { createNodeMetrics, serveMetrics } from './metrics.js';
import { httpUrl } from './net.js';
import { openDb, type DbHandle } from '../store/db.js';
import { expireLeasesOf } from '../store/jobs.js';
import { migrateToLatest, withStartupLock } from '../store/migrate.js';
import { listenForNotifications } from '../store/notify.js';
import { seedSimProject } from '../store/seed.js';
import { ensureFirstStartSnapshots } from '../store/snapshots.js';
import { endSimRun, startSimRun } from '../store/simRuns.js';
import { countProjects } from '../store/projects.js';
import { ensureCatalogue } from '../store/catalogue.js';

export const DEFAULT_PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const DEFAULT_PROJECT_NAME = 'cn-north-4';
export const VERSION = '0.1.0';

export interface RunningNode {
  /** The HTTP endpoint; empty on a worker-only node. */
  url: string;
  /** `--metrics-port`: where GET /metrics is served alone (`http://host:port/metrics`); absent without. */
  metricsUrl?: string;
  port: number;
  /** This node's identity on the leases it holds. */
  owner: string;
  config: Config;
  app?: FastifyInstance;
  engine: Engine;
  handle: DbHandle;
  log: Logger;
  /** Stop accepting requests, let running jobs finish (up to the grace period), close the store. */
  close(graceMs?: number): Promise<void>;
}

export interface NodeOverrides {
  logger?: Logger;
  /** The node's clock instead of config.clock's; one that only tells `now` waits as the system clock does. */
  clock?: Pick<Clock, 'now'> & Partial<Clock>;
  ids?: IdGenerator;
  authenticator?: Authenticator;
  /** The fleet backend that runs this node's jobs (default: the simulated fleet). */
  driver?: Driver;
  /**
   * Set in an API process of `serve --api-processes`: its parent has prepared the store, holds the
   * SQLite data dir and runs the jobs; new work is announced to it.
   */
  parent?: { announce(): void };
}

/**
 * A SQLite data directory belongs to one process at a time. The lock records our pid; a lock left
 * by a process that no longer exists (killed) is taken over.
 */
function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'opencph.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) throw new Error(`Another OpenCPH process (pid ${pid}) is using ${dir}.`);
      unlinkSync(path);
    }
  }
  throw new Error(`Could not lock ${dir}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** First start: the default project and its simulated fleet, in one transaction (the catalogue is written before). */
async function seedIfEmpty(handle: DbHandle, config: Config, clock: Clock, ids: IdGenerator, log: Logger): Promise<boolean> {
  if ((await countProjects(handle.db)) > 0) return false;
  const fleet = await seedSimProject(handle.db, {
    projectId: DEFAULT_PROJECT_ID,
    name: DEFAULT_PROJECT_NAME,
    // An adb fleet is declared device by device (`opencph admin devices add`): nothing simulated is seeded.
    servers: config.fleet === 'adb' ? 0 : config.servers,
    phonesPerServer: config.phonesPerServer,
    now: clock.now(),
    ids,
  });
  log.info({ projectId: DEFAULT_PROJECT_ID, servers: fleet.servers.length, phones: fleet.phones.length }, `seeded the default project${config.fleet === 'adb' ? '' : ' and its simulated fleet'}`);
  return true;
}

/**
 * Migrate, then seed what a first start seeds (fleet, default identity), one node at a time;
 * `opencph admin` does the same.
 */
export async function prepareStore(handle: DbHandle, config: Config, clock: Clock, ids: IdGenerator, log: Logger): Promise<void> {
  await withStartupLock(handle, async () => {
    const applied = await migrateToLatest(handle.db);
    if (applied.length) log.info({ migrations: applied }, 'database migrated');
    const written = await ensureCatalogue(handle.db);
    if (written) log.info({ entries: written }, 'wrote the catalogue: models and public images the store lacked');
    await seedIfEmpty(handle, config, clock, ids, log);
    // A store made before snapshots existed: its projects' first-start state is that of this start.
    const recorded = await ensureFirstStartSnapshots(handle.db, clock.now());
    if (recorded) log.info({ projects: recorded }, "recorded the projects' first-start state, which a reset restores");
    await seedDefaultIdentity(
      { db: handle.db, clock, ids, log },
      { account: config.defaultAccount, user: config.defaultUser, password: config.defaultPassword, ak: config.defaultAk, sk: config.defaultSk },
    );
  });
}

/** The clock a node runs on: an override, the system clock, or a virtual one (placed once the store is ready, see placeVirtualClock). */
function clockFor(config: Config, overrides: NodeOverrides): Clock {
  const given = overrides.clock;
  if (given) return 'sleep' in given && 'setTimer' in given && 'every' in given && 'mode' in given ? (given as Clock) : clockAt(() => given.now());
  if (config.clock !== 'virtual') return systemClock;
  const refusal = virtualClockRefusal(config);
  if (refusal) throw new Error(refusal);
  const start = config.clockStart === undefined ? Date.now() : parseIsoInstant(config.clockStart);
  if (start === undefined) throw new Error(`clockStart must be an ISO 8601 date-time with a zone, not "${config.clockStart}"`);
  return new VirtualClock(start);
}

/**
 * A virtual clock starts where `--clock-start` says, else where it stood when the store was last
 * used (else now); the instant is kept in the store after every advance.
 */
async function placeVirtualClock(clock: VirtualClock, db: DbHandle['db'], config: Config): Promise<void> {
  if (config.clockStart === undefined) {
    const kept = await readVirtualNow(db);
    if (kept !== undefined) clock.reset(kept);
  }
  await writeVirtualNow(db, clock.now());
  clock.onAdvanced = (now) => writeVirtualNow(db, now);
}

export async function startNode(config: Config, overrides: NodeOverrides = {}): Promise<RunningNode> {
  const log = overrides.logger ?? createLogger(config.logLevel);
  const clock = clockFor(config, overrides);
  const ids = overrides.ids ?? newId;
  const handle = openDb({
    url: config.database,
    sqliteSync: config.sqliteSync,
    poolSize: config.dbPoolSize,
    onIdleError: (err) => log.warn({ err }, 'an idle database connection failed; it will be replaced'),
  });
  const unlock = handle.dialect === 'sqlite' && !overrides.parent ? lockDataDir(config.dataDir) : () => undefined;
  try {
    if (!overrides.parent) await prepareStore(handle, config, clock, ids, log);
    if (clock instanceof VirtualClock) await placeVirtualClock(clock, handle.db, config);
    if (handle.dialect === 'sqlite' && !overrides.parent) {
      // We hold the data dir: whatever is still "running" belongs to a process that died.
      const orphaned = await expireLeasesOf(handle.db, null);
      if (orphaned) log.warn({ jobs: orphaned }, 'found jobs left running by a previous process; recovering them');
    }
  } catch (err) {
    unlock();
    await handle.close();
    throw err;
  }

  // The tail of an id: its head is the time, the same for nodes started in the same minute.
  const owner = `${process.pid}-${ids().slice(-8)}`;
  const metrics = config.metrics ? createNodeMetrics({ owner, db: handle.db, clock }) : undefined;
  const deps = { db: handle.db, dialect: handle.dialect, clock, ids, log, metrics: metrics?.engine };
  const runsJobs = config.role !== 'api';
  const journal = config.simJournal
    ? { start: (r: Parameters<typeof startSimRun>[1]) => startSimRun(handle.db, r), end: (id: number, at: number) => endSimRun(handle.db, id, at) }
    : undefined;
  const sim = () => new SimDriver({ delayMs: config.simDelayMs, state: androidState(handle.db), obsDir: config.obsDir, journal });
  const adb: AdbFleet | undefined =
    runsJobs && !overrides.driver && config.fleet === 'adb'
      ? startAdbFleet({ devices: deviceMap(handle.db), adbServers: config.adbServers, obsDir: config.obsDir, records: new SimDriver({ delayMs: 0, state: androidState(handle.db), obsDir: config.obsDir }), clock, log })
      : undefined;
  const engine = new Engine(deps, {
    worker: runsJobs
      ? {
          owner,
          driver: overrides.driver ?? adb?.driver ?? sim(),
          concurrency: config.concurrency,
          serverAdbConcurrency: config.serverAdbConcurrency,
          leaseMs: config.leaseMs,
          pollMs: config.pollMs,
          timeLimits: config.timeLimits,
        }
      : undefined,
    // The parent of API processes purges; its API processes need not race it for the write lock.
    retentionMs: overrides.parent ? undefined : config.retentionDays * 86_400_000,
    announce: overrides.parent?.announce,
  });
  // An advance goes on from one timer to the next once the jobs it set off have settled.
  if (clock instanceof VirtualClock) clock.settle = () => engine.settle();
  // One connection listens for both: other nodes' new jobs (for this node's worker) and events (for its streams and webhooks).
  const stopListening =
    handle.dialect === 'postgres'
      ? listenForNotifications(config.database, { jobs: runsJobs ? () => engine.worker?.wake() : undefined, events: () => engine.events.wake() }, log)
      : undefined;
  engine.start();

  let app: FastifyInstance | undefined;
  let access: AccessLog | undefined;
  let url = '';
  let port = 0;
  if (config.role !== 'worker') {
    const authenticator = overrides.authenticator ?? authenticatorFor(config.auth, { db: handle.db, sqlite: handle.sqlite, clock, log, onLockout: metrics?.onLockout }, DEFAULT_PROJECT_ID);
    if (config.auth !== 'verify') log.warn({ auth: config.auth }, 'credentials are not verified');
    access = overrides.logger ? accessLogBeside(log) : createAccessLog(log);
    const timeouts = { headersMs: config.headersTimeoutMs, requestMs: config.requestTimeoutMs, keepAliveMs: config.keepAliveTimeoutMs };
    app = await buildApp({ db: handle.db, sqlite: handle.sqlite, engine, authenticator, logger: log, accessLog: access, version: VERSION, timeouts, metrics, console: config.console ? undefined : false });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : config.port;
    url = httpUrl(config.host, port);
  }
  const metricsServer = metrics && config.metricsPort !== undefined ? await serveMetrics(metrics.registry, config.host, config.metricsPort) : undefined;
  const metricsUrl = metricsServer && `${httpUrl(config.host, metricsServer.port)}/metrics`;
  log.info({ role: config.role, owner, url: url || undefined, metrics: metricsUrl, store: handle.dialect }, 'node started');

  let closing: Promise<void> | undefined;
  const close = (graceMs = config.shutdownGraceMs) =>
    (closing ??= (async () => {
      // Calls in flight are answered first (see buildApp for their connections).
      await app?.close();
      await metricsServer?.close();
      access?.close();
      await engine.stop(graceMs);
      await adb?.stop();
      await stopListening?.();
      await handle.close();
      unlock();
      log.info('stopped');
    })());

  return { url, metricsUrl, port, owner, config, app, engine, handle, log, close };
}
