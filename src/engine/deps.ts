import type { Logger } from 'pino';
import type { IdGenerator } from '../domain/ids.js';
import type { Clock } from '../domain/time.js';
import type { Db } from '../store/db.js';
import type { DialectName } from '../store/dialect.js';

/** What every engine part needs; built once at start-up and passed down. */
export interface EngineDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** Where the engine counts what it does (the node's /metrics); absent, nothing is counted. */
  metrics?: EngineMetrics;
}

/** The engine's side of a node's metrics (runtime/metrics.ts): calls that only add to counters. */
export interface EngineMetrics {
  /** A batch was written: `jobs` jobs, of which those in `failedCodes` were written already failed. */
  submitted(operation: string, jobs: number, failedCodes: readonly string[]): void;
  /** A job this node ran was finished; `runMs` from its start (claim) to its end, on the node's clock. */
  finished(operation: string, ok: boolean, errorCode: string | null, runMs: number): void;
  /** Jobs whose lease ran out were settled: put back in the queue, or failed. */
  recovered(requeued: number, failed: number): void;
}
