import { Errors } from '../domain/errors.js';
import { Limits, MAX_TIMER_MS, type TimeLimits } from '../domain/limits.js';
import { truncateUtf8 } from '../domain/text.js';
import { TimeLimitReached, timeLimitReached, type Driver, type DriverContext, type DriverJob, type DriverOutcome } from '../fleet/driver.js';
import { timedOutOutcome } from '../fleet/outcome.js';
import { loadEncodeServers } from '../store/encodeServers.js';
import { applyEffects, applyEffectsOfMany, getPhonesOfServers, getServersByIds, loadPhones, type FleetEffects, type PhoneRow } from '../store/fleet.js';
import { claimJobs, finishJobs, holdsJob, renewLeases, type ClaimedJob, type JobResult, type JobRow } from '../store/jobs.js';
import type { Db } from '../store/db.js';
import type { Clock } from '../domain/time.js';
import type { EngineDeps } from './deps.js';
import { encodeServerOf, phoneOf, serverOf } from './fleetView.js';
import { ADB_OPERATIONS, operationByName } from './operations.js';
import { ruleOutcome, takeMatchingRule, type ActiveRule, type RuleOutcome } from './rules.js';
import { activeRules, dropHeldJob, holdJob, releasesOf } from '../store/rules.js';
import { takeEventTurn } from '../store/events.js';
import { recoverExpired, settleInterrupted } from './recovery.js';
import { pickRunnable } from './schedule.js';

/**
 * A job may carry `notAfter` (ms since the epoch): a sync command whose caller has stopped waiting
 * must not start afterwards. It fails instead of running.
 */
function tooLate(job: DriverJob, now: number): DriverOutcome | undefined {
  const notAfter = job.params.notAfter;
  if (typeof notAfter !== 'number' || now <= notAfter) return undefined;
  return { ok: false, errorCode: Errors.commandTimedOut.code, errorMsg: `${Errors.commandTimedOut.message} The call's time ran out before the command could start.` };
}

export interface WorkerOptions {
  /** This node's identity on the leases it holds. */
  owner: string;
  /** Jobs this worker runs at once (jobs of one phone never run together whatever this is). */
  concurrency: number;
  /** How long a claim lasts without renewal; a dead worker's jobs are taken up after this. */
  leaseMs: number;
  /** How often an idle worker looks for work submitted by other nodes. */
  pollMs: number;
  /** adb jobs that run at once on one server (CPH runs batch adb work one at a time per server). */
  serverAdbConcurrency: number;
  /** How long each kind of job may run before it fails with CPS.0904. */
  timeLimits: TimeLimits;
}

/**
 * Past its time limit a job gets this long to stop; a driver that is still running then is left
 * behind, and the job fails, so its phone and its server's adb slot are free for the next one.
 */
const ABANDON_AFTER_MS = 1_000;

/** What a claimed batch without rules runs with: no array made per batch. */
const NO_RULES: readonly ActiveRule[] = [];

/** `waiting` under the real clock: nothing to count. */
const asIs = <T>(work: Promise<T>): Promise<T> => work;

/** A running job's own timers, as cancel functions: its time limit and, past it, the abandon timer. */
interface JobTimers {
  limit?: () => void;
  abandon?: () => void;
}

/** The abort reason of a run whose project's state a restore or reset replaces: its result is dropped. */
export class Superseded extends Error {
  constructor() {
    super("the project's state was restored");
    this.name = 'Superseded';
  }
}

interface Run {
  controller: AbortController;
  projectId: string;
}

interface Finished {
  result: JobResult;
  effects?: FleetEffects;
  /** For the node's metrics: the job's operation and when it started (its claim, on the node's clock). */
  operation: string;
  startTime: number;
}

/**
 * Claims runnable jobs, runs them through the driver, and finishes them. Claims and finishes are
 * batched: one transaction takes every job that can start, one transaction ends every job that
 * finished since the last one, and takes the next jobs in the same go when it can (one commit, so
 * one fsync with --sqlite-sync FULL, per round of short jobs rather than two).
 */
