import type { PhoneCommand, ShellCommand } from '../domain/commands.js';
import { CphError, Errors } from '../domain/errors.js';
import type { Driver } from '../fleet/driver.js';
import { notifyJobs } from '../store/notify.js';
import type { JobView } from '../store/jobs.js';
import type { EngineDeps } from './deps.js';
import { commandOperation, type OperationDef } from './operations.js';
import { EventHub } from './events.js';
import { startRetention } from './retention.js';
import { WebhookDeliverer } from './webhooks.js';
import type { Db } from '../store/db.js';
import { submitEncodeServerBatch, submitNewServerBatch, submitPhoneBatch, submitServerBatch, submitServerPhonesBatch, type PhoneTarget, type ServerTarget, type Submitted } from './submit.js';
import { runSyncCommand, type CommandTargets, type SyncCommandAnswer } from './syncCommands.js';
import { waitForJobs } from './wait.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface EngineOptions {
  /** Present on nodes that run jobs (role worker or all). */
  worker?: WorkerOptions & { driver: Driver };
  /** How long finished jobs are kept; without it this node purges nothing. */
  retentionMs?: number;
  /** Tells whoever runs this node's jobs elsewhere that there is new work (an API process's parent). */
  announce?: () => void;
  /** How often event streams and webhook delivery look for events without being told (EventHubOptions). */
  eventPollMs?: number;
}

/** The engine as the HTTP layer sees it: submit batches; jobs run in the background. */
export class Engine {
  readonly worker?: Worker;
  /** Wakes this node's event streams and webhook delivery. */
  readonly events: EventHub;
  /** Delivers webhooks; on nodes that run jobs. */
  readonly webhooks?: WebhookDeliverer;
  private stopRetention?: () => void;

  constructor(
    readonly deps: EngineDeps,
    private readonly options: EngineOptions,
  ) {
    // SQLite: one process writes, but API processes share the file and learn of its events by looking.
    this.events = new EventHub(deps, { pollMs: options.eventPollMs ?? (deps.dialect === 'sqlite' ? 200 : 2_000), keepAliveMs: 15_000 });
    if (options.worker) {
      this.worker = new Worker(deps, options.worker.driver, options.worker, () => this.events.wake());
      this.webhooks = new WebhookDeliverer(deps, this.events, { owner: options.worker.owner });
    }
  }

  start(): void {
    this.worker?.start();
    this.webhooks?.start();
    if (this.options.retentionMs !== undefined) this.stopRetention = startRetention(this.deps, this.options.retentionMs);
  }

  submitPhones(requestId: string, projectId: string, op: OperationDef, targets: readonly PhoneTarget[]): Promise<Submitted> {
    return submitPhoneBatch(this.deps, requestId, projectId, op, targets, this.submitted);
  }

  /** A phone batch addressed by server: every phone of each server gets a job with `params`. */
  submitServerPhones(
    requestId: string,
    projectId: string,
    op: OperationDef,
    serverIds: readonly string[],
    params: Record<string, unknown>,
    maxPhones?: number,
  ): Promise<Submitted> {
    return submitServerPhonesBatch(this.deps, requestId, projectId, op, serverIds, params, this.submitted, maxPhones);
  }

  /** The jobs once all have finished, or as they are when `deadline` (the clock's ms) passes. */
  waitForJobs(projectId: string, jobIds: readonly string[], deadline: number): Promise<JobView[]> {
    return waitForJobs(this.deps, projectId, jobIds, deadline);
  }

  /** An adb command: one job per phone, the listed phones or else every phone of the listed servers. */
  submitCommand(requestId: string, projectId: string, command: PhoneCommand, targets: CommandTargets, params: Record<string, unknown> = { command }, maxPhones?: number): Promise<Submitted> {
    const op = commandOperation(command.command);
    if (targets.phoneIds) return this.submitPhones(requestId, projectId, op, targets.phoneIds.map((phoneId) => ({ phoneId, params })));
    if (targets.serverIds) return this.submitServerPhones(requestId, projectId, op, targets.serverIds, params, maxPhones);
    throw new CphError(Errors.phoneIdsEmpty, 'Give phone_ids or server_ids.');
  }

  /** A shell command on a few phones, answered with each output (see runSyncCommand). */
  runSyncCommand(requestId: string, projectId: string, command: ShellCommand, targets: CommandTargets): Promise<SyncCommandAnswer> {
    return runSyncCommand(this.deps, projectId, command, targets, (params, maxPhones) => this.submitCommand(requestId, projectId, command, targets, params, maxPhones));
  }

  /** A batch on servers: one job per server, by id or with its own parameters. */
  submitServers(requestId: string, projectId: string, op: OperationDef, targets: readonly (string | ServerTarget)[]): Promise<Submitted> {
    return submitServerBatch(this.deps, requestId, projectId, op, targets, this.submitted);
  }

  /** A batch on encode servers: one job per encode server. */
  submitEncodeServers(requestId: string, projectId: string, op: OperationDef, encodeServerIds: readonly string[]): Promise<Submitted> {
    return submitEncodeServerBatch(this.deps, requestId, projectId, op, encodeServerIds, this.submitted);
  }

  /** Jobs on servers this call creates: `prepare` writes them in the jobs' own transaction. */
  submitNewServers(requestId: string, projectId: string, op: OperationDef, targets: readonly ServerTarget[], prepare: (trx: Db) => Promise<void>): Promise<Submitted> {
    return submitNewServerBatch(this.deps, requestId, projectId, op, targets, prepare, this.submitted);
  }

  /**
   * Replace a project's state (`fn`: a snapshot restore or reset) while this node's worker claims
   * nothing and runs none of the project's jobs; restored jobs that wait to run are announced after.
   */
  async replacingState<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await (this.worker ? this.worker.holding(projectId, fn) : fn());
    } finally {
      this.submitted();
    }
  }

  /** Something outside the jobs changed what may run (a fault's adb slots released): look again, as for new work. */
  wake(): void {
    this.submitted();
  }

  /** New work: this node's worker looks at once, other nodes' workers hear it on PostgreSQL. */
  private readonly submitted = () => {
    this.worker?.wake();
    this.events.wake();
    this.options.announce?.();
    notifyJobs(this.deps.db, this.deps.dialect).catch((err) => this.deps.log.warn({ err }, 'could not notify other nodes'));
  };

  /**
   * Resolves once this node's engine is quiet: what was submitted is claimed and launched, what
   * finished is written, and every running job waits (see Worker.settle). A virtual clock's advance
   * waits on it after each timer it fires.
   */
  async settle(): Promise<void> {
    if (this.worker) await this.worker.settle();
    else await new Promise((resolve) => setImmediate(resolve));
  }

  async stop(graceMs: number): Promise<void> {
    this.stopRetention?.();
    await this.worker?.stop(graceMs);
    await this.webhooks?.stop();
    this.events.close();
  }
}
