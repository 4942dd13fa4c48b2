import { join, resolve } from 'node:path';
import { AUTH_MODES, type AuthMode } from './auth/authenticator.js';
import { DEFAULT_TIME_LIMITS, type TimeLimits } from './domain/limits.js';

/** Everything a node is configured with, from flags and OPENCPH_* environment variables. */
export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];
export const CLOCK_MODES = ['real', 'virtual'] as const;
export type ClockMode = (typeof CLOCK_MODES)[number];
export const FLEETS = ['sim', 'adb'] as const;
export type FleetKind = (typeof FLEETS)[number];

export interface Config {
  /** api: answers HTTP, runs no jobs; worker: runs jobs, no HTTP; all: both. */
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  /** A SQLite file path or a postgres:// URL. Default: <dataDir>/opencph.db. */
  database: string;
  /** PostgreSQL connections this process's pool keeps at most (a worker also holds one to LISTEN). */
  dbPoolSize: number;
  /** sim: simulated phones; adb: real devices behind adb servers, mapped by `opencph admin devices`. */
  fleet: FleetKind;
  /** adb fleet: the adb servers (`host:port`) this node's jobs and device watcher talk to. */
  adbServers: string[];
  /** The simulated fleet seeded on first start (none with the adb fleet). */
  servers: number;
  phonesPerServer: number;
  /** Base duration of a simulated operation in ms (0 = instant). */
  simDelayMs: number;
  /** Jobs this node runs at once. */
  concurrency: number;
  /**
   * Processes that answer HTTP on this host, sharing its port (node:cluster). Above 1, the process
   * started runs the jobs (role all) and looks after the others; see src/processes.ts.
   */
  apiProcesses: number;
  /** adb jobs (install, push, shell, …) that run at once on one server. */
  serverAdbConcurrency: number;
  /** The local stand-in for OBS: `obs://bucket/key` is `<obsDir>/bucket/key`. Default: <dataDir>/obs. */
  obsDir: string;
  leaseMs: number;
  pollMs: number;
  retentionDays: number;
  /** On SIGTERM, how long running jobs get to finish before they are handed back. */
  shutdownGraceMs: number;
  /** How long each kind of job may run before it fails with CPS.0904 (ms). */
  timeLimits: TimeLimits;
  /** HTTP: how long a client may take to send a request's headers, the whole request, and how long an idle connection stays open. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  logLevel: string;
  sqliteSync: 'FULL' | 'NORMAL';
  /** Record every simulated execution in the sim_runs table. */
  simJournal: boolean;
  /** Serve GET /metrics (Prometheus's text format) and count what it shows. */
  metrics: boolean;
  /** Serve the web console at /console (built by `npm run build` into dist/console). */
  console: boolean;
  /**
   * Also serve GET /metrics on this port, alone: for a node that answers no HTTP (role worker, and
   * the process that runs the jobs under --api-processes). Default: none.
   */
  metricsPort?: number;
  /** verify: AK/SK signatures and IAM tokens are checked; accept: any well-formed one is taken for the default project; off: no auth. */
  auth: AuthMode;
  /** real: the system clock; virtual: time moves only when told (POST /_opencph/v1/{project_id}/clock/advance). */
  clock: ClockMode;
  /** Virtual clock: where time starts (ISO 8601); default: where it stood when the store was last used, or now. */
  clockStart?: string;
  /** The identity seeded on first start (an empty database): account, user, password and access key. */
  defaultAccount: string;
  defaultUser: string;
  defaultPassword: string;
  defaultAk: string;
  defaultSk: string;
}

export { AUTH_MODES, type AuthMode };

export const DEFAULTS = {
  role: 'all',
  host: '127.0.0.1',
  port: 8780,
  dataDir: './.opencph',
  dbPoolSize: 10,
  fleet: 'sim',
  adbServers: ['127.0.0.1:5037'] as string[],
  servers: 2,
  phonesPerServer: 4,
  simDelayMs: 1000,
  concurrency: 64,
  apiProcesses: 1,
  serverAdbConcurrency: 1,
  leaseMs: 30_000,
  pollMs: 500,
  retentionDays: 30,
  shutdownGraceMs: 10_000,
  timeLimits: DEFAULT_TIME_LIMITS,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than the 60 s idle time-out common to load balancers: a proxy in front closes an idle
  // connection before we do, and never sends a call on one we are closing.
  keepAliveTimeoutMs: 72_000,
  logLevel: 'info',
  sqliteSync: 'FULL',
  simJournal: false,
  metrics: true,
  console: true,
  auth: 'verify',
  clock: 'real',
  defaultAccount: 'opencph',
  defaultUser: 'opencph-admin',
  defaultPassword: 'OpenCph#2026',
  defaultAk: 'EXAMPLEAK0000000001',
  defaultSk: 'ExampleSecretKey0000000000000000000000000',
} as const;

/**
 * Why this configuration cannot run a virtual clock, if it cannot: its time lives in one process,
 * so the node must be the only one running jobs and answering calls on its store.
 */
export function virtualClockRefusal(config: Pick<Config, 'clock' | 'role' | 'apiProcesses'>): string | undefined {
  if (config.clock !== 'virtual') return undefined;
  const why = 'a virtual clock lives in one process, so one node (role all, one API process) must answer the calls and run the jobs';
  if (config.role !== 'all') return `--clock virtual needs --role all: ${why}.`;
  if (config.apiProcesses > 1) return `--clock virtual takes no --api-processes above 1: ${why}.`;
  return undefined;
}

export function makeConfig(partial: Partial<Config> = {}): Config {
  const dataDir = resolve(partial.dataDir ?? DEFAULTS.dataDir);
  return {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
    dataDir,
    database: partial.database ?? join(dataDir, 'opencph.db'),
    obsDir: resolve(partial.obsDir ?? join(dataDir, 'obs')),
  } as Config;
}
