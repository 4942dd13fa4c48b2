import { EventStream, type EventStreamOptions, type OpenCphEvent, type WaitOptions } from './events.js';
import { Transport, type OpenCphCredentials } from './transport.js';

/**
 * A typed client of the test-control API, `/_opencph/v1/{project_id}` (README "Testing your code
 * against OpenCPH"), signing every request with the project's access key as the SDKs do. It works
 * against any OpenCPH server; `startOpenCph` hands one out for the server it starts.
 */

// ---------- rules ----------

export interface RuleMatch {
  /** The engine's name of the job: `phone.restart`, `phone.reset`, `phone.stop`, `phone.shell`, `server.restart`, … */
  operation: string;
  phone_id?: string;
  server_id?: string;
  /** A regular expression searched in an adb command's content. */
  command?: string;
  /** The next N matching jobs (absent: every one). */
  times?: number;
  /** The nth matching job from now (1-based). */
  nth?: number;
  /** Match with this probability (0 < p <= 1), decided by a generator seeded with `seed`. */
  probability?: number;
  seed?: number;
}

/** What a job does: as a rule's outcome, or as the outcome a held job is released with. */
export interface JobOutcome {
  fail?: { error_code: string; error_msg?: string; execute_msg?: string };
  /** An adb command's output and exit status (non-zero fails the job with CPS.0902). */
  output?: string;
  exit_status?: number;
  /** The status the job leaves its phone (or a server job: the server's phones) in. */
  phone_status?: number;
  server_status?: number;
}

export interface RuleOutcome extends JobOutcome {
  /** How long the job stays at status 1 (still under its time limit). */
  duration_ms?: number;
  /** The job stays at status 1 until released (heldJobs.release) or its time limit. */
  hang?: boolean;
  /** Refuse the target at submission: its batch item answers with this code and its job is written as failed. */
  refuse?: { error_code: string; error_msg?: string };
}

export interface NewRule {
  match: RuleMatch;
  outcome?: RuleOutcome;
}

export interface Rule {
  rule_id: string;
  match: RuleMatch;
  outcome: RuleOutcome;
  /** Uses left; null = every matching job. */
  remaining: number | null;
  /** How many jobs the rule decided. */
  matched: number;
  /** How many jobs met its match while it was in force (what `nth` and `probability` count). */
  seen: number;
  create_time: string;
}

export interface HeldJob {
  job_id: string;
  rule_id: string;
  operation: string;
  phone_id?: string;
  server_id?: string;
  since: string;
}

// ---------- faults ----------

export interface FaultsRequest {
  /** -7 abnormal, 6 frozen; back: 2 or 8. */
  phones?: { phone_id: string; status: number }[];
  /** 2 abnormal, 10 shut down, 8 frozen; back: 5. `stuck_adb_slots` 0–100 (0 releases). */
  servers?: { server_id: string; status?: number; stuck_adb_slots?: number }[];
}

export interface FaultedPhone {
  phone_id: string;
  server_id?: string;
  status?: number;
  update_time?: string;
  /** Set when the item was not applied (an unknown or another project's id). */
  error_code?: string;
  error_msg?: string;
}

export interface FaultedServer {
  server_id: string;
  status?: number;
  stuck_adb_slots?: number;
  update_time?: string;
  error_code?: string;
  error_msg?: string;
}

export interface Faults {
  phones: FaultedPhone[];
  servers: FaultedServer[];
}

// ---------- clock ----------

export interface ClockState {
  mode: 'real' | 'virtual';
  /** ISO 8601 with milliseconds, UTC. */
  now: string;
  now_ms: number;
}

/** Exactly one: milliseconds, a duration (`'1h30m'`, `'30m'`, `'45s'`, `'250ms'`), or an instant not before now. */
export type ClockAdvance = { by_ms: number } | { by: string } | { to: string | Date };

// ---------- snapshots ----------

export interface Snapshot {
  name: string;
  create_time: string;
  /** Rows the snapshot holds. */
  rows: number;
}

// ---------- the client ----------

export interface RulesHandle {
  create(rule: NewRule): Promise<Rule>;
  /** Oldest first: the order they are tried in. */
  list(): Promise<Rule[]>;
  delete(ruleId: string): Promise<void>;
  clear(): Promise<void>;
}

export interface HeldJobsHandle {
  /** Jobs a `hang` rule holds at status 1. */
  list(): Promise<HeldJob[]>;
  /** End a held job: with `outcome`, as it says; without, as a success. */
  release(jobId: string, outcome?: JobOutcome): Promise<void>;
}

