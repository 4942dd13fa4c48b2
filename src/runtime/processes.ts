import cluster, { type Worker as Child } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { Limits } from '../domain/limits.js';
import { createLogger } from './log.js';
import { isPostgresUrl } from '../store/db.js';
import { freePort, httpUrl } from './net.js';
import { startNode, type RunningNode } from './node.js';

/**
 * `serve --api-processes N`: N processes answer HTTP on one port (node:cluster hands each new
 * connection to the next one), so a host's cores all serve calls. The process started is their
 * parent: it prepares the store, holds the SQLite data dir and runs the jobs (role all) — the API
 * processes only read and submit, and tell it over the IPC channel when they submit. An API
 * process that dies is replaced; on SIGTERM the API processes stop first (in-flight calls are
 * answered), then the jobs get their grace period.
 */

const NEW_JOBS = 'opencph:new-jobs';
/** More unexpected exits than this within RESTART_WINDOW_MS: something is wrong; stop everything. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** A process that exited before it listened is started again after this pause, not in a tight loop. */
const RETRY_AFTER_FAILED_START_MS = 1000;
/** Set by the parent on its API processes; another cluster primary (pm2, say) does not set it. */
const PARENT_ENV = 'OPENCPH_PARENT_PID';
/** Set by the parent on its API processes: the port they listen on (with `--port 0`, the one it chose). */
const PORT_ENV = 'OPENCPH_PARENT_PORT';

/** Whether this process is an API process of a parent started with `--api-processes`. */
export const isApiProcess = (): boolean => cluster.isWorker && process.env[PARENT_ENV] === String(process.ppid);

/**
 * In an API process: an API node. Under a parent of role all, new work is announced to it (once
 * per turn of the event loop, however many batches came in); under one of role api (PostgreSQL)
 * it is a plain API node, as if started on its own.
 */
export function startApiProcess(given: Config): Promise<RunningNode> {
  const groupPort = process.env[PORT_ENV];
  // --metrics-port is the parent's: API processes on one port would answer it by turns.
  const config = { ...given, port: groupPort === undefined ? given.port : Number(groupPort), metricsPort: undefined };
  if (config.role !== 'all') return startNode({ ...config, role: 'api' });
  let pending = false;
  const announce = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (process.connected) process.send?.(NEW_JOBS);
    });
  };
  return startNode({ ...config, role: 'api' }, { parent: { announce } });
}

export interface ApiProcesses {
  url: string;
  /** The node running the jobs in this process (role all); none with --role api. */
  node?: RunningNode;
  log: Logger;
  pids(): number[];
  /** Stop the API processes, then this process's node. */
  close(): Promise<void>;
  /** Settles when the group gave up replacing API processes that keep dying. */
  failed: Promise<Error>;
}

/** Why a configuration cannot run several API processes, if it cannot. */
function apiProcessesProblem(config: Config): string | undefined {
  if (config.apiProcesses <= 1) return undefined;
  if (cluster.isWorker) return '--api-processes cannot start processes from a process that another cluster primary (pm2 -i, say) started; let that tool start them.';
  if (config.role === 'worker') return '--api-processes needs a role that answers HTTP (all or api).';
  if (config.role === 'api' && !isPostgresUrl(config.database)) return 'with SQLite, --api-processes needs --role all: one process holds the data dir and runs the jobs.';
  return undefined;
}

export async function startApiProcesses(config: Config): Promise<ApiProcesses> {
  const problem = apiProcessesProblem(config);
  if (problem) throw new Error(problem);
  const node = config.role === 'all' ? await startNode({ ...config, role: 'worker' }) : undefined;
  const log = node?.log ?? createLogger(config.logLevel);
  const children = new Set<Child>();
  /** The port every API process listens on: chosen just before they start, when --port is 0. */
  let groupPort = config.port;
  let stopping = false;
  let started = false;
  const restarts: number[] = [];
  let giveUp!: (err: Error) => void;
  const failed = new Promise<Error>((resolve) => (giveUp = resolve));

  const onMessage = (_child: Child, message: unknown) => {
    if (message === NEW_JOBS) node?.engine.worker?.wake();
  };
  cluster.on('message', onMessage);

  /**
   * A new API process; resolves once it listens, rejects if it exits first. Once the group has
   * started, every exit that was not asked for is counted and the process replaced.
   */
  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const child = cluster.fork({ [PARENT_ENV]: String(process.pid), [PORT_ENV]: String(groupPort) });
      children.add(child);
      let listening = false;
      child.once('listening', () => {
        listening = true;
        resolve();
      });
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (!listening) reject(new Error(`an API process exited while starting (${signal ?? `code ${code}`})`));
        if (started && !stopping) replace({ pid: child.process.pid, code, signal, whileStarting: !listening });
      });
    });

  const replace = (exit: { pid?: number; code: number; signal: string; whileStarting: boolean }) => {
    const now = Date.now();
    restarts.push(now);
    while (restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      log.fatal({ ...exit, restarts: restarts.length }, 'API processes keep exiting; giving up');
      giveUp(new Error('API processes keep exiting'));
      return;
    }
    log.error(exit, 'an API process exited; starting another');
    setTimeout(
      () => {
        // Its own exit, if it fails to start, is counted and handled like this one.
        if (!stopping) fork().catch(() => undefined);
      },
      exit.whileStarting ? RETRY_AFTER_FAILED_START_MS : 0,
    );
  };

  const stopChildren = async () => {
    const exits = [...children].map((child) => new Promise<void>((resolve) => (child.isDead() ? resolve() : child.once('exit', () => resolve()))));
    for (const child of children) child.process.kill('SIGTERM');
    // Long enough for the longest call to be answered (a sync command may take its whole limit).
    const timer = setTimeout(
      () => {
        for (const child of children) child.process.kill('SIGKILL');
      },
      Math.max(config.shutdownGraceMs, Limits.syncCommands.perCallMs) + 10_000,
    );
    await Promise.all(exits);
    clearTimeout(timer);
  };

  /** The API processes first (their calls in flight answered), then this process's node. */
  const stopAll = async () => {
    stopping = true;
    await stopChildren();
    cluster.off('message', onMessage);
    await node?.close();
  };

  try {
    // With --port 0 the port is chosen once, for every API process: node:cluster closes a port
    // when the last process listening on it exits, and replacements asking for any port would be
    // given a new one, not the one the banner shows. (Asking for the chosen port only after the
    // first start would not do: a replacement asking for it while the others hold it as "any
    // port" is refused.)
    if (groupPort === 0) groupPort = await freePort(config.host);
    await Promise.all(Array.from({ length: config.apiProcesses }, fork));
    started = true;
  } catch (err) {
    await stopAll();
    throw err;
  }
  const url = httpUrl(config.host, groupPort);
  log.info({ url, apiProcesses: [...children].map((c) => c.process.pid), jobsRunHere: node !== undefined }, 'API processes started');

  let closing: Promise<void> | undefined;
  return {
    url,
    node,
    log,
    failed,
    pids: () => [...children].map((c) => c.process.pid!),
    close: () =>
      (closing ??= stopAll().then(() => {
        // A node logs its own "stopped"; without one, the group says it.
        if (!node) log.info('stopped');
      })),
  };
}
