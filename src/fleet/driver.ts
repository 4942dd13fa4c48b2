import type { Clock } from '../domain/time.js';
import type { EncodeServer, FleetEffects, Phone, Server } from '../domain/fleet.js';

/** One job handed to a driver: the operation, its parameters, and the phones and servers it acts on. */
export interface DriverJob {
  jobId: string;
  operation: string;
  params: Record<string, unknown>;
  /** Set for phone jobs. */
  phone?: Phone;
  /** The phone's server (phone jobs) or the target server (server jobs). */
  server?: Server;
  /** Server jobs: every phone of the server. */
  serverPhones?: Phone[];
  /** Set for encode-server jobs (their target); absent when it no longer exists. */
  encodeServer?: EncodeServer;
}

export interface DriverContext {
  /** The modelled world's time: every simulated duration is a `clock.sleep` under `signal`. */
  clock: Clock;
  /** The worker running the job (its lease owner). */
  worker: string;
  /**
   * Aborted when the job must stop: its time limit passed (the reason is a TimeLimitReached; the
   * driver answers with CPS.0904 and the output so far, see timedOutOutcome), or the node shuts down
   * past its grace period (any other reason; the driver may throw, the job is handed back).
   */
  signal: AbortSignal;
  /** Record a transitional state (phone "restarting", server "starting") while the work runs. */
  transition(effects: FleetEffects): Promise<void>;
  /**
   * `work`, with the job counted as waiting, not working, until it settles: for a wait on something
   * outside time (a release, another process). A virtual clock's advance goes on while every running
   * job waits; `clock.sleep` counts by itself.
   */
  waiting<T>(work: Promise<T>): Promise<T>;
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

/** The abort reason of a job stopped by its time limit. */
export class TimeLimitReached extends Error {
  constructor(readonly limitMs: number) {
    super(`the job ran longer than its limit of ${limitMs} ms`);
    this.name = 'TimeLimitReached';
  }
}

/** The time limit a job was stopped by, if that is why its signal aborted. */
export function timeLimitReached(signal: AbortSignal): TimeLimitReached | undefined {
  return signal.aborted && signal.reason instanceof TimeLimitReached ? signal.reason : undefined;
}