export interface FaultsHandle {
  set(faults: FaultsRequest): Promise<Faults>;
  list(): Promise<Faults>;
  /** Every phone back to 2, every server to 5, slots released; answers what was cleared. */
  clear(): Promise<Faults>;
}

export interface ClockHandle {
  now(): Promise<ClockState>;
  /** Move a virtual clock; resolves once the work due up to the new instant has run. */
  advance(by: ClockAdvance): Promise<ClockState>;
}

export interface SnapshotsHandle {
  save(name: string): Promise<Snapshot>;
  list(): Promise<Snapshot[]>;
  restore(name: string): Promise<Snapshot>;
  delete(name: string): Promise<void>;
  /** Back to the project's first-start state (same phone and server ids). */
  reset(): Promise<void>;
}

export interface EventsHandle {
  /** A stream that connects at once; `await stream.ready` to know it is connected. */
  stream(options?: EventStreamOptions): EventStream;
  /** A stream, once connected: every event after this resolves is seen. */
  open(options?: EventStreamOptions): Promise<EventStream>;
  /**
   * The first event satisfying `predicate` on a stream opened for the purpose and closed after.
   * It sees events from when it is connected, or after `lastEventId`; to be sure to see the events
   * of an action, open a stream before it (`open`) and call the stream's own `waitFor`.
   */
  waitFor(predicate: (e: OpenCphEvent) => boolean, options?: WaitOptions & EventStreamOptions): Promise<OpenCphEvent>;
}

export class OpenCphControl {
  readonly rules: RulesHandle;
  readonly heldJobs: HeldJobsHandle;
  readonly faults: FaultsHandle;
  readonly clock: ClockHandle;
  readonly snapshots: SnapshotsHandle;
  readonly events: EventsHandle;

  constructor(credentials: OpenCphCredentials) {
    const t = new Transport(credentials);
    const base = `/_opencph/v1/${encodeURIComponent(credentials.projectId)}`;
    const call = <T>(method: string, path: string, body?: unknown) => t.call<T & { request_id: string }>(method, base + path, body);
    const seg = encodeURIComponent;
    const faults = (r: Faults) => ({ phones: r.phones, servers: r.servers });
    const clock = (r: ClockState) => ({ mode: r.mode, now: r.now, now_ms: r.now_ms });

    this.rules = {
      create: async (rule) => (await call<{ rule: Rule }>('POST', '/rules', rule)).rule,
      list: async () => (await call<{ rules: Rule[] }>('GET', '/rules')).rules,
      delete: async (ruleId) => void (await call('DELETE', `/rules/${seg(ruleId)}`)),
      clear: async () => void (await call('DELETE', '/rules')),
    };
    this.heldJobs = {
      list: async () => (await call<{ jobs: HeldJob[] }>('GET', '/held-jobs')).jobs,
      release: async (jobId, outcome) => void (await call('POST', `/jobs/${seg(jobId)}/release`, outcome === undefined ? {} : { outcome })),
    };
    this.faults = {
      set: async (f) => faults(await call<Faults>('POST', '/faults', f)),
      list: async () => faults(await call<Faults>('GET', '/faults')),
      clear: async () => faults(await call<Faults>('DELETE', '/faults')),
    };
    this.clock = {
      now: async () => clock(await call<ClockState>('GET', '/clock')),
      advance: async (by) => clock(await call<ClockState>('POST', '/clock/advance', 'to' in by && by.to instanceof Date ? { to: by.to.toISOString() } : by)),
    };
    this.snapshots = {
      save: async (name) => (await call<{ snapshot: Snapshot }>('POST', '/snapshots', { name })).snapshot,
      list: async () => (await call<{ snapshots: Snapshot[] }>('GET', '/snapshots')).snapshots,
      restore: async (name) => (await call<{ snapshot: Snapshot }>('POST', `/snapshots/${seg(name)}/restore`, {})).snapshot,
      delete: async (name) => void (await call('DELETE', `/snapshots/${seg(name)}`)),
      reset: async () => void (await call('POST', '/reset', {})),
    };
    const stream = (options?: EventStreamOptions) => new EventStream(t, options);
    this.events = {
      stream,
      open: async (options) => {
        const s = stream(options);
        await s.ready.catch((err: unknown) => {
          s.close();
          throw err;
        });
        return s;
      },
      waitFor: async (predicate, options = {}) => {
        const s = stream(options);
        try {
          return await s.waitFor(predicate, options);
        } finally {
          s.close();
        }
      },
    };
  }
}