export class Worker {
  private readonly running = new Map<number, Run>();
  private readonly settled = new Map<number, Promise<void>>();
  private finished: Finished[] = [];
  private flushChain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private tickScheduled = false;
  private ticking = false;
  private currentTick: Promise<void> = Promise.resolve();
  private tickAgain = false;
  /** Off after a flush that claimed failed: the retry only finishes, so a failing claim cannot hold finishes back. */
  private claimWithFlush = true;
  private flushing = false;
  private stopping = false;
  /** Callers of `holding`: while any is at work, no job is claimed. */
  private holds = 0;
  /** Jobs held by a rule (outcome.hang) on this worker: job id → the job's seq and what ends the wait on a release. */
  private readonly held = new Map<string, { seq: number; release: (outcome: RuleOutcome) => void }>();
  private heldCheck?: Promise<void>;
  private heldAgain = false;
  private timers: (() => void)[] = [];
  /**
   * Under a virtual clock: how many waits each running job is in (see waitingOn), and who waits for
   * this worker to settle. Under the real clock nothing is counted: no per-job cost.
   */
  private readonly tracking: boolean;
  private readonly waits = new Map<number, number>();
  private settleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: EngineDeps,
    private readonly driver: Driver,
    private readonly options: WorkerOptions,
    /** Called after a claim or a finish commits: its events are in the store. */
    private readonly committed: () => void = () => undefined,
  ) {
    this.tracking = deps.clock.mode === 'virtual';
  }

  get inFlight(): number {
    return this.running.size;
  }

  start(): void {
    // On the clock: a virtual clock runs each at most once per advance, and waits for it.
    const every = (ms: number, fn: () => unknown) => this.timers.push(this.deps.clock.every(fn, ms));
    every(this.options.pollMs, () => this.wake());
    every(Math.max(50, Math.floor(this.options.leaseMs / 3)), () => this.heartbeat());
    every(Math.max(100, Math.floor(this.options.leaseMs / 2)), () => this.recover());
    void this.recover();
    this.wake();
  }

  /**
   * Look for work now (called after a submit, and when a finish frees a phone; on PostgreSQL also
   * when another node notifies, and by the poll); a held job looks for its release at the same times.
   */
  wake(): void {
    if (this.stopping) return;
    if (this.held.size > 0) this.checkHeld();
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.currentTick = this.tick();
    });
  }

  private async tick(): Promise<void> {
    this.tickScheduled = false;
    this.ticking = true;
    try {
      const free = this.options.concurrency - this.running.size;
      if (free > 0 && !this.stopping && this.holds === 0) {
        const claimed = await this.deps.db.transaction().execute((trx) => this.claim(trx, free));
        if (claimed.length > 0) {
          this.committed();
          await this.launch(claimed);
          if (claimed.length === free) this.tickAgain = true;
        }
      }
    } catch (err) {
      this.deps.log.error({ err }, 'claiming jobs failed');
    } finally {
      this.endClaimTurn();
    }
  }

  /** A claim turn (a tick, or a flush that claimed) is over: a tick asked for meanwhile runs now. */
  private endClaimTurn(): void {
    this.ticking = false;
    if (this.tickAgain) {
      this.tickAgain = false;
      this.wake();
    }
    this.changed();
  }

  /**
   * The job is waiting, not working, until `work` settles: on a clock timer (its simulated
   * duration), or on something outside time (a hung job waiting for its release). A virtual clock's
   * advance goes on once every running job is waiting (see settle). Under the real clock it is `work`.
   */
  waitingOn<T>(seq: number, work: Promise<T>): Promise<T> {
    if (!this.tracking) return work;
    this.waits.set(seq, (this.waits.get(seq) ?? 0) + 1);
    this.changed();
    const done = () => {
      const n = this.waits.get(seq)! - 1;
      if (n > 0) this.waits.set(seq, n);
      else this.waits.delete(seq);
    };
    return work.then(
      (v) => {
        done();
        return v;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  /**
   * Resolves once this worker is quiet: no claim or finish is pending or running, and every running
   * job is waiting (waitingOn). What a finish frees is claimed and launched before that. The virtual
   * clock waits on it after each timer it fires; it polls nothing: it looks again when the worker's
   * state changes.
   */
  async settle(): Promise<void> {
    for (;;) {
      // Let what the last change set off run first (promise reactions, an immediate tick or flush).
      await new Promise((resolve) => setImmediate(resolve));
      if (this.quiet()) return;
      await new Promise<void>((resolve) => this.settleWaiters.push(resolve));
    }
  }

  private quiet(): boolean {
    if (this.tickScheduled || this.ticking || this.flushScheduled || this.flushing || this.finished.length > 0) return false;
    for (const seq of this.running.keys()) if (!this.waits.has(seq)) return false;
    return true;
  }

  /** Something settle looks at changed: let a waiting settle look again. */
  private changed(): void {
    if (this.settleWaiters.length > 0) for (const resolve of this.settleWaiters.splice(0)) resolve();
  }

  /** Take up to `max` runnable jobs, inside the caller's transaction. */
  private claim(trx: Db, max: number): Promise<ClaimedJob[]> {
    return claimJobs(trx, { owner: this.options.owner, max, now: () => this.deps.clock.now(), leaseMs: this.options.leaseMs, dialect: this.deps.dialect }, (active, n, stuckAdbSlots) =>
      pickRunnable(active, n, { adbOperations: ADB_OPERATIONS, serverAdbConcurrency: this.options.serverAdbConcurrency, stuckAdbSlots }),
    );
  }

  private async launch(claimed: ClaimedJob[]): Promise<void> {
    const phoneIds = claimed.filter((j) => j.phone_id !== null).map((j) => j.phone_id!);
    const isServerJob = (j: JobRow) => j.phone_id === null && j.encode_server_id === null;
    const serverJobIds = claimed.filter(isServerJob).map((j) => j.server_id!);
    const encodeServerIds = claimed.filter((j) => j.encode_server_id !== null).map((j) => j.encode_server_id!);
    const encodeServers = new Map((await loadEncodeServers(this.deps.db, encodeServerIds)).map((e) => [e.encode_server_id, e]));
    const phones = new Map((await loadPhones(this.deps.db, phoneIds)).map((p) => [p.phone_id, p]));
    const serverIds = [...serverJobIds, ...[...phones.values()].map((p) => p.server_id)];
    const servers = new Map((await getServersByIds(this.deps.db, serverIds)).map((s) => [s.server_id, s]));
    const serverPhones = new Map<string, PhoneRow[]>();
    for (const p of await getPhonesOfServers(this.deps.db, serverJobIds)) {
      serverPhones.set(p.server_id, [...(serverPhones.get(p.server_id) ?? []), p]);
    }
    // Scripted outcomes: the claim said which projects have rules; one query per claimed batch with some, none without.
    const withRules = claimed.filter((j) => j.has_rules === 1);
    const rules = withRules.length === 0 ? NO_RULES : await activeRules(this.deps.db, withRules.map((j) => j.project_id));
    for (const job of claimed) {
      const phone = job.phone_id ? phones.get(job.phone_id) : undefined;
      const serverId = phone?.server_id ?? job.server_id ?? undefined;
      const server = serverId ? servers.get(serverId) : undefined;
      const encodeServer = job.encode_server_id !== null ? encodeServers.get(job.encode_server_id) : undefined;
      const driverJob: DriverJob = {
        jobId: job.job_id,
        operation: job.operation,
        params: JSON.parse(job.params) as Record<string, unknown>,
        phone: phone && phoneOf(phone),
        server: server && serverOf(server),
        serverPhones: isServerJob(job) ? (serverPhones.get(job.server_id!) ?? []).map(phoneOf) : undefined,
        encodeServer: encodeServer && encodeServerOf(encodeServer),
      };
      const controller = new AbortController();
      this.running.set(job.seq, { controller, projectId: job.project_id });
      this.settled.set(job.seq, this.execute(job, driverJob, controller, rules.filter((r) => r.projectId === job.project_id)));
    }
  }

  /** The job's time limit: its kind's, or less when the job asks for less (a sync command's 2 s). */
  private timeLimitOf(job: DriverJob): number {
    const limit = this.options.timeLimits[operationByName(job.operation)?.timeLimit ?? 'operation'];
    const asked = job.params.timeoutMs;
    return Math.min(typeof asked === 'number' && asked > 0 ? asked : limit, limit, MAX_TIMER_MS);
  }

  private async execute(job: JobRow, driverJob: DriverJob, controller: AbortController, rules: readonly ActiveRule[]): Promise<void> {
    const limitMs = this.timeLimitOf(driverJob);
    const timers: JobTimers = {};
    let outcome: DriverOutcome;
    try {
      const early = tooLate(driverJob, this.deps.clock.now());
      const rule = early || rules.length === 0 ? undefined : await takeMatchingRule(this.deps.db, rules, driverJob, driverJob.server?.serverId ?? job.server_id ?? undefined);
      const run = rule ? (ctx: DriverContext) => this.scripted(rule, job, driverJob, ctx) : (ctx: DriverContext) => this.driver.run(driverJob, ctx);
      outcome = early ?? (await this.runDriver(job, controller, limitMs, timers, run));
    } catch (err) {
      const limit = timeLimitReached(controller.signal);
      if (limit) outcome = timedOutOutcome(limit.limitMs);
      else if (controller.signal.reason instanceof Superseded) {
        // Its row is gone with the state it belonged to: nothing of it is written.
        this.running.delete(job.seq);
        this.settled.delete(job.seq);
        this.changed();
        return;
      } else if (controller.signal.aborted) {
        // Shut down mid-run: hand the job back rather than report a failure it did not have.
        await settleInterrupted(this.deps, [job], { owner: this.options.owner }, 'the node running it shut down').catch((e) =>
          this.deps.log.error({ err: e, jobId: job.job_id }, 'handing back an interrupted job failed'),
        );
        this.running.delete(job.seq);
        this.settled.delete(job.seq);
        this.changed();
        return;
      } else {
        this.deps.log.error({ err, jobId: job.job_id }, 'driver failed');
        outcome = { ok: false, errorCode: Errors.internal.code, errorMsg: `${Errors.internal.message} ${(err as Error).message}` };
      }
    } finally {
      timers.limit?.();
      timers.abandon?.();
    }
    this.finished.push({
      result: {
        seq: job.seq,
        owner: this.options.owner,
        attempt: job.attempts,
        ok: outcome.ok,
        errorCode: outcome.errorCode ?? null,
        errorMsg: outcome.errorMsg ?? null,
        executeMsg: outcome.executeMsg === undefined ? null : truncateUtf8(outcome.executeMsg, Limits.executeMsgBytes),
        endTime: this.deps.clock.now(),
      },
      effects: outcome.effects,
      operation: job.operation,
      startTime: job.start_time ?? job.begin_time,
    });
    this.scheduleFlush();
  }

  /**
   * A job a rule matched: it takes the rule's time (on the clock, under the job's signal) and ends
   * as the rule says; a held one (outcome.hang) waits for its release and ends as the release says.
   * Under a virtual clock both waits count as waiting, not working (ctx.waiting, the job's clock).
   */
  private async scripted(rule: ActiveRule, job: JobRow, driverJob: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    if (rule.outcome.hang) {
      await holdJob(this.deps.db, { jobId: job.job_id, projectId: job.project_id, ruleId: rule.ruleId, attempt: job.attempts, since: this.deps.clock.now() });
      try {
        return ruleOutcome(await ctx.waiting(this.waitForRelease(job.job_id, job.seq, ctx.signal)), driverJob);
      } finally {
        await dropHeldJob(this.deps.db, job.job_id).catch((err) => this.deps.log.warn({ err, jobId: job.job_id }, 'could not drop a held job'));
      }
    }
    if (rule.outcome.duration_ms) await ctx.clock.sleep(rule.outcome.duration_ms, ctx.signal);
    return ruleOutcome(rule.outcome, driverJob);
  }

  /**
   * Wait, doing nothing, until the held job is released (its outcome) or the signal aborts (its time
   * limit, a shutdown). No timer of its own: the release is looked for on wake (the releasing node's
   * own call, a PostgreSQL notification from another node) and on every poll.
   */
  waitForRelease(jobId: string, seq: number, signal: AbortSignal): Promise<RuleOutcome> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.held.delete(jobId);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.held.set(jobId, {
        seq,
        release: (outcome) => {
          signal.removeEventListener('abort', onAbort);
          this.held.delete(jobId);
          resolve(outcome);
        },
      });
      // Released before the wait began (between the hold and now)?
      this.checkHeld();
    });
  }

  /** One query for every held job of this worker; asked again while it runs, it runs once more after. */
  private checkHeld(): void {
    if (this.heldCheck) {
      this.heldAgain = true;
      return;
    }
    this.heldCheck = (async () => {
      try {
        const released = await releasesOf(this.deps.db, [...this.held.keys()]);
        for (const [jobId, outcome] of released) this.held.get(jobId)?.release(outcome);
      } catch (err) {
        this.deps.log.warn({ err }, 'looking for released jobs failed');
      } finally {
        this.heldCheck = undefined;
        if (this.heldAgain) {
          this.heldAgain = false;
          if (this.held.size > 0) this.checkHeld();
        }
      }
    })();
  }

  /**
   * What `run` (the driver, or a scripted outcome) answers; once the job is past its time limit, at most ABANDON_AFTER_MS later. The
   * job's own timers (in `timers`, for the caller to clear when the job ends) do both: an
   * AbortSignal.timeout joined through AbortSignal.any is only weakly held on Node 20, so a garbage
   * collection can drop it and the job runs on; and starting the abandon timer from the limit's own
   * callback spares every job an abort listener to add and remove.
   */
  private runDriver(
    job: JobRow,
    controller: AbortController,
    limitMs: number,
    timers: JobTimers,
    run: (ctx: DriverContext) => Promise<DriverOutcome>,
  ): Promise<DriverOutcome> {
    const clock = this.deps.clock;
    const seq = job.seq;
    return new Promise((resolve, reject) => {
      timers.limit = clock.setTimer(() => {
        const reason = new TimeLimitReached(limitMs);
        controller.abort(reason);
        timers.abandon = clock.setTimer(() => reject(reason), ABANDON_AFTER_MS);
      }, limitMs);
      run({
        clock: this.tracking ? this.jobClock(seq) : clock,
        worker: this.options.owner,
        signal: controller.signal,
        transition: (effects) => this.transition(job, effects),
        waiting: this.tracking ? (work) => this.waitingOn(seq, work) : asIs,
      }).then(resolve, reject);
    });
  }

  /**
   * A transitional state, written only while this run still holds its job: a restore that replaced
   * the job meanwhile (on any node) wins. On PostgreSQL the job row stays locked until the write
   * commits, so a restore waits for it and then overwrites it.
   */
  private async transition(job: JobRow, effects: FleetEffects): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      // The event writers' turn before the job row's share lock: the status change's trigger takes
      // it anyway, and taken after that lock it could wait on a claim or finish that waits on the row.
      await takeEventTurn(trx, this.deps.dialect);
      if (await holdsJob(trx, this.deps.dialect, { seq: job.seq, owner: this.options.owner, attempt: job.attempts })) await applyEffects(trx, effects, this.deps.clock.now());
    });
  }

  /**
   * Run `fn` (a restore or reset of the project) with no job claimed meanwhile and none of the
   * project's jobs running here: their runs are aborted as superseded, and given up to
   * ABANDON_AFTER_MS (real time) to stop. Their results are dropped (their rows are gone), and the
   * restored jobs get new seqs, so a run that ignores its signal cannot finish one of them either.
   */
  async holding<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      // A claim under way launches what it took first, so those runs are seen below.
      await this.currentTick;
      await this.flushChain;
      const runs = [...this.running].filter(([, r]) => r.projectId === projectId);
      for (const [, r] of runs) r.controller.abort(new Superseded());
      const stopped = Promise.allSettled(runs.map(([seq]) => this.settled.get(seq)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, ABANDON_AFTER_MS)))]);
      clearTimeout(timer);
      return await fn();
    } finally {
      if (--this.holds === 0) this.wake();
    }
  }

  /** The clock a job sees under a virtual clock: its sleeps count as waiting (waitingOn). */
  private jobClock(seq: number): Clock {
    const clock = this.deps.clock;
    return {
      mode: clock.mode,
      now: () => clock.now(),
      sleep: (ms, signal) => this.waitingOn(seq, clock.sleep(ms, signal)),
      setTimer: (fn, ms) => clock.setTimer(fn, ms),
      every: (fn, ms) => clock.every(fn, ms),
    };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushChain = this.flushChain.then(() => this.flush());
    });
  }

  /**
   * Finish every job that completed since the last flush, with its fleet effects, in one
   * transaction; unless another claim is under way, claim the next jobs in it too.
   */
  private async flush(): Promise<void> {
    const batch = this.finished;
    if (batch.length === 0) return;
    this.finished = [];
    this.flushing = true;
    try {
      await this.finish(batch);
    } finally {
      this.flushing = false;
      this.changed();
    }
  }

  /** The flush's work on one batch; `flushing` is set around it, so the virtual clock waits for it. */
  private async finish(batch: Finished[]): Promise<void> {
    const now = this.deps.clock.now();
    // Claims take turns (`ticking`); a tick that wants to run meanwhile comes back via tickAgain.
    const claimHere = this.claimWithFlush && !this.ticking && !this.stopping && this.holds === 0;
    if (claimHere) this.ticking = true;
    try {
      let free = 0;
      let claimed: ClaimedJob[] = [];
      try {
        let finished = new Set<number>();
        const lost = await this.deps.db.transaction().execute(async (trx) => {
          finished = await finishJobs(trx, batch.map((f) => f.result));
          // Fleet effects only of the jobs this worker still held.
          await applyEffectsOfMany(trx, batch.filter((f) => f.effects && finished.has(f.result.seq)).map((f) => f.effects!), now);
          // The batch's slots are free again once this commits.
          free = this.options.concurrency - (this.running.size - batch.length);
          if (claimHere && free > 0 && !this.stopping) claimed = await this.claim(trx, free);
          return batch.filter((f) => !finished.has(f.result.seq)).map((f) => f.result.seq);
        });
        this.committed();
        if (lost.length) this.deps.log.warn({ seqs: lost }, 'lease lost before finishing; another worker owns these jobs');
        const metrics = this.deps.metrics;
        for (const f of batch) {
          this.running.delete(f.result.seq);
          this.settled.delete(f.result.seq);
          if (metrics && finished.has(f.result.seq)) metrics.finished(f.operation, f.result.ok, f.result.errorCode ?? null, f.result.endTime - f.startTime);
        }
        this.claimWithFlush = true;
      } catch (err) {
        this.deps.log.error({ err, jobs: batch.length }, 'finishing jobs failed; retrying');
        this.finished.unshift(...batch);
        this.claimWithFlush = false;
        setTimeout(() => this.scheduleFlush(), 200).unref();
        return;
      }
      if (!claimHere) {
        // Jobs that waited on these (same phone, same server) may start now.
        this.wake();
      } else if (claimed.length > 0) {
        try {
          await this.launch(claimed);
        } catch (err) {
          this.deps.log.error({ err }, 'claiming jobs failed');
        }
        if (claimed.length === free) this.tickAgain = true;
      }
    } finally {
      if (claimHere) this.endClaimTurn();
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const seqs = [...this.running.keys()];
      const held = await renewLeases(this.deps.db, this.options.owner, seqs, this.deps.clock.now() + this.options.leaseMs);
      // Jobs finished since the snapshot also drop out; anything else was taken over by another worker.
      if (held < seqs.filter((s) => this.running.has(s)).length) this.deps.log.warn({ held, running: seqs.length }, 'some leases were lost');
    } catch (err) {
      this.deps.log.error({ err }, 'renewing leases failed');
    }
  }

  private async recover(): Promise<void> {
    if (this.stopping) return;
    try {
      const { requeued } = await recoverExpired(this.deps, new Set(this.running.keys()));
      if (requeued) this.wake();
    } catch (err) {
      this.deps.log.error({ err }, 'recovering expired jobs failed');
    }
  }

  /**
   * Stop taking work; give running jobs `graceMs` to finish, then interrupt the rest and hand them
   * back (re-queued, or failed when they may not run twice). Nothing is left at status 1 and owned.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const cancel of this.timers) cancel();
    this.timers = [];
    // A claim in progress still launches what it took; wait for it so those jobs are accounted for.
    await this.currentTick;
    // A held job would wait out the grace for nothing: it is handed back at once.
    for (const { seq } of this.held.values()) this.running.get(seq)?.controller.abort();
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.settled.values()]), new Promise((r) => setTimeout(r, 50))]);
      // Finish what completed now: a flush left to setImmediate never runs while this loop only
      // awaits settled promises, and the loop would spin until the deadline.
      this.flushChain = this.flushChain.then(() => this.flush());
      await this.flushChain;
      await new Promise((r) => setImmediate(r));
    }
    for (const { controller } of this.running.values()) controller.abort();
    await Promise.allSettled([...this.settled.values()]);
    this.flushChain = this.flushChain.then(() => this.flush());
    await this.flushChain;
  }
}
