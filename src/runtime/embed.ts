import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OpenCphControl } from '../client/control.js';
import { DEFAULTS, makeConfig, type Config } from '../config.js';
import type { TimeLimits } from '../domain/limits.js';
import { isPostgresUrl } from '../store/db.js';
import { createLogger } from './log.js';
import { DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME, startNode } from './node.js';

/** How `startOpenCph` starts a server; every option has a default made for tests. */
export interface OpenCphOptions {
  /**
   * `'memory'` (default): nothing outlives `close()`: a SQLite database in a temporary directory
   * (with the objects directory), removed by `close()`. A SQLite file path: kept (its directory
   * holds the lock and the objects). A `postgres://` URL: that database, migrated on start and kept.
   */
  database?: 'memory' | string;
  /** The simulated fleet seeded on first start (default: 1 server of 4 phones). */
  fleet?: { servers?: number; phonesPerServer?: number };
  /**
   * `'real'` (default), or a virtual clock that moves only when told (`clock.advance`), starting at
   * `start` (default: the instant it persisted, or now on first start).
   */
  clock?: 'real' | { virtual: true; start?: string | Date };
  /** Base duration of a simulated operation in ms: a restart takes 3×, a reset 5×, a server restart 8× (default 50). */
  simDelayMs?: number;
  /** `'verify'` (default): AK/SK signatures and IAM tokens are checked, as on the cloud. */
  auth?: 'verify' | 'accept' | 'off';
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Log level of the server's JSON log lines on stdout (default `'silent'`). */
  logLevel?: 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** How long each kind of job may run before it fails with CPS.0904 (ms). */
  timeLimits?: Partial<Record<'shell' | 'install' | 'push' | 'uninstall' | 'operation', number>>;
}

/** A running server and typed handles on its test-control API for its default project. */
export interface OpenCph extends Pick<OpenCphControl, 'rules' | 'heldJobs' | 'faults' | 'clock' | 'snapshots' | 'events'> {
  /** `http://127.0.0.1:<port>`: the endpoint to give a CPH client. */
  endpoint: string;
  port: number;
  /** The default project's id, and its name (the region an SDK is built with). */
  projectId: string;
  region: string;
  /** The project's access key, and the IAM identity (account, user, password). */
  ak: string;
  sk: string;
  account: string;
  user: string;
  password: string;
  /** The local stand-in for OBS: `obs://bucket/key` is the file `<obsDir>/bucket/key`. */
  obsDir: string;
  /** The same handles as a client object, e.g. to pass around. */
  control: OpenCphControl;
  /** Stop the server (jobs still running are handed back, not awaited) and remove what `'memory'` made. */
  close(): Promise<void>;
}

const EMBEDDED_DEFAULTS = { servers: 1, phonesPerServer: 4, simDelayMs: 50 } as const;

/** The clock fields of the configuration, present only when a virtual clock is asked for. */
function clockConfig(clock: OpenCphOptions['clock']): Partial<Pick<Config, 'clock' | 'clockStart'>> {
  if (clock === undefined || clock === 'real') return {};
  const start = clock.start instanceof Date ? clock.start.toISOString() : clock.start;
  return start === undefined ? { clock: 'virtual' } : { clock: 'virtual', clockStart: start };
}

/**
 * Start an OpenCPH server in this process, on a free loopback port, with its own store, and answer
 * its endpoint, credentials and control handles. Several may run at once; each shares nothing.
 */
export async function startOpenCph(options: OpenCphOptions = {}): Promise<OpenCph> {
  const database = options.database ?? 'memory';
  const postgres = isPostgresUrl(database);
  // 'memory' and PostgreSQL: a directory of our own for the lock and the objects, removed on close.
  const temporary = database === 'memory' || postgres ? mkdtempSync(join(tmpdir(), 'opencph-')) : undefined;
  const dataDir = temporary ?? dirname(resolve(database));
  const config: Partial<Config> = {
    host: '127.0.0.1',
    port: options.port ?? 0,
    dataDir,
    database: database === 'memory' ? join(dataDir, 'opencph.db') : database,
    servers: options.fleet?.servers ?? EMBEDDED_DEFAULTS.servers,
    phonesPerServer: options.fleet?.phonesPerServer ?? EMBEDDED_DEFAULTS.phonesPerServer,
    simDelayMs: options.simDelayMs ?? EMBEDDED_DEFAULTS.simDelayMs,
    auth: options.auth ?? 'verify',
    logLevel: options.logLevel ?? 'silent',
    timeLimits: { ...DEFAULTS.timeLimits, ...options.timeLimits } as TimeLimits,
    // Nothing here must survive a power cut; a test's store is thrown away.
    sqliteSync: 'NORMAL',
    // One process, one store of its own: a small pool is plenty.
    dbPoolSize: postgres ? 4 : DEFAULTS.dbPoolSize,
    ...clockConfig(options.clock),
  };
  let node;
  try {
    node = await startNode(makeConfig(config), { logger: createLogger(config.logLevel!) });
  } catch (err) {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
    throw err;
  }
  const clock = node.engine.deps.clock;
  const c = node.config;
  const control = new OpenCphControl({
    endpoint: node.url,
    projectId: DEFAULT_PROJECT_ID,
    ak: c.defaultAk,
    sk: c.defaultSk,
    // Signed at the server's own time, so the handles keep working as a virtual clock moves.
    now: () => clock.now(),
  });
  let closing: Promise<void> | undefined;
  return {
    endpoint: node.url,
    port: node.port,
    projectId: DEFAULT_PROJECT_ID,
    region: DEFAULT_PROJECT_NAME,
    ak: c.defaultAk,
    sk: c.defaultSk,
    account: c.defaultAccount,
    user: c.defaultUser,
    password: c.defaultPassword,
    obsDir: c.obsDir,
    control,
    rules: control.rules,
    heldJobs: control.heldJobs,
    faults: control.faults,
    clock: control.clock,
    snapshots: control.snapshots,
    events: control.events,
    close: () =>
      (closing ??= (async () => {
        await node.close(0);
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      })()),
  };
}
