import type { Clock } from '../domain/time.js';
import type { FleetEffects, PhoneRow, ServerRow } from '../store/fleet.js';

/** One job handed to a driver: the operation, its parameters, and the fleet rows it acts on. */
export interface DriverJob {
  jobId: string;
  operation: string;
  params: Record<string, unknown>;
  /** Set for phone jobs. */
  phone?: PhoneRow;
  /** The phone's server (phone jobs) or the target server (server jobs). */
  server?: ServerRow;
  /** Server jobs: every phone of the server. */
  serverPhones?: PhoneRow[];
}

export interface DriverContext {
  clock: Clock;
  /** The worker running the job (its lease owner). */
  worker: string;
  /** Aborted when the node shuts down past its grace period; a driver stops waiting and returns. */
  signal: AbortSignal;
  /** Record a transitional state (phone "restarting", server "starting") while the work runs. */
  transition(effects: FleetEffects): Promise<void>;
}

export interface DriverOutcome {
  ok: boolean;
  errorCode?: string;
  errorMsg?: string;
  /** Output of the operation (e.g. adb shell); cut to 1024 bytes by the engine. */
  executeMsg?: string;
  /** Fleet changes written in the same transaction that finishes the job. */
  effects?: FleetEffects;
}

/** A fleet backend: simulated phones, or real devices behind adb. */
export interface Driver {
  readonly name: string;
  run(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome>;
}
